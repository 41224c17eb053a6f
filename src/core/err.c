/* err.c: error messages and the abort path for broken invariants. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fr_fail(fr_err *e, int code, const char *fmt, ...) {
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int fr_wrap(fr_err *e, int code, const char *fmt, ...) {
    if (e) {
        char prefix[256], old[sizeof e->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, e->msg, sizeof old);
        size_t n = strlen(prefix);
        if (n > sizeof e->msg - 3) n = sizeof e->msg - 3;
        memcpy(e->msg, prefix, n);
        e->msg[n] = ':';
        e->msg[n + 1] = ' ';
        size_t rest = sizeof e->msg - n - 2;
        strncpy(e->msg + n + 2, old, rest - 1);
        e->msg[sizeof e->msg - 1] = 0;
    }
    return code;
}

void fr_abort(const char *file, int line, const char *expr) {
    fprintf(stderr, "frugal: internal error at %s:%d: %s\n", file, line, expr);
    abort();
}

static void *oom(size_t n) {
    fprintf(stderr, "frugal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *fr_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    return p ? p : oom(n);
}

void *fr_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    return p ? p : oom(n * size);
}

void *fr_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    return q ? q : oom(n);
}

char *fr_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(fr_xmalloc(n), s, n);
}
