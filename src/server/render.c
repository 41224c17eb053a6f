/* render.c: the JSON of responses: chat.completion / text_completion objects, their
 * streamed chunks, logprobs in the chat and legacy completions shapes, usage (with the
 * prompt tokens served from the prefix cache) and a `timings` extension. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

const char *srv_finish_name(srv_finish f) {
    return f == SRV_FIN_LENGTH   ? "length"
           : f == SRV_FIN_STOP   ? "stop"
           : f == SRV_FIN_CANCEL ? "cancelled"
                                 : "error";
}

json_t *srv_json_bytes(const char *s, size_t n) {
    char *b = NULL;
    size_t len = 0, cap = 0;
    srv_utf8_append(&b, &len, &cap, s, n);
    json_t *j = json_stringn(b ? b : "", len);
    free(b);
    return j ? j : json_string("");
}

static json_t *token_json(srv_t *s, int32_t id, float lp, bool with_bytes, size_t *piece_len) {
    char buf[1024];
    size_t n = tok_piece(s->vocab, id, true, buf, sizeof buf);
    if (n > sizeof buf) n = sizeof buf;
    if (piece_len) *piece_len = n;
    json_t *o = json_object();
    json_object_set_new(o, "token", srv_json_bytes(buf, n));
    json_object_set_new(o, "logprob", json_real(lp));
    if (with_bytes) {
        json_t *b = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(b, json_integer((unsigned char)buf[i]));
        json_object_set_new(o, "bytes", b);
    }
    return o;
}

json_t *srv_render_logprobs(srv_t *s, srv_kind kind, const srv_tokrec *recs, int n,
                            size_t *text_off) {
    if (kind == SRV_CHAT) {
        json_t *content = json_array();
        for (int i = 0; i < n; i++) {
            json_t *t = token_json(s, recs[i].id, recs[i].lp, true, NULL), *top = json_array();
            for (int j = 0; j < recs[i].n_top; j++)
                json_array_append_new(
                    top, token_json(s, recs[i].top_id[j], recs[i].top_lp[j], true, NULL));
            json_object_set_new(t, "top_logprobs", top);
            json_array_append_new(content, t);
        }
        json_t *o = json_object();
        json_object_set_new(o, "content", content);
        json_object_set_new(o, "refusal", json_null());
        return o;
    }
    json_t *toks = json_array(), *lps = json_array(), *tops = json_array(), *offs = json_array();
    for (int i = 0; i < n; i++) {
        size_t plen;
        json_t *t = token_json(s, recs[i].id, recs[i].lp, false, &plen);
        json_array_append(toks, json_object_get(t, "token"));
        json_array_append_new(lps, json_real(recs[i].lp));
        json_decref(t);
        json_t *top = json_object();
        for (int j = 0; j < recs[i].n_top; j++) {
            json_t *a = token_json(s, recs[i].top_id[j], recs[i].top_lp[j], false, NULL);
            json_object_set_new(top, json_string_value(json_object_get(a, "token")),
                                json_real(recs[i].top_lp[j]));
            json_decref(a);
        }
        json_array_append_new(tops, top);
        json_array_append_new(offs, json_integer((json_int_t)*text_off));
        if (!tok_is_eog(s->vocab, recs[i].id)) *text_off += plen;
    }
    json_t *o = json_object();
    json_object_set_new(o, "tokens", toks);
    json_object_set_new(o, "token_logprobs", lps);
    json_object_set_new(o, "top_logprobs", tops);
    json_object_set_new(o, "text_offset", offs);
    return o;
}

static json_t *usage_json(const srv_req *r) {
    json_t *u = json_object(), *d = json_object();
    json_object_set_new(u, "prompt_tokens", json_integer(r->n_prompt));
    json_object_set_new(u, "completion_tokens", json_integer(r->n_gen));
    json_object_set_new(u, "total_tokens", json_integer(r->n_prompt + r->n_gen));
    json_object_set_new(d, "cached_tokens", json_integer(r->n_cached));
    json_object_set_new(u, "prompt_tokens_details", d);
    return u;
}

static double ms(double a, double b) {
    return a > 0 && b > 0 ? (a - b) * 1000.0 : 0.0;
}

static json_t *timings_json(const srv_req *r) {
    json_t *t = json_object();
    json_object_set_new(t, "queued_ms", json_real(ms(r->t_start, r->t_arrive)));
    json_object_set_new(t, "first_token_ms", json_real(ms(r->t_first, r->t_arrive)));
    json_object_set_new(t, "total_ms", json_real(ms(r->t_end, r->t_arrive)));
    double gen = r->t_end - r->t_first;
    json_object_set_new(t, "tokens_per_second",
                        json_real(r->n_gen > 1 && gen > 0 ? (r->n_gen - 1) / gen : 0.0));
    return t;
}

static json_t *head(srv_t *s, const srv_req *r, const char *object) {
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "object", json_string(object));
    json_object_set_new(o, "created", json_integer(r->created));
    json_object_set_new(o, "model", json_string(s->cfg.model_id));
    json_object_set_new(o, "system_fingerprint", json_string("frugal"));
    return o;
}

static json_t *finish_json(srv_finish fin) {
    return fin == SRV_RUNNING ? json_null() : json_string(srv_finish_name(fin));
}

json_t *srv_render_response(srv_t *s, const srv_req *r, const char *text, size_t len,
                            json_t *logprobs, srv_finish fin) {
    bool chat = r->kind == SRV_CHAT;
    json_t *o = head(s, r, chat ? "chat.completion" : "text_completion"), *c = json_object();
    json_object_set_new(c, "index", json_integer(0));
    if (chat) {
        json_t *m = json_object();
        json_object_set_new(m, "role", json_string("assistant"));
        json_object_set_new(m, "content", json_stringn(text ? text : "", len));
        json_object_set_new(m, "refusal", json_null());
        json_object_set_new(c, "message", m);
    } else {
        json_object_set_new(c, "text", json_stringn(text ? text : "", len));
    }
    json_object_set_new(c, "logprobs", logprobs ? logprobs : json_null());
    json_object_set_new(c, "finish_reason", finish_json(fin));
    json_t *ch = json_array();
    json_array_append_new(ch, c);
    json_object_set_new(o, "choices", ch);
    json_object_set_new(o, "usage", usage_json(r));
    json_object_set_new(o, "timings", timings_json(r));
    return o;
}

json_t *srv_render_chunk(srv_t *s, const srv_req *r, const char *text, size_t len, json_t *logprobs,
                         srv_finish fin, bool first) {
    bool chat = r->kind == SRV_CHAT;
    json_t *o = head(s, r, chat ? "chat.completion.chunk" : "text_completion"), *c = json_object();
    json_object_set_new(c, "index", json_integer(0));
    if (chat) {
        json_t *d = json_object();
        if (first) json_object_set_new(d, "role", json_string("assistant"));
        if (first || len) json_object_set_new(d, "content", json_stringn(text ? text : "", len));
        json_object_set_new(c, "delta", d);
    } else {
        json_object_set_new(c, "text", json_stringn(text ? text : "", len));
    }
    json_object_set_new(c, "logprobs", logprobs ? logprobs : json_null());
    json_object_set_new(c, "finish_reason", finish_json(fin));
    json_t *ch = json_array();
    json_array_append_new(ch, c);
    json_object_set_new(o, "choices", ch);
    if (fin != SRV_RUNNING) json_object_set_new(o, "timings", timings_json(r));
    return o;
}

json_t *srv_render_usage_chunk(srv_t *s, const srv_req *r) {
    json_t *o = head(s, r, r->kind == SRV_CHAT ? "chat.completion.chunk" : "text_completion");
    json_object_set_new(o, "choices", json_array());
    json_object_set_new(o, "usage", usage_json(r));
    return o;
}
