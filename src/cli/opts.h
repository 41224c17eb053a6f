/* opts.h: small helpers the subcommands share for parsing options and loading a model. */
#ifndef FR_OPTS_H
#define FR_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "model/ctx.h"
#include "sample/sample.h"

/* If argv[*i] is `short_name` or `long_name` (either may be NULL), stores the following
 * argument (or the part after '=' in --long=value) in *val, advances *i and returns true.
 * A missing value prints an error and exits 2 (CLI only). */
bool opt_arg(int argc, char **argv, int *i, const char *short_name, const char *long_name,
             const char **val);
bool opt_flag(char **argv, int i, const char *short_name, const char *long_name);
/* Number parsing with a clear error and exit 2 on garbage or out-of-range values. */
long opt_long(const char *opt, const char *v, long lo, long hi);
double opt_double(const char *opt, const char *v, double lo, double hi);
/* "1,2,3" -> ids (malloc'd); exits 2 on a bad list */
int32_t *opt_token_list(const char *v, int *n);
/* The options every evaluating command shares. */
typedef struct cli_common {
    const char *model;
    int n_threads;
    fr_type kv_type;
    int32_t n_ctx, n_batch;
    bool verbose;
} cli_common;
void cli_common_init(cli_common *c);
/* Consumes one of -m/--model, -t/--threads, --kv-type, -c/--ctx-size, -b/--batch-size, -v. */
bool cli_common_opt(cli_common *c, int argc, char **argv, int *i);
extern const char *const cli_common_help;
/* Sampling options: --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n --seed */
bool cli_sampler_opt(fr_sampler_params *p, int argc, char **argv, int *i);
extern const char *const cli_sampler_help;
/* Loads the model and makes a context; prints "frugal: <error>" and returns non-zero on
 * failure. With c->verbose prints model facts and memory to stderr. */
int cli_load(const cli_common *c, fr_model **m, fr_ctx **ctx);
/* "frugal: " + message to stderr */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double cli_now(void);

#endif
