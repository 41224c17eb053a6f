/* jinja.h: a Jinja interpreter for chat templates (untrusted input).
 *
 * It renders the templates published with open-weight models (tokenizer.chat_template) the
 * way @huggingface/jinja does, with HF transformers' settings (trim_blocks and lstrip_blocks
 * on, the `{% generation %}` tag ignored), and accepts a superset of it (list/dict methods,
 * more filters and tests, loop controls with Python semantics) where that library throws.
 *
 * A template is parsed once (jinja_template_parse) and rendered any number of times, from
 * any number of threads (rendering never modifies the template). The variables of a render
 * come from a JSON object: each member becomes a global variable (messages,
 * add_generation_prompt, bos_token, eos_token, tools, enable_thinking, ...).
 *
 * Everything is bounded: parse nesting, evaluation depth, loop iterations and calls, the size
 * of any string produced and the memory held by values. A template that cannot be rendered
 * gets an error naming the construct and its line ("unsupported filter 'foo' at line 12");
 * raise_exception(msg) fails with "template raised: msg". */
#ifndef FR_JINJA_H
#define FR_JINJA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct jinja_template jinja_template;

typedef struct jinja_limits {
    size_t max_output;  /* bytes of any one string produced, the output included (64 MiB) */
    size_t max_memory;  /* bytes held by live values during a render (512 MiB) */
    uint64_t max_steps; /* loop iterations + macro/function calls + filters (20 M) */
    int max_depth;      /* nested evaluation frames (macro recursion and nesting) (1000) */
    int64_t now;        /* strftime_now's clock, seconds since the epoch, local time zone;
                           -1 (default) reads the clock */
} jinja_limits;

/* Fills the defaults above. */
void jinja_limits_default(jinja_limits *lim);

/* Parses src[0..len) (UTF-8; need not be NUL-terminated). On failure *out is NULL and err
 * names the problem and its line. Errors: FR_EFORMAT (syntax), FR_EUNSUP (a statement we do
 * not implement), FR_ERANGE (nesting too deep), FR_ENOMEM. */
int jinja_template_parse(jinja_template **out, const char *src, size_t len, fr_err *err);
void jinja_template_free(jinja_template *t);

/* Renders t with the members of vars (a JSON object, may be NULL) as variables. *out is a
 * malloc'd NUL-terminated string of *out_len bytes (the caller frees it). lim may be NULL
 * (defaults). Errors: FR_EINVAL (a runtime error or raise_exception), FR_EUNSUP (an unknown
 * filter, test or method), FR_ERANGE (a limit), FR_ENOMEM. */
int jinja_template_render(char **out, size_t *out_len, const jinja_template *t, const json_t *vars,
                          const jinja_limits *lim, fr_err *err);

/* Parse + render in one call with default limits. */
int jinja_render(char **out, size_t *out_len, const char *src, size_t len, const json_t *vars,
                 fr_err *err);

#endif
