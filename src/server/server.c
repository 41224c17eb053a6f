/* server.c: the server's life: the chat template (the model's, or ChatML when it has none
 * or ours cannot parse it), metrics, the engine and the HTTP daemon; and the shutdown
 * order: stop accepting, drain, cut what still runs, let answers reach their clients,
 * stop the daemon, then free the engine (which connection threads may touch until then). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static const char chatml[] =
    "{%- for message in messages -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + (message['content'] or '') + '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}";

static const char *token_or_empty(const tok_vocab *v, int32_t id, char *buf, size_t cap) {
    size_t n;
    const char *t = id >= 0 ? tok_text(v, id, &n) : NULL;
    snprintf(buf, cap, "%.*s", t ? (int)n : 0, t ? t : "");
    return buf;
}

int srv_start(srv_t **out, const fr_model *m, fr_ctx *c, const srv_config *cfg, fr_err *err) {
    *out = NULL;
    if (!m->vocab)
        return fr_fail(err, FR_EUNSUP,
                       "%s has no tokenizer (tokenizer.ggml.* keys): cannot serve text",
                       cfg->model_path);
    srv_t *s = fr_xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->m = m;
    s->vocab = m->vocab;
    fr_err e2;
    int rc = chat_template_load(&s->chat, m->gguf, &e2);
    if (rc) {
        fprintf(stderr, "serve: %s; chat completions use ChatML\n", e2.msg);
        char bos[256], eos[256];
        if (chat_template_from_text(&s->chat, chatml, sizeof chatml - 1,
                                    token_or_empty(s->vocab, tok_bos(s->vocab), bos, sizeof bos),
                                    token_or_empty(s->vocab, tok_eos(s->vocab), eos, sizeof eos),
                                    &e2)) {
            free(s);
            return fr_fail(err, FR_EFORMAT, "built-in ChatML template: %s", e2.msg);
        }
    }
    srv_metrics_init(&s->met);
    sem_init(&s->prep, 0, 4);
    if ((rc = srv_engine_start(&s->eng, c, &s->cfg, &s->met, err)) ||
        (rc = srv_http_start(s, err))) {
        srv_engine_free(s->eng);
        chat_template_free(s->chat);
        srv_metrics_free(&s->met);
        sem_destroy(&s->prep);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void srv_shutdown_begin(srv_t *s) {
    atomic_store(&s->draining, 1);
    srv_http_quiesce(s);
    srv_engine_drain(s->eng);
}

bool srv_busy(srv_t *s) {
    return srv_engine_busy(s->eng);
}

void srv_stop(srv_t *s) {
    if (!s) return;
    atomic_store(&s->draining, 1);
    srv_engine_stop(s->eng); /* running requests end now; their answers go out */
    srv_http_settle(s, 3.0);
    srv_http_stop(s);
    srv_engine_free(s->eng);
    chat_template_free(s->chat);
    srv_metrics_free(&s->met);
    sem_destroy(&s->prep);
    free(s);
}
