/* opts.c: option parsing helpers and model loading shared by the subcommands. */
#include "cli/opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cpu.h"

void cli_error(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "frugal: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool opt_flag(char **argv, int i, const char *s, const char *l) {
    return (s && !strcmp(argv[i], s)) || (l && !strcmp(argv[i], l));
}

bool opt_arg(int argc, char **argv, int *i, const char *s, const char *l, const char **val) {
    const char *a = argv[*i];
    if (l) {
        size_t n = strlen(l);
        if (!strncmp(a, l, n) && a[n] == '=') {
            *val = a + n + 1;
            return true;
        }
    }
    if (!opt_flag(argv, *i, s, l)) return false;
    if (*i + 1 >= argc) {
        cli_error("option %s needs a value", a);
        exit(2);
    }
    *val = argv[++*i];
    return true;
}

long opt_long(const char *opt, const char *v, long lo, long hi) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        cli_error("option %s: '%s' is not an integer in [%ld, %ld]", opt, v, lo, hi);
        exit(2);
    }
    return x;
}

double opt_double(const char *opt, const char *v, double lo, double hi) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x >= lo && x <= hi)) {
        cli_error("option %s: '%s' is not a number in [%g, %g]", opt, v, lo, hi);
        exit(2);
    }
    return x;
}

int32_t *opt_token_list(const char *v, int *n) {
    int cap = 16, k = 0;
    int32_t *ids = fr_xmalloc(sizeof(int32_t) * (size_t)cap);
    const char *p = v;
    while (*p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (errno || end == p || x < 0 || x > INT32_MAX || (*end && *end != ',' && *end != ' ')) {
            cli_error("--tokens: '%s' is not a comma-separated list of token ids", v);
            exit(2);
        }
        if (k == cap) ids = fr_xrealloc(ids, sizeof(int32_t) * (size_t)(cap *= 2));
        ids[k++] = (int32_t)x;
        p = *end ? end + 1 : end;
    }
    if (!k) {
        cli_error("--tokens: empty list");
        exit(2);
    }
    *n = k;
    return ids;
}

void cli_common_init(cli_common *c) {
    memset(c, 0, sizeof *c);
    c->kv_type = FR_TYPE_F16;
    c->n_batch = 512;
}

const char *const cli_common_help =
    "  -m, --model FILE      GGUF model file (required)\n"
    "  -t, --threads N       threads (default: physical cores)\n"
    "      --kv-type T       KV cache type: f16 (default) or f32\n"
    "  -c, --ctx-size N      context size in tokens (default: min(train context, 4096))\n"
    "  -b, --batch-size N    tokens per forward step (default 512)\n"
    "  -v, --verbose         print model facts and memory use\n";

bool cli_common_opt(cli_common *c, int argc, char **argv, int *i) {
    const char *v;
    if (opt_arg(argc, argv, i, "-m", "--model", &v)) c->model = v;
    else if (opt_arg(argc, argv, i, "-t", "--threads", &v)) c->n_threads = (int)opt_long("-t", v, 1, 1024);
    else if (opt_arg(argc, argv, i, NULL, "--kv-type", &v)) {
        if (!strcmp(v, "f16")) c->kv_type = FR_TYPE_F16;
        else if (!strcmp(v, "f32")) c->kv_type = FR_TYPE_F32;
        else {
            cli_error("--kv-type: '%s' is not f16 or f32", v);
            exit(2);
        }
    } else if (opt_arg(argc, argv, i, "-c", "--ctx-size", &v)) c->n_ctx = (int32_t)opt_long("-c", v, 1, 1 << 24);
    else if (opt_arg(argc, argv, i, "-b", "--batch-size", &v)) c->n_batch = (int32_t)opt_long("-b", v, 1, 1 << 16);
    else if (opt_flag(argv, *i, "-v", "--verbose")) c->verbose = true;
    else return false;
    return true;
}

const char *const cli_sampler_help =
    "      --temp T          temperature (default 0.8; 0 = greedy)\n"
    "      --top-k N         top-k (default 40; 0 = off)\n"
    "      --top-p P         top-p (default 0.95; 1 = off)\n"
    "      --min-p P         min-p (default 0.05; 0 = off)\n"
    "      --repeat-penalty F  repetition penalty (default 1.0 = off)\n"
    "      --repeat-last-n N   tokens the penalty looks back (default 64)\n"
    "  -s, --seed N          sampling seed (default 0x5eed)\n";

bool cli_sampler_opt(fr_sampler_params *p, int argc, char **argv, int *i) {
    const char *v;
    if (opt_arg(argc, argv, i, NULL, "--temp", &v)) p->temp = (float)opt_double("--temp", v, 0, 100);
    else if (opt_arg(argc, argv, i, NULL, "--top-k", &v)) p->top_k = (int32_t)opt_long("--top-k", v, 0, 1 << 30);
    else if (opt_arg(argc, argv, i, NULL, "--top-p", &v)) p->top_p = (float)opt_double("--top-p", v, 0, 1);
    else if (opt_arg(argc, argv, i, NULL, "--min-p", &v)) p->min_p = (float)opt_double("--min-p", v, 0, 1);
    else if (opt_arg(argc, argv, i, NULL, "--repeat-penalty", &v))
        p->repeat_penalty = (float)opt_double("--repeat-penalty", v, 0.01, 100);
    else if (opt_arg(argc, argv, i, NULL, "--repeat-last-n", &v))
        p->repeat_last_n = (int32_t)opt_long("--repeat-last-n", v, 0, 1 << 20);
    else if (opt_arg(argc, argv, i, "-s", "--seed", &v)) p->seed = (uint64_t)opt_long("--seed", v, 0, INT64_MAX);
    else return false;
    return true;
}

int cli_load(const cli_common *c, fr_model **m, fr_ctx **ctx) {
    fr_err err = {{0}};
    if (!c->model) {
        cli_error("no model given (-m FILE)");
        return 2;
    }
    double t0 = cli_now();
    if (fr_model_load(m, c->model, &err)) {
        cli_error("%s", err.msg);
        return 1;
    }
    fr_ctx_params p = fr_ctx_default_params();
    p.n_ctx = c->n_ctx;
    p.n_batch = c->n_batch;
    p.n_threads = c->n_threads;
    p.kv_type = c->kv_type;
    if (fr_ctx_create(ctx, *m, &p, &err)) {
        cli_error("%s", err.msg);
        fr_model_free(*m);
        *m = NULL;
        return 1;
    }
    if (c->verbose) {
        fr_model_print_info(*m, stderr);
        const fr_ctx *x = *ctx;
        fprintf(stderr,
                "  context %d tokens, batch %d, %d threads, kernels %s\n"
                "  KV cache %s: %zu bytes per token, %.2f MiB; working buffers %.2f MiB\n"
                "  loaded in %.3f s\n",
                x->p.n_ctx, x->p.n_batch, x->p.n_threads, fr_cpu_level_name(fr_cpu()->level),
                fr_type_name(x->kv.type), fr_kv_bytes_per_token(&x->kv),
                (double)x->kv.bytes / (1024.0 * 1024.0),
                (double)x->scratch_bytes / (1024.0 * 1024.0), cli_now() - t0);
        const fr_hparams *hp = &(*m)->hp;
        if (hp->kv_lora_rank) /* MLA: only the latent and the shared rope key are cached */
            fprintf(stderr, "  MLA cache: (kv_lora_rank %u + rope %u) x %u layers x %zu bytes = %zu bytes per token\n",
                    hp->kv_lora_rank, hp->n_rot, hp->n_layer, x->kv.type == FR_TYPE_F16 ? (size_t)2 : (size_t)4,
                    (size_t)(hp->kv_lora_rank + hp->n_rot) * hp->n_layer * (x->kv.type == FR_TYPE_F16 ? 2 : 4));
    }
    return 0;
}
