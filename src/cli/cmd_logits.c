/* cmd_logits.c: `frugal logits`: the correctness interface. Evaluates a token sequence and
 * writes the logits of every position as little-endian float32, n_positions x n_vocab,
 * row-major. The format is stable: tests and tools depend on it. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/opts.h"

static void usage(FILE *f) {
    fprintf(f, "usage: frugal logits -m MODEL --tokens ID,ID,... -o FILE [options]\n\n"
               "Writes float32 logits of every position (n_positions x n_vocab, row-major).\n\n"
               "options:\n%s"
               "      --tokens LIST     comma-separated token ids (required)\n"
               "  -o, --output FILE     output file (required)\n"
               "  -h, --help            this help\n",
               cli_common_help);
}

int cmd_logits(int argc, char **argv) {
    cli_common cc;
    cli_common_init(&cc);
    const char *toks = NULL, *outp = NULL, *v;
    for (int i = 1; i < argc; i++) {
        if (opt_flag(argv, i, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (cli_common_opt(&cc, argc, argv, &i)) {
        } else if (opt_arg(argc, argv, &i, NULL, "--tokens", &v)) toks = v;
        else if (opt_arg(argc, argv, &i, "-o", "--output", &v)) outp = v;
        else {
            cli_error("logits: unknown option '%s'", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!toks || !outp) {
        cli_error("logits: --tokens and -o are required");
        usage(stderr);
        return 2;
    }
    int n = 0;
    int32_t *ids = opt_token_list(toks, &n);
    fr_model *m;
    fr_ctx *c;
    int rc = cli_load(&cc, &m, &c);
    if (rc) {
        free(ids);
        return rc;
    }
    FILE *fo = fopen(outp, "wb");
    if (!fo) {
        cli_error("cannot open '%s' for writing", outp);
        rc = 1;
        goto done;
    }
    int32_t *pos = fr_xmalloc(sizeof(int32_t) * (size_t)n);
    int8_t *want = fr_xmalloc((size_t)n);
    for (int i = 0; i < n; i++) pos[i] = i, want[i] = 1;
    uint32_t nv = m->hp.n_vocab;
    for (int i0 = 0; i0 < n && !rc; i0 += c->p.n_batch) {
        int nb = n - i0 < c->p.n_batch ? n - i0 : c->p.n_batch;
        fr_batch b = {nb, ids + i0, pos + i0, NULL, want + i0};
        fr_err err;
        if (fr_decode(c, &b, &err)) {
            cli_error("%s", err.msg);
            rc = 1;
            break;
        }
        for (int j = 0; j < nb; j++)
            if (fwrite(fr_ctx_logits(c, j), sizeof(float), nv, fo) != nv) {
                cli_error("write to '%s' failed", outp);
                rc = 1;
                break;
            }
    }
    if (fclose(fo) && !rc) {
        cli_error("write to '%s' failed", outp);
        rc = 1;
    }
    free(pos);
    free(want);
done:
    free(ids);
    fr_ctx_free(c);
    fr_model_free(m);
    return rc;
}
