/* cmd_bench.c: `frugal bench`: llama-bench-style speed measurement. pp N evaluates N prompt
 * tokens as one batch (split at n_batch); tg N generates N tokens one at a time after a
 * one-token prompt. Each test repeats -r times on a cleared cache; reports mean +- sample
 * stddev, model size and parameters, peak RSS, and for tg the achieved weight bandwidth
 * (bytes of the weights one token reads x tokens/s). `--mem` measures the machine's read
 * bandwidth (1 thread and -t threads) so tg can be reported as a fraction of it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/cpu.h"
#include "core/pool.h"
#include "quant/vec.h"

static void usage(FILE *f) {
    fprintf(f, "usage: frugal bench -m MODEL [-p N] [-n N] [-r N] [options]\n"
               "       frugal bench --mem [-t N]\n\n"
               "options:\n%s"
               "  -p, --n-prompt N      prompt tokens for pp (default 512; 0 = skip)\n"
               "  -n, --n-gen N         generated tokens for tg (default 128; 0 = skip)\n"
               "  -r, --repetitions N   repetitions (default 5)\n"
               "  -o, --output F        md (default) or json\n"
               "      --mem             measure the read bandwidth (GB/s) with 1 and -t threads;\n"
               "                        with -m, also report tg as a fraction of it\n"
               "  -h, --help            this help\n"
               "environment: FRUGAL_CPU=generic|avx2|avx512 forces a kernel level,\n"
               "             FRUGAL_GEMM=0 turns the tiled prefill GEMM off\n",
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

/* ---- read bandwidth ---- */

typedef struct { const float *buf; int64_t n; float sink[64]; } mem_job;

/* the machine's bandwidth, not the kernel level's: the widest max kernel the CPU has, even
 * when FRUGAL_CPU forces a lower level for the model's kernels */
static const fr_vec_kernels *mem_kernels(void) {
    switch (fr_cpu_max_level()) {
    case FR_CPU_AVX512: return &fr_vec_avx512;
    case FR_CPU_AVX2: return &fr_vec_avx2;
    default: return &fr_vec_generic;
    }
}

static void mem_worker(void *arg, int ith, int nth) {
    mem_job *j = arg;
    int64_t lo = j->n * ith / nth, hi = j->n * (ith + 1) / nth;
    j->sink[ith % 64] = mem_kernels()->max_f32(hi - lo, j->buf + lo);
}

/* best of 5 passes over a 1 GiB buffer, GB/s (1e9 bytes) */
static double mem_bandwidth(int n_threads) {
    const int64_t n = ((int64_t)1 << 30) / (int64_t)sizeof(float);
    float *buf = fr_xmalloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) buf[i] = (float)(i & 1023);
    fr_pool *pool = fr_pool_create(n_threads);
    mem_job j = {buf, n, {0}};
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = cli_now();
        fr_pool_run(pool, mem_worker, &j);
        double gbs = (double)n * sizeof(float) / (cli_now() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    fr_pool_free(pool);
    free(buf);
    return best;
}

static void empty_job(void *arg, int ith, int nth) { (void)arg, (void)ith, (void)nth; }

/* microseconds per fr_pool_run of an empty job: the fixed cost every op pays for a sync */
static double pool_sync_us(int n_threads) {
    fr_pool *pool = fr_pool_create(n_threads);
    const int n = 20000;
    for (int i = 0; i < 1000; i++) fr_pool_run(pool, empty_job, NULL);
    double t0 = cli_now();
    for (int i = 0; i < n; i++) fr_pool_run(pool, empty_job, NULL);
    double us = (cli_now() - t0) / n * 1e6;
    fr_pool_free(pool);
    return us;
}

/* bytes of weights one decoded token reads: every tensor except the token embedding (one
 * row; unless the output shares it), experts scaled by n_expert_used / n_expert */
static double active_bytes(const fr_model *m) {
    double s = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const fr_tensor *t = &m->tensors[i];
        if (t == m->tok_embd && m->output != m->tok_embd) continue;
        double b = (double)t->nb1 * (double)t->ne[1] * (double)t->ne[2] * (double)t->ne[3];
        if (m->hp.n_expert > 0 && t->ne[2] == (int64_t)m->hp.n_expert && strstr(t->name, "_exps"))
            b *= (double)m->hp.n_expert_used / (double)m->hp.n_expert;
        s += b;
    }
    return s;
}

static double peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

int cmd_bench(int argc, char **argv) {
    cli_common cc;
    cli_common_init(&cc);
    long n_prompt = 512, n_gen = 128, reps = 5;
    int want_mem = 0;
    const char *fmt = "md", *v;
    for (int i = 1; i < argc; i++) {
        if (opt_flag(argv, i, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (opt_flag(argv, i, NULL, "--mem")) want_mem = 1;
        else if (cli_common_opt(&cc, argc, argv, &i)) {
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
    int json = !strcmp(fmt, "json");
    double bw1 = 0, bwn = 0;
    int n_thr = cc.n_threads > 0 ? cc.n_threads : fr_cpu()->n_physical;
    if (want_mem) {
        bw1 = mem_bandwidth(1);
        bwn = n_thr > 1 ? mem_bandwidth(n_thr) : bw1;
        if (!cc.model) {
            double sync = pool_sync_us(n_thr);
            if (json)
                printf("{\"mem_read_gbs_1t\": %.2f, \"mem_read_gbs\": %.2f, \"threads\": %d, \"pool_sync_us\": %.2f}\n",
                       bw1, bwn, n_thr, sync);
            else
                printf("read bandwidth: %.2f GB/s (1 thread), %.2f GB/s (%d threads); pool sync %.2f us per op\n",
                       bw1, bwn, n_thr, sync);
            return 0;
        }
    }
    if (!cc.model) {
        cli_error("bench: -m MODEL is required (or --mem alone)");
        usage(stderr);
        return 2;
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
        double mean = s / (double)reps;
        double var = reps > 1 ? (s2 - (double)reps * mean * mean) / (double)(reps - 1) : 0;
        res[nres++] = (result){is_pp ? "pp" : "tg", n, mean, var > 0 ? sqrt(var) : 0};
    }
    double act = active_bytes(m), rss = peak_rss_mib();
    const char *lvl = fr_cpu_level_name(fr_cpu()->level);
    if (json) {
        printf("{\"model\": \"%s\", \"arch\": \"%s\", \"params\": %llu, \"bytes\": %llu, "
               "\"active_bytes\": %.0f, \"threads\": %d, \"kernels\": \"%s\", \"peak_rss_mib\": %.1f",
               cc.model, m->arch_name, (unsigned long long)m->n_params, (unsigned long long)m->n_bytes,
               act, c->p.n_threads, lvl, rss);
        if (want_mem) printf(", \"mem_read_gbs\": %.2f, \"mem_read_gbs_1t\": %.2f", bwn, bw1);
        printf(", \"results\": [");
        for (int i = 0; i < nres; i++) {
            printf("%s{\"test\": \"%s%d\", \"t_s\": %.3f, \"stddev\": %.3f, \"reps\": %ld", i ? ", " : "",
                   res[i].name, res[i].n, res[i].mean, res[i].sd, reps);
            if (!strcmp(res[i].name, "tg")) {
                printf(", \"weight_gbs\": %.2f", act * res[i].mean / 1e9);
                if (want_mem) printf(", \"bw_fraction\": %.3f", act * res[i].mean / 1e9 / bwn);
            }
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("| model | arch | size | params | threads | kernels | test | t/s | weights GB/s |\n"
               "| --- | --- | ---: | ---: | ---: | --- | --- | ---: | ---: |\n");
        for (int i = 0; i < nres; i++) {
            char bw[64] = "";
            if (!strcmp(res[i].name, "tg")) {
                double g = act * res[i].mean / 1e9;
                if (want_mem) snprintf(bw, sizeof bw, "%.2f (%.0f%%)", g, 100.0 * g / bwn);
                else snprintf(bw, sizeof bw, "%.2f", g);
            }
            printf("| %s | %s | %.2f GiB | %.2f B | %d | %s | %s%d | %.2f ± %.2f | %s |\n", cc.model,
                   m->arch_name, (double)m->n_bytes / (1 << 30), (double)m->n_params / 1e9,
                   c->p.n_threads, lvl, res[i].name, res[i].n, res[i].mean, res[i].sd, bw);
        }
        printf("\nactive weights per token %.3f GiB; peak RSS %.1f MiB", act / (1 << 30), rss);
        if (want_mem) printf("; read bandwidth %.2f GB/s (%d threads), %.2f GB/s (1 thread)", bwn, n_thr, bw1);
        printf("\n");
    }
    free(ids);
    fr_ctx_free(c);
    fr_model_free(m);
    return 0;
}
