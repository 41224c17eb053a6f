/* chat.c: loading and rendering a model's chat template (see chat.h). */
#include "chat/chat.h"

#include <stdlib.h>
#include <string.h>

#include "jinja/jinja.h"

struct chat_template {
    jinja_template *t;
    json_t *base; /* bos_token, eos_token */
    jinja_limits lim;
};

/* text of the token whose id is stored under key, or NULL */
static json_t *token_text(const gguf_file *g, const char *key) {
    fr_err err;
    uint32_t id;
    const gguf_value *toks;
    if (gguf_get_u32(g, key, &id, &err) != 0) return NULL;
    if (gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_T_STRING, &toks, &err) != 0) return NULL;
    if (id >= toks->v.arr.n) return NULL;
    gguf_str s = toks->v.arr.strs[id];
    return json_stringn(s.ptr, (size_t)s.len);
}

static int make(chat_template **out, const char *src, size_t len, json_t *base, fr_err *err) {
    chat_template *c = fr_xcalloc(1, sizeof *c);
    int rc = jinja_template_parse(&c->t, src, len, err);
    if (rc) {
        json_decref(base);
        free(c);
        return fr_wrap(err, rc, "chat template");
    }
    c->base = base;
    jinja_limits_default(&c->lim);
    *out = c;
    return 0;
}

int chat_template_load(chat_template **out, const gguf_file *g, fr_err *err) {
    gguf_str s;
    *out = NULL;
    int rc = gguf_get_str(g, "tokenizer.chat_template", &s, err);
    if (rc > 0) return fr_fail(err, FR_EFORMAT, "%s: no tokenizer.chat_template in this model", g->path);
    if (rc) return rc;
    json_t *base = json_object();
    json_t *bos = token_text(g, "tokenizer.ggml.bos_token_id");
    json_t *eos = token_text(g, "tokenizer.ggml.eos_token_id");
    json_object_set_new(base, "bos_token", bos ? bos : json_string(""));
    json_object_set_new(base, "eos_token", eos ? eos : json_string(""));
    return make(out, s.ptr, (size_t)s.len, base, err);
}

int chat_template_from_text(chat_template **out, const char *src, size_t len, const char *bos,
                            const char *eos, fr_err *err) {
    json_t *base = json_object();
    json_object_set_new(base, "bos_token", json_string(bos ? bos : ""));
    json_object_set_new(base, "eos_token", json_string(eos ? eos : ""));
    *out = NULL;
    return make(out, src, len, base, err);
}

void chat_template_set_now(chat_template *t, int64_t now) { t->lim.now = now; }

void chat_template_free(chat_template *t) {
    if (!t) return;
    jinja_template_free(t->t);
    json_decref(t->base);
    free(t);
}

int chat_render(char **out, size_t *out_len, const chat_template *t, const json_t *messages,
                bool add_generation_prompt, const json_t *extra, fr_err *err) {
    json_t *vars = json_deep_copy(t->base);
    json_object_set(vars, "messages", (json_t *)messages);
    json_object_set_new(vars, "add_generation_prompt", json_boolean(add_generation_prompt));
    if (extra) json_object_update(vars, (json_t *)extra);
    int rc = jinja_template_render(out, out_len, t->t, vars, &t->lim, err);
    json_decref(vars);
    return rc;
}
