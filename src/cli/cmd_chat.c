/* cmd_chat.c: `frugal chat`: an interactive terminal chat using the model's chat template.
 * Each turn renders the whole conversation, reuses the KV cache for the prefix it shares with
 * what was evaluated before, and streams the reply. Line editing and history come from
 * libedit; Ctrl-C stops a reply, Ctrl-C or Ctrl-D at the prompt quits. When stdin is not a
 * terminal, lines are read plainly (scripts and tests). */
#include <editline/readline.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat/chat.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "tok/tok.h"

static volatile sig_atomic_t g_stop;
static void on_sigint(int sig) {
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *f) {
    fprintf(f, "usage: frugal chat -m MODEL [options]\n\n"
               "Interactive chat with the model's chat template (tokenizer.chat_template).\n"
               "Commands: /reset clears the conversation, /exit quits. Ctrl-C stops a reply.\n\n"
               "options:\n%s%s"
               "      --system TEXT     system prompt\n"
               "  -n, --n-predict N     most tokens per reply (default: until end of turn)\n"
               "      --think on|off    sets the template variable enable_thinking\n"
               "      --ignore-eos      do not end a reply at an end-of-turn token (tests)\n"
               "  -h, --help            this help\n",
               cli_common_help, cli_sampler_help);
}

static char *read_line(bool tty, const char *prompt) {
    if (tty) {
        char *l = readline(prompt);
        if (l && *l) add_history(l);
        return l;
    }
    size_t cap = 0;
    char *l = NULL;
    ssize_t n = getline(&l, &cap, stdin);
    if (n < 0) {
        free(l);
        return NULL;
    }
    while (n > 0 && (l[n - 1] == '\n' || l[n - 1] == '\r')) l[--n] = 0;
    return l;
}

typedef struct {
    fr_model *m;
    fr_ctx *c;
    fr_sampler *smp;
    int32_t *hist; /* tokens in the KV cache, [n_hist] */
    size_t n_hist, cap_hist;
} chat_state;

/* Evaluates ids after keeping the common prefix with what is cached; logits of the last. */
static int feed(chat_state *s, const int32_t *ids, size_t n, fr_err *err) {
    size_t keep = 0;
    while (keep < s->n_hist && keep < n && s->hist[keep] == ids[keep]) keep++;
    if (keep == n && keep > 0) keep--; /* re-evaluate the last token to get its logits */
    fr_ctx_truncate(s->c, 0, (int32_t)keep);
    s->n_hist = keep;
    if (n > s->cap_hist) s->hist = fr_xrealloc(s->hist, sizeof(int32_t) * (s->cap_hist = n * 2 + 64));
    for (size_t i0 = keep; i0 < n; i0 += (size_t)s->c->p.n_batch) {
        int nb = (int)(n - i0 < (size_t)s->c->p.n_batch ? n - i0 : (size_t)s->c->p.n_batch);
        int32_t pos[nb];
        for (int i = 0; i < nb; i++) pos[i] = (int32_t)(i0 + (size_t)i);
        fr_batch b = {nb, ids + i0, pos, NULL, NULL};
        int rc = fr_decode(s->c, &b, err);
        if (rc) return rc;
        memcpy(s->hist + i0, ids + i0, sizeof(int32_t) * (size_t)nb);
        s->n_hist = i0 + (size_t)nb;
    }
    return 0;
}

int cmd_chat(int argc, char **argv) {
    cli_common cc;
    cli_common_init(&cc);
    fr_sampler_params sp = fr_sampler_default_params();
    const char *system = NULL, *think = NULL, *v;
    long n_predict = -1;
    bool ignore_eos = false;
    for (int i = 1; i < argc; i++) {
        if (opt_flag(argv, i, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (cli_common_opt(&cc, argc, argv, &i) || cli_sampler_opt(&sp, argc, argv, &i)) {
        } else if (opt_arg(argc, argv, &i, NULL, "--system", &v)) system = v;
        else if (opt_arg(argc, argv, &i, NULL, "--think", &v)) think = v;
        else if (opt_flag(argv, i, NULL, "--ignore-eos")) ignore_eos = true;
        else if (opt_arg(argc, argv, &i, "-n", "--n-predict", &v)) n_predict = opt_long("-n", v, 1, 1 << 24);
        else {
            cli_error("chat: unknown option '%s'", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    chat_state s = {0};
    int rc = cli_load(&cc, &s.m, &s.c);
    if (rc) return rc;
    fr_err err;
    chat_template *tmpl = NULL;
    json_t *msgs = json_array(), *extra = json_object();
    if (think) json_object_set_new(extra, "enable_thinking", json_boolean(!strcmp(think, "on")));
    if (!s.m->vocab) {
        cli_error("%s has no tokenizer", cc.model);
        rc = 1;
        goto done;
    }
    if ((rc = chat_template_load(&tmpl, s.m->gguf, &err))) {
        cli_error("%s", err.msg);
        rc = 1;
        goto done;
    }
    s.smp = fr_sampler_create(&sp, (int32_t)s.m->hp.n_vocab);
    bool tty = isatty(0) && isatty(1);
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint; /* no SA_RESTART: a read at the prompt returns */
    sigaction(SIGINT, &sa, NULL);
    if (tty) fprintf(stderr, "frugal chat: %s (/reset, /exit; Ctrl-C stops a reply)\n", cc.model);
    if (system) {
        json_t *m = json_pack("{s:s, s:s}", "role", "system", "content", system);
        json_array_append_new(msgs, m);
    }
    int32_t bos = tok_bos(s.m->vocab);
    char bos_text[256] = "";
    if (bos >= 0) {
        size_t k = tok_piece(s.m->vocab, bos, true, bos_text, sizeof bos_text - 1);
        bos_text[k < sizeof bos_text - 1 ? k : 0] = 0; /* a piece too long to hold: no BOS check */
    }
    for (;;) {
        g_stop = 0;
        char *line = read_line(tty, "> ");
        if (!line || g_stop) {
            free(line);
            break;
        }
        if (!strcmp(line, "/exit") || !strcmp(line, "/quit")) {
            free(line);
            break;
        }
        if (!strcmp(line, "/reset")) {
            while (json_array_size(msgs) > (system ? 1u : 0u)) json_array_remove(msgs, json_array_size(msgs) - 1);
            free(line);
            continue;
        }
        if (!*line) {
            free(line);
            continue;
        }
        json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content", line));
        free(line);
        char *prompt = NULL;
        size_t plen = 0;
        if (chat_render(&prompt, &plen, tmpl, msgs, true, extra, &err)) {
            cli_error("%s", err.msg);
            json_array_remove(msgs, json_array_size(msgs) - 1);
            continue;
        }
        /* the template may already write BOS: then do not add another */
        bool add_special = tok_add_bos(s.m->vocab) && !(bos_text[0] && !strncmp(prompt, bos_text, strlen(bos_text)));
        int32_t *ids = NULL;
        size_t n_ids = 0;
        rc = tok_encode(s.m->vocab, prompt, plen, add_special, true, &ids, &n_ids, &err);
        free(prompt);
        if (!rc && n_ids + 1 >= (size_t)s.c->p.n_ctx)
            rc = fr_fail(&err, FR_ERANGE, "the conversation (%zu tokens) fills the context (%d); /reset or use -c",
                         n_ids, s.c->p.n_ctx);
        if (!rc) rc = feed(&s, ids, n_ids, &err);
        free(ids);
        if (rc) {
            cli_error("%s", err.msg);
            json_array_remove(msgs, json_array_size(msgs) - 1);
            rc = 0;
            continue;
        }
        /* generate the reply */
        size_t cap = 256, len = 0;
        char *reply = fr_xmalloc(cap), out[1024];
        tok_stream ts = {.render_special = false};
        long n = 0;
        while (!g_stop && (n_predict < 0 || n < n_predict) && s.n_hist < (size_t)s.c->p.n_ctx) {
            int32_t tok = fr_sampler_sample(s.smp, fr_ctx_logits(s.c, 0));
            fr_sampler_accept(s.smp, tok);
            if (!ignore_eos && tok_is_eog(s.m->vocab, tok)) break;
            size_t k = tok_stream_push(&ts, s.m->vocab, tok, out, sizeof out);
            fwrite(out, 1, k, stdout);
            fflush(stdout);
            if (len + k + 1 > cap) reply = fr_xrealloc(reply, cap = (len + k + 1) * 2);
            memcpy(reply + len, out, k);
            len += k;
            n++;
            int32_t pos = (int32_t)s.n_hist;
            fr_batch b = {1, &tok, &pos, NULL, NULL};
            if (fr_decode(s.c, &b, &err)) {
                cli_error("%s", err.msg);
                break;
            }
            if (s.n_hist == s.cap_hist) s.hist = fr_xrealloc(s.hist, sizeof(int32_t) * (s.cap_hist *= 2));
            s.hist[s.n_hist++] = tok;
        }
        size_t k = tok_stream_flush(&ts, out, sizeof out);
        fwrite(out, 1, k, stdout);
        if (len + k + 1 > cap) reply = fr_xrealloc(reply, cap = len + k + 1);
        memcpy(reply + len, out, k);
        len += k;
        reply[len] = 0;
        printf("\n");
        if (g_stop && tty) fprintf(stderr, "[stopped]\n");
        json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "assistant", "content", reply));
        free(reply);
    }
done:
    json_decref(msgs);
    json_decref(extra);
    chat_template_free(tmpl);
    fr_sampler_free(s.smp);
    free(s.hist);
    fr_ctx_free(s.c);
    fr_model_free(s.m);
    return rc;
}
