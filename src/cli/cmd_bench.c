/* cmd_bench.c: `frugal bench`: llama-bench-style speed measurement. pp N evaluates N prompt
 * tokens as one batch (split at n_batch); tg N generates N tokens one at a time after a
 * one-token prompt. Each test repeats -r times on a cleared cache; reports mean +- stddev. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/cpu.h"

static void usage(FILE *f) {
    fprintf(f, "usage: frugal bench -m MODEL [-p N] [-n N] [-r N] [options]\n\n"
               "options:\n%s"
               "  -p, --n-prompt N      prompt tokens for pp (default 512; 0 = skip)\n"
               "  -n, --n-gen N         generated tokens for tg (default 128; 0 = skip)\n"
               "  -r, --repetitions N   repetitions (default 5)\n"
               "  -o, --output F        md (default) or json\n"
               "  -h, --help            this help\n",
               cli_common_help);
}

typedef struct { const char *name; int n; double mean, sd; } result;

static double run_once(fr_ctx *c, const int32_t *ids, int n, int is_pp) {
    fr_err e;
    fr_ctx_truncate(c, 0, 0);
    double t0 = cli_now();
    if (is_pp) {
        int32_t pos[4096];
        for (int i0 = 0; i0 < n; i0 += c->p.n_batch) {
            int nb = n - i0 < c->p.n_batch ? n - i0 : c->p.n_batch;
            for (int i = 0; i < nb; i++) pos[i] = i0 + i;
            fr_batch b = {nb, ids + i0, pos, NULL, NULL};
            if (fr_decode(c, &b, &e)) { cli_error("%s", e.msg); exit(1); }
        }
    } else {
        for (int i = 0; i < n; i++) {
            int32_t p = i;
            fr_batch b = {1, ids + i, &p, NULL, NULL};
            if (fr_decode(c, &b, &e)) { cli_error("%s", e.msg); exit(1); }
        }
    }
    return (double)n / (cli_now() - t0);
}

int cmd_bench(int argc, char **argv) {
    cli_common cc;
    cli_common_init(&cc);
    long n_prompt = 512, n_gen = 128, reps = 5;
    const char *fmt = "md", *v;
    for (int i = 1; i < argc; i++) {
        if (opt_flag(argv, i, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (cli_common_opt(&cc, argc, argv, &i)) {
        } else if (opt_arg(argc, argv, &i, "-p", "--n-prompt", &v)) n_prompt = opt_long("-p", v, 0, 4096);
        else if (opt_arg(argc, argv, &i, "-n", "--n-gen", &v)) n_gen = opt_long("-n", v, 0, 4096);
        else if (opt_arg(argc, argv, &i, "-r", "--repetitions", &v)) reps = opt_long("-r", v, 1, 1000);
        else if (opt_arg(argc, argv, &i, "-o", "--output", &v)) fmt = v;
        else {
            cli_error("bench: unknown option '%s'", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (cc.n_ctx == 0) cc.n_ctx = (int32_t)((n_prompt > n_gen ? n_prompt : n_gen) + 16);
    fr_model *m;
    fr_ctx *c;
    int rc = cli_load(&cc, &m, &c);
    if (rc) return rc;
    long nmax = n_prompt > n_gen ? n_prompt : n_gen;
    int32_t *ids = fr_xmalloc(sizeof(int32_t) * (size_t)(nmax + 1));
    for (long i = 0; i <= nmax; i++) ids[i] = (int32_t)((i * 7919 + 13) % m->hp.n_vocab);
    result res[2];
    int nres = 0;
    for (int is_pp = 1; is_pp >= 0; is_pp--) {
        int n = (int)(is_pp ? n_prompt : n_gen);
        if (!n) continue;
        run_once(c, ids, n < 16 ? n : 16, is_pp); /* warm-up: page in weights */
        double s = 0, s2 = 0;
        for (long r = 0; r < reps; r++) {
            double ts = run_once(c, ids, n, is_pp);
            s += ts, s2 += ts * ts;
        }
        double mean = s / (double)reps, var = s2 / (double)reps - mean * mean;
        res[nres++] = (result){is_pp ? "pp" : "tg", n, mean, var > 0 ? sqrt(var) : 0};
    }
    if (!strcmp(fmt, "json")) {
        printf("{\"model\": \"%s\", \"arch\": \"%s\", \"params\": %llu, \"bytes\": %llu, \"threads\": %d, "
               "\"kernels\": \"%s\", \"results\": [",
               cc.model, m->arch_name, (unsigned long long)m->n_params, (unsigned long long)m->n_bytes,
               c->p.n_threads, fr_cpu_level_name(fr_cpu()->level));
        for (int i = 0; i < nres; i++)
            printf("%s{\"test\": \"%s%d\", \"t_s\": %.3f, \"stddev\": %.3f, \"reps\": %ld}", i ? ", " : "",
                   res[i].name, res[i].n, res[i].mean, res[i].sd, reps);
        printf("]}\n");
    } else {
        printf("| model | arch | size | params | threads | kernels | test | t/s |\n"
               "| --- | --- | ---: | ---: | ---: | --- | --- | ---: |\n");
        for (int i = 0; i < nres; i++)
            printf("| %s | %s | %.2f GiB | %.2f B | %d | %s | %s%d | %.2f ± %.2f |\n", cc.model,
                   m->arch_name, (double)m->n_bytes / (1 << 30), (double)m->n_params / 1e9,
                   c->p.n_threads, fr_cpu_level_name(fr_cpu()->level), res[i].name, res[i].n,
                   res[i].mean, res[i].sd);
    }
    free(ids);
    fr_ctx_free(c);
    fr_model_free(m);
    return 0;
}
