/* cmd_run.c: `frugal run`: prompt in, streamed text out. The prompt is evaluated as one
 * batch (split at n_batch), then tokens are sampled one at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "tok/tok.h"

static void usage(FILE *f) {
    fprintf(f, "usage: frugal run -m MODEL (-p TEXT | --tokens ID,...) [-n N] [options]\n\n"
               "Generates text from a prompt and streams it to stdout; timing goes to stderr.\n\n"
               "options:\n%s%s"
               "  -p, --prompt TEXT     prompt text (tokenized with the model's tokenizer)\n"
               "  -f, --file FILE       read the prompt from a file\n"
               "      --tokens LIST     prompt as comma-separated token ids instead of text\n"
               "  -n, --n-predict N     tokens to generate (default 64)\n"
               "      --ignore-eos      keep generating after an end-of-generation token\n"
               "      --print-ids       print generated token ids (one line) instead of text\n"
               "      --no-special      do not add BOS/EOS to the prompt\n"
               "  -h, --help            this help\n",
               cli_common_help, cli_sampler_help);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = fr_xmalloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = fr_xrealloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

int cmd_run(int argc, char **argv) {
    cli_common cc;
    cli_common_init(&cc);
    fr_sampler_params sp = fr_sampler_default_params();
    const char *prompt = NULL, *pfile = NULL, *toks = NULL, *v;
    long n_predict = 64;
    bool ignore_eos = false, print_ids = false, add_special = true;
    for (int i = 1; i < argc; i++) {
        if (opt_flag(argv, i, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (cli_common_opt(&cc, argc, argv, &i) || cli_sampler_opt(&sp, argc, argv, &i)) {
        } else if (opt_arg(argc, argv, &i, "-p", "--prompt", &v)) prompt = v;
        else if (opt_arg(argc, argv, &i, "-f", "--file", &v)) pfile = v;
        else if (opt_arg(argc, argv, &i, NULL, "--tokens", &v)) toks = v;
        else if (opt_arg(argc, argv, &i, "-n", "--n-predict", &v)) n_predict = opt_long("-n", v, 0, 1 << 24);
        else if (opt_flag(argv, i, NULL, "--ignore-eos")) ignore_eos = true;
        else if (opt_flag(argv, i, NULL, "--print-ids")) print_ids = true;
        else if (opt_flag(argv, i, NULL, "--no-special")) add_special = false;
        else {
            cli_error("run: unknown option '%s'", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!!prompt + !!pfile + !!toks != 1) {
        cli_error("run: give exactly one of -p TEXT, -f FILE or --tokens LIST");
        usage(stderr);
        return 2;
    }
    fr_model *m;
    fr_ctx *c;
    int rc = cli_load(&cc, &m, &c);
    if (rc) return rc;

    int32_t *ids = NULL;
    size_t n_prompt = 0;
    fr_err err;
    char *text = NULL;
    size_t text_len = 0;
    if (toks) {
        int n;
        ids = opt_token_list(toks, &n);
        n_prompt = (size_t)n;
    } else {
        if (pfile) {
            text = read_file(pfile, &text_len);
            if (!text) {
                cli_error("cannot read prompt file '%s'", pfile);
                rc = 1;
                goto done;
            }
        } else {
            text = fr_xstrdup(prompt);
            text_len = strlen(text);
        }
        if (!m->vocab) {
            cli_error("%s has no tokenizer (tokenizer.ggml.* keys); use --tokens", cc.model);
            rc = 1;
            goto done;
        }
        if (tok_encode(m->vocab, text, text_len, add_special, true, &ids, &n_prompt, &err)) {
            cli_error("%s", err.msg);
            rc = 1;
            goto done;
        }
    }
    if (n_prompt == 0) {
        cli_error("the prompt is empty after tokenization");
        rc = 1;
        goto done;
    }
    if ((int64_t)n_prompt + n_predict > c->p.n_ctx) {
        cli_error("prompt (%zu tokens) + %ld to generate exceeds the context size %d (use -c)",
                  n_prompt, n_predict, c->p.n_ctx);
        rc = 1;
        goto done;
    }
    fr_sampler *smp = fr_sampler_create(&sp, (int32_t)m->hp.n_vocab);
    int32_t *pos = fr_xmalloc(sizeof(int32_t) * n_prompt);
    for (size_t i = 0; i < n_prompt; i++) {
        pos[i] = (int32_t)i;
        fr_sampler_accept(smp, ids[i]);
    }
    if (cc.verbose) fprintf(stderr, "prompt: %zu tokens\n", n_prompt);
    double t0 = cli_now();
    for (size_t i0 = 0; i0 < n_prompt && !rc; i0 += (size_t)c->p.n_batch) {
        int nb = (int)(n_prompt - i0 < (size_t)c->p.n_batch ? n_prompt - i0 : (size_t)c->p.n_batch);
        fr_batch b = {nb, ids + i0, pos + i0, NULL, NULL};
        if (fr_decode(c, &b, &err)) {
            cli_error("%s", err.msg);
            rc = 1;
        }
    }
    double t1 = cli_now();
    tok_stream ts = {.render_special = false};
    char out[1024];
    long n_gen = 0;
    int32_t cur_pos = (int32_t)n_prompt;
    while (!rc && n_gen < n_predict) {
        int32_t tok = fr_sampler_sample(smp, fr_ctx_logits(c, 0));
        fr_sampler_accept(smp, tok);
        n_gen++;
        if (print_ids || !m->vocab) printf(n_gen > 1 ? " %d" : "%d", tok);
        else {
            size_t k = tok_stream_push(&ts, m->vocab, tok, out, sizeof out);
            fwrite(out, 1, k, stdout);
        }
        fflush(stdout);
        if (!ignore_eos && m->vocab && tok_is_eog(m->vocab, tok)) break;
        if (n_gen == n_predict) break;
        fr_batch b = {1, &tok, &cur_pos, NULL, NULL};
        if (fr_decode(c, &b, &err)) {
            cli_error("%s", err.msg);
            rc = 1;
        }
        cur_pos++;
    }
    if (m->vocab && !print_ids) {
        size_t k = tok_stream_flush(&ts, out, sizeof out);
        fwrite(out, 1, k, stdout);
    }
    printf("\n");
    double t2 = cli_now();
    fprintf(stderr, "frugal: prompt %zu tokens in %.3f s (%.1f t/s), generated %ld tokens in %.3f s (%.1f t/s)\n",
            n_prompt, t1 - t0, (double)n_prompt / (t1 - t0), n_gen, t2 - t1,
            n_gen > 1 ? (double)(n_gen - 1) / (t2 - t1) : 0.0);
    free(pos);
    fr_sampler_free(smp);
done:
    free(text);
    free(ids);
    fr_ctx_free(c);
    fr_model_free(m);
    return rc;
}
