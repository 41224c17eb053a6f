/* cmd_serve.c: `frugal serve`: options, model and context (one KV sequence per slot), the
 * server, and the signal-driven shutdown: the first SIGINT/SIGTERM stops accepting and lets
 * running requests finish (up to --shutdown-grace seconds), a second one cuts them; the
 * process then exits 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "server/server.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: frugal serve -m MODEL [options]\n\n"
        "An OpenAI-compatible HTTP server: POST /v1/chat/completions, /v1/completions, /tokenize,\n"
        "/detokenize; GET /v1/models, /health, /metrics. Requests are batched continuously over\n"
        "--parallel slots sharing one paged KV cache; identical prompt prefixes reuse cached "
        "blocks.\n\n"
        "options:\n%s"
        "                        (-c is the KV cache of all requests together; default\n"
        "                        parallel x min(train context, 4096), at most 65536)\n"
        "      --host ADDR       address to bind (default 127.0.0.1)\n"
        "      --port N          port (default 8080; 0 = any free port, printed at start)\n"
        "      --api-key KEY     require 'Authorization: Bearer KEY' (or env FRUGAL_API_KEY)\n"
        "      --cors ORIGIN     send Access-Control-Allow-Origin: ORIGIN (default: no CORS)\n"
        "      --alias NAME      the model id clients use (default: file name without .gguf)\n"
        "  -np, --parallel N     requests decoded together (default 4)\n"
        "      --queue N         requests waiting for a slot before 503 (default 64)\n"
        "      --ctx-per-request N  prompt + completion tokens of one request\n"
        "                        (default: min(train context, ctx-size / parallel))\n"
        "      --prefill-chunk N prompt tokens per step while others generate (default 128)\n"
        "      --max-body BYTES  largest request body (default 8388608)\n"
        "      --timeout S       idle timeout, and deadline for request headers (default 30)\n"
        "      --max-connections N  concurrent connections (default 256)\n"
        "      --shutdown-grace S   on SIGINT/SIGTERM, time running requests may take (default "
        "10)\n"
        "      --no-prefix-cache do not share KV blocks between requests\n"
        "  -h, --help            this help\n",
        cli_common_help);
}

int cmd_serve(int argc, char **argv) {
    cli_common cc;
    cli_common_init(&cc);
    srv_config cfg = {.host = "127.0.0.1",
                      .port = 8080,
                      .parallel = 4,
                      .queue_size = 64,
                      .prefill_chunk = 128,
                      .max_body = 8u << 20,
                      .timeout_s = 30,
                      .max_conn = 256};
    const char *v;
    long ctx_req = 0;
    double grace = 10;
    for (int i = 1; i < argc; i++) {
        if (opt_flag(argv, i, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (cli_common_opt(&cc, argc, argv, &i)) {
        } else if (opt_arg(argc, argv, &i, NULL, "--host", &v))
            cfg.host = v;
        else if (opt_arg(argc, argv, &i, NULL, "--port", &v))
            cfg.port = (int)opt_long("--port", v, 0, 65535);
        else if (opt_arg(argc, argv, &i, NULL, "--api-key", &v))
            cfg.api_key = v;
        else if (opt_arg(argc, argv, &i, NULL, "--cors", &v))
            cfg.cors_origin = v;
        else if (opt_arg(argc, argv, &i, NULL, "--alias", &v))
            cfg.model_id = v;
        else if (opt_arg(argc, argv, &i, "-np", "--parallel", &v))
            cfg.parallel = (int)opt_long("--parallel", v, 1, 256);
        else if (opt_arg(argc, argv, &i, NULL, "--queue", &v))
            cfg.queue_size = (int)opt_long("--queue", v, 1, 100000);
        else if (opt_arg(argc, argv, &i, NULL, "--ctx-per-request", &v))
            ctx_req = opt_long("--ctx-per-request", v, 2, 1 << 24);
        else if (opt_arg(argc, argv, &i, NULL, "--prefill-chunk", &v))
            cfg.prefill_chunk = (int)opt_long("--prefill-chunk", v, 1, 1 << 16);
        else if (opt_arg(argc, argv, &i, NULL, "--max-body", &v))
            cfg.max_body = (size_t)opt_long("--max-body", v, 1024, 1L << 34);
        else if (opt_arg(argc, argv, &i, NULL, "--timeout", &v))
            cfg.timeout_s = (unsigned)opt_long("--timeout", v, 1, 86400);
        else if (opt_arg(argc, argv, &i, NULL, "--max-connections", &v))
            cfg.max_conn = (unsigned)opt_long("--max-connections", v, 1, 100000);
        else if (opt_arg(argc, argv, &i, NULL, "--shutdown-grace", &v))
            grace = opt_double("--shutdown-grace", v, 0, 86400);
        else if (opt_flag(argv, i, NULL, "--no-prefix-cache"))
            cfg.no_prefix_cache = true;
        else {
            cli_error("serve: unknown option '%s'", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!cfg.api_key) {
        const char *k = getenv("FRUGAL_API_KEY");
        if (k && *k) cfg.api_key = k;
    }
    if (!cc.model) {
        cli_error("no model given (-m FILE)");
        return 2;
    }
    /* signals go to sigwait below: block them before any thread exists */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    fr_err err = {{0}};
    fr_model *m;
    if (fr_model_load(&m, cc.model, &err)) {
        cli_error("%s", err.msg);
        return 1;
    }
    int32_t train = m->hp.n_ctx_train ? (int32_t)m->hp.n_ctx_train : 4096;
    if (!cc.n_ctx) {
        int64_t n = (int64_t)cfg.parallel * (train < 4096 ? train : 4096);
        cc.n_ctx = (int32_t)(n > 65536 ? 65536 : n);
    }
    fr_ctx_params p = fr_ctx_default_params();
    p.n_ctx = cc.n_ctx;
    p.n_batch = cc.n_batch < cfg.parallel ? cfg.parallel : cc.n_batch;
    p.n_threads = cc.n_threads;
    p.kv_type = cc.kv_type;
    p.n_seq = cfg.parallel;
    fr_ctx *c;
    if (fr_ctx_create(&c, m, &p, &err)) {
        cli_error("%s", err.msg);
        fr_model_free(m);
        return 1;
    }
    int32_t per = ctx_req ? (int32_t)ctx_req : c->p.n_ctx / cfg.parallel;
    if (!ctx_req && per > train) per = train;
    if (per > c->p.n_ctx) per = c->p.n_ctx;
    if (per < 2) per = 2;
    cfg.n_ctx_seq = per;
    if (cfg.prefill_chunk > c->p.n_batch) cfg.prefill_chunk = c->p.n_batch;
    char idbuf[256];
    if (!cfg.model_id) {
        const char *b = strrchr(cc.model, '/');
        snprintf(idbuf, sizeof idbuf, "%s", b ? b + 1 : cc.model);
        size_t n = strlen(idbuf);
        if (n > 5 && !strcmp(idbuf + n - 5, ".gguf")) idbuf[n - 5] = 0;
        cfg.model_id = idbuf;
    }
    cfg.model_path = cc.model;
    cfg.verbose = cc.verbose;
    if (cc.verbose) fr_model_print_info(m, stderr);
    srv_t *s;
    if (srv_start(&s, m, c, &cfg, &err)) {
        cli_error("%s", err.msg);
        fr_ctx_free(c);
        fr_model_free(m);
        return 1;
    }
    fprintf(stderr,
            "frugal serve: listening on http://%s:%d  model '%s', %d slots, %d tokens per request, "
            "KV cache %d cells (%.1f MiB, %d blocks of %d), %d threads\n",
            cfg.host, s->port, cfg.model_id, cfg.parallel, cfg.n_ctx_seq, c->p.n_ctx,
            (double)c->kv.bytes / (1024.0 * 1024.0), c->kv.n_blocks, c->kv.block_size,
            c->p.n_threads);
    fflush(stderr);

    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr,
            "frugal serve: %s: no new requests; running ones may finish for %.0f s (signal again "
            "to stop now)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", grace);
    srv_shutdown_begin(s);
    double end = cli_now() + grace;
    while (srv_busy(s) && cli_now() < end) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        if (sigtimedwait(&set, NULL, &ts) > 0) break;
    }
    srv_stop(s);
    fr_ctx_free(c);
    fr_model_free(m);
    fprintf(stderr, "frugal serve: stopped\n");
    return 0;
}
