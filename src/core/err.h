/* err.h: the error convention. A fallible function returns 0 on success or a negative
 * FR_E* code, and writes a one-line message into a caller-owned fr_err. Programmer errors
 * (broken invariants) abort through FR_ASSERT with file:line. */
#ifndef FR_ERR_H
#define FR_ERR_H

#include <stddef.h>

#include "frugal.h" /* FR_E* codes and fr_err */

/* Formats msg into e (if e is non-NULL) and returns code, so callers write
 * `return fr_fail(e, FR_EFORMAT, "tensor '%s': ...", name);` */
int fr_fail(fr_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (adds context while unwinding). */
int fr_wrap(fr_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void fr_abort(const char *file, int line, const char *expr) __attribute__((noreturn));
#define FR_ASSERT(x) ((x) ? (void)0 : fr_abort(__FILE__, __LINE__, #x))

/* Allocation helpers that abort on OOM for small bookkeeping structures only.
 * Large buffers (weights, KV cache, activations) use plain malloc and report FR_ENOMEM. */
void *fr_xmalloc(size_t n);
void *fr_xcalloc(size_t n, size_t size);
void *fr_xrealloc(void *p, size_t n);
char *fr_xstrdup(const char *s);

#endif
