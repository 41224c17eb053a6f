/* cmd_template.c: `frugal template`: renders a chat template (a .jinja file, or a GGUF's
 * tokenizer.chat_template with its bos/eos tokens) for a JSON list of messages and prints
 * the result exactly (no newline added). */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "gguf/gguf.h"
#include "chat/chat.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: frugal template (-m MODEL.gguf | --template FILE.jinja) --messages FILE.json\n"
        "                       [--add-generation-prompt] [--var KEY=JSON ...]\n\n"
        "Renders a chat template and prints the text exactly (no trailing newline).\n\n"
        "  -m, --model FILE        take tokenizer.chat_template, bos_token and eos_token from a "
        "GGUF\n"
        "  --template FILE         take the template from a file\n"
        "  --messages FILE         a JSON array of messages, or an object whose members\n"
        "                          (messages, tools, ...) all become variables ('-' = stdin)\n"
        "  --add-generation-prompt set add_generation_prompt to true (default: false, or the\n"
        "                          messages object's own add_generation_prompt)\n"
        "  --var KEY=JSON          set a variable, e.g. --var enable_thinking=false\n"
        "                          --var 'bos_token=\"<s>\"' (repeatable; wins over the others)\n"
        "  -h, --help              this text\n\n"
        "environment: FRUGAL_NOW=SECONDS fixes the clock strftime_now() reads.\n");
}

static int fail(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "frugal: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    return 1;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *nb = cap < ((size_t)1 << 34) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    if (f != stdin) fclose(f);
    *len = n;
    return buf;
}

/* The chat template of a GGUF file, with its bos/eos tokens. */
static int load_model(const char *path, chat_template **t) {
    gguf_file *g;
    fr_err err;
    if (gguf_open(&g, path, &err)) return fail("%s%s", err.msg, "");
    int rc = chat_template_load(t, g, &err);
    gguf_close(g);
    return rc ? fail("%s%s", err.msg, "") : 0;
}

int cmd_template(int argc, char **argv) {
    const char *model = NULL, *tpath = NULL, *mpath = NULL;
    bool gen = false;
    json_t *vars = json_object(), *extra = json_object(), *messages = NULL;
    char *tmpl = NULL, *mtext = NULL, *out = NULL;
    chat_template *t = NULL;
    fr_err err;
    int rc = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_next = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto done;
        } else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && has_next) {
            model = argv[++i];
        } else if (!strcmp(a, "--template") && has_next) {
            tpath = argv[++i];
        } else if (!strcmp(a, "--messages") && has_next) {
            mpath = argv[++i];
        } else if (!strcmp(a, "--add-generation-prompt")) {
            gen = true;
        } else if (!strcmp(a, "--var") && has_next) {
            const char *kv = argv[++i], *eq = strchr(kv, '=');
            if (!eq || eq == kv) {
                fail("--var wants KEY=JSON, got '%s'%s", kv, "");
                goto done;
            }
            json_error_t je;
            json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, &je);
            if (!v) {
                fail("--var %s: value is not JSON (strings need quotes: KEY='\"text\"'): %s", kv,
                     je.text);
                goto done;
            }
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
            json_object_set_new(extra, key, v);
        } else {
            fail("template: unknown or incomplete option '%s'%s (see frugal template --help)", a,
                 "");
            goto done;
        }
    }
    if (!model == !tpath) {
        fail("template: give exactly one of -m MODEL or --template FILE%s%s", "", "");
        goto done;
    }
    if (!mpath) {
        fail("template: --messages FILE is required%s%s", "", "");
        goto done;
    }

    size_t tlen = 0, mlen = 0;
    if (model) {
        if (load_model(model, &t)) goto done;
    } else if (!(tmpl = read_file(tpath, &tlen))) {
        fail("cannot read %s: %s", tpath, strerror(errno));
        goto done;
    } else if (chat_template_from_text(&t, tmpl, tlen, NULL, NULL, &err)) {
        fail("%s%s", err.msg, "");
        goto done;
    }
    if (!(mtext = read_file(mpath, &mlen))) {
        fail("cannot read %s: %s", mpath, strerror(errno));
        goto done;
    }
    json_error_t je;
    json_t *m = json_loadb(mtext, mlen, 0, &je);
    if (!m) m = json_loadb(mtext, mlen, JSON_DECODE_INT_AS_REAL, &je); /* integers beyond 64 bits */
    if (!m) {
        char where[256];
        snprintf(where, sizeof where, "line %d: %.200s", je.line, je.text);
        fail("%s: invalid JSON at %s", mpath, where);
        goto done;
    }
    /* variables, lowest precedence first: the messages object's members,
     * --add-generation-prompt, then --var */
    if (json_is_array(m)) {
        messages = m;
    } else if (json_is_object(m) && json_is_array(json_object_get(m, "messages"))) {
        messages = json_incref(json_object_get(m, "messages"));
        json_object_del(m, "messages");
        json_object_update(vars, m);
        json_decref(m);
    } else {
        json_decref(m);
        fail("%s: expected a messages array or an object with \"messages\"%s", mpath, "");
        goto done;
    }
    if (gen) json_object_set_new(vars, "add_generation_prompt", json_true());
    json_object_update(vars, extra);
    const char *now = getenv("FRUGAL_NOW");
    if (now && *now) chat_template_set_now(t, strtoll(now, NULL, 10));
    size_t olen;
    if (chat_render(&out, &olen, t, messages, false, vars, &err)) {
        fail("template: %s%s", err.msg, "");
        goto done;
    }
    if (fwrite(out, 1, olen, stdout) != olen || fflush(stdout)) {
        fail("writing the output: %s%s", strerror(errno), "");
        goto done;
    }
    rc = 0;
done:
    free(tmpl);
    free(mtext);
    free(out);
    chat_template_free(t);
    json_decref(messages);
    json_decref(vars);
    json_decref(extra);
    return rc;
}
