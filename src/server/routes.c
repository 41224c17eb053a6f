/* routes.c: the endpoints. Completions (chat and text) parse and submit a request, then
 * either wait for it to finish (watching the client's socket: a client that goes away
 * cancels it) or hand back an SSE stream whose reader turns engine output into chunks and
 * ends with `data: [DONE]`. Also /v1/models, /health, /metrics, /tokenize, /detokenize. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/server.h"

#define IRE "invalid_request_error"

int srv_err(srv_error *e, int status, const char *type, const char *code, const char *param,
            const char *fmt, ...) {
    e->status = status;
    e->type = type;
    e->code = code;
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

json_t *srv_error_json(const srv_error *e) {
    json_t *o = json_object(), *x = json_object();
    json_object_set_new(x, "message", srv_json_bytes(e->msg, strlen(e->msg)));
    json_object_set_new(x, "type", json_string(e->type ? e->type : "server_error"));
    json_object_set_new(x, "param", e->param[0] ? json_string(e->param) : json_null());
    json_object_set_new(x, "code", e->code ? json_string(e->code) : json_null());
    json_object_set_new(o, "error", x);
    return o;
}

void srv_reply_error(srv_reply *out, const srv_error *e) {
    out->status = e->status;
    out->json = srv_error_json(e);
    if (e->status == 503) out->retry_after = "1";
}

static const struct {
    const char *path, *method;
    int route;
} routes[] = {
    {"/v1/chat/completions", "POST", SRV_R_CHAT},
    {"/chat/completions", "POST", SRV_R_CHAT},
    {"/v1/completions", "POST", SRV_R_TEXT},
    {"/completions", "POST", SRV_R_TEXT},
    {"/v1/models", "GET", SRV_R_MODELS},
    {"/models", "GET", SRV_R_MODELS},
    {"/health", "GET", SRV_R_HEALTH},
    {"/v1/health", "GET", SRV_R_HEALTH},
    {"/metrics", "GET", SRV_R_METRICS},
    {"/tokenize", "POST", SRV_R_TOKENIZE},
    {"/detokenize", "POST", SRV_R_DETOKENIZE},
};

int srv_route(const char *url, const char **method) {
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (!strcmp(url, routes[i].path)) {
            *method = routes[i].method;
            return routes[i].route;
        }
    *method = NULL;
    return SRV_R_NONE;
}

static json_t *parse_body(const char *body, size_t len, srv_error *e) {
    json_error_t je;
    json_t *o = json_loadb(body ? body : "", len, 0, &je);
    if (!o)
        srv_err(e, 400, IRE, "invalid_json", NULL,
                "We could not parse the JSON body of your request: %s (line %d, column %d). The "
                "API expects a JSON "
                "object.",
                je.text, je.line, je.column);
    return o;
}

/* ---- plain endpoints ---- */

static void models(srv_t *s, srv_reply *out) {
    json_t *m = json_object(), *meta = json_object(), *data = json_array(), *o = json_object();
    json_object_set_new(m, "id", json_string(s->cfg.model_id));
    json_object_set_new(m, "object", json_string("model"));
    json_object_set_new(m, "created", json_integer((json_int_t)time(NULL)));
    json_object_set_new(m, "owned_by", json_string("frugal"));
    json_object_set_new(meta, "arch", json_string(s->m->arch_name ? s->m->arch_name : ""));
    json_object_set_new(meta, "n_params", json_integer((json_int_t)s->m->n_params));
    json_object_set_new(meta, "n_vocab", json_integer(s->m->hp.n_vocab));
    json_object_set_new(meta, "n_ctx_train", json_integer(s->m->hp.n_ctx_train));
    json_object_set_new(meta, "n_ctx_per_request", json_integer(s->cfg.n_ctx_seq));
    json_object_set_new(meta, "parallel", json_integer(s->cfg.parallel));
    json_object_set_new(m, "meta", meta);
    json_array_append_new(data, m);
    json_object_set_new(o, "object", json_string("list"));
    json_object_set_new(o, "data", data);
    out->status = 200;
    out->json = o;
}

static void tokenize(srv_t *s, const char *body, size_t len, srv_reply *out) {
    srv_error e;
    json_t *o = parse_body(body, len, &e);
    if (!o) return srv_reply_error(out, &e);
    json_t *c = json_is_object(o) ? json_object_get(o, "content") : NULL;
    json_t *as = json_is_object(o) ? json_object_get(o, "add_special") : NULL;
    json_t *ps = json_is_object(o) ? json_object_get(o, "parse_special") : NULL;
    json_t *wp = json_is_object(o) ? json_object_get(o, "with_pieces") : NULL;
    if (!json_is_object(o))
        srv_err(&e, 400, IRE, "invalid_type", NULL, "The request body must be a JSON object.");
    else if (!c)
        srv_err(&e, 400, IRE, "missing_required_parameter", "content",
                "Missing required parameter: 'content'.");
    else if (!json_is_string(c))
        srv_err(&e, 400, IRE, "invalid_type", "content",
                "Invalid type for 'content': expected a string.");
    else if ((as && !json_is_boolean(as)) || (ps && !json_is_boolean(ps)) ||
             (wp && !json_is_boolean(wp)))
        srv_err(&e, 400, IRE, "invalid_type", NULL,
                "add_special, parse_special and with_pieces must be booleans.");
    else {
        int32_t *ids = NULL;
        size_t n = 0;
        fr_err err;
        if (tok_encode(s->vocab, json_string_value(c), json_string_length(c), json_is_true(as),
                       !ps || json_is_true(ps), &ids, &n, &err)) {
            srv_err(&e, 400, IRE, "invalid_value", "content", "cannot tokenize: %s", err.msg);
        } else {
            json_t *t = json_array();
            for (size_t i = 0; i < n; i++) {
                if (json_is_true(wp)) {
                    char buf[1024];
                    size_t k = tok_piece(s->vocab, ids[i], true, buf, sizeof buf);
                    json_t *x = json_object();
                    json_object_set_new(x, "id", json_integer(ids[i]));
                    json_object_set_new(x, "piece",
                                        srv_json_bytes(buf, k < sizeof buf ? k : sizeof buf));
                    json_array_append_new(t, x);
                } else {
                    json_array_append_new(t, json_integer(ids[i]));
                }
            }
            free(ids);
            json_t *r = json_object();
            json_object_set_new(r, "tokens", t);
            out->status = 200;
            out->json = r;
            json_decref(o);
            return;
        }
    }
    json_decref(o);
    srv_reply_error(out, &e);
}

static void detokenize(srv_t *s, const char *body, size_t len, srv_reply *out) {
    srv_error e;
    json_t *o = parse_body(body, len, &e);
    if (!o) return srv_reply_error(out, &e);
    json_t *t = json_is_object(o) ? json_object_get(o, "tokens") : NULL;
    if (!t)
        srv_err(&e, 400, IRE, "missing_required_parameter", "tokens",
                "Missing required parameter: 'tokens'.");
    else if (!json_is_array(t))
        srv_err(&e, 400, IRE, "invalid_type", "tokens",
                "Invalid type for 'tokens': expected an array of token ids.");
    else {
        size_t n = json_array_size(t), i;
        int32_t *ids = fr_xmalloc(sizeof(int32_t) * (n ? n : 1));
        json_t *x;
        int bad = 0;
        json_array_foreach(t, i, x) {
            if (!json_is_integer(x) || json_integer_value(x) < 0 ||
                json_integer_value(x) >= (json_int_t)s->m->hp.n_vocab) {
                srv_err(&e, 400, IRE, "invalid_value", "tokens",
                        "Invalid 'tokens[%zu]': not a token id in [0, %u).", i, s->m->hp.n_vocab);
                bad = 1;
                break;
            }
            ids[i] = (int32_t)json_integer_value(x);
        }
        char *txt = NULL;
        size_t tl = 0;
        fr_err err;
        if (!bad && tok_detokenize(s->vocab, ids, n, false, true, &txt, &tl, &err)) {
            srv_err(&e, 400, IRE, "invalid_value", "tokens", "cannot detokenize: %s", err.msg);
            bad = 1;
        }
        free(ids);
        if (!bad) {
            json_t *r = json_object();
            json_object_set_new(r, "content", srv_json_bytes(txt ? txt : "", tl));
            free(txt);
            out->status = 200;
            out->json = r;
            json_decref(o);
            return;
        }
        free(txt);
    }
    json_decref(o);
    srv_reply_error(out, &e);
}

/* ---- completions ---- */

struct srv_stream {
    srv_t *s;
    srv_req *r;
    int fd;
    char *buf; /* SSE bytes not yet handed to the HTTP library */
    size_t len, cap, off;
    bool started, done;
    size_t text_off; /* for text completions' logprobs */
    int idle;        /* waits without news, for keep-alive comments */
};

static void sse_event(srv_stream *st, json_t *o) {
    char *j = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!j) return;
    srv_buf_append(&st->buf, &st->len, &st->cap, "data: ", 6);
    srv_buf_append(&st->buf, &st->len, &st->cap, j, strlen(j));
    srv_buf_append(&st->buf, &st->len, &st->cap, "\n\n", 2);
    free(j);
}

static void cancel(srv_t *s, srv_req *r) {
    atomic_store(&r->cancel, 1);
    srv_engine_wake(s->eng);
}

long srv_stream_read(srv_stream *st, char *out, size_t max) {
    srv_req *r = st->r;
    for (;;) {
        if (st->off < st->len) {
            size_t n = st->len - st->off < max ? st->len - st->off : max;
            memcpy(out, st->buf + st->off, n);
            st->off += n;
            if (st->off == st->len) st->off = st->len = 0;
            return (long)n;
        }
        if (st->done) return -1;
        if (!st->started) {
            st->started = true;
            if (r->kind == SRV_CHAT) {
                sse_event(st, srv_render_chunk(st->s, r, "", 0, NULL, SRV_RUNNING, true));
                continue;
            }
        }
        char *text;
        size_t tl;
        srv_tokrec *recs;
        int nr;
        srv_finish fin = srv_req_take(r, &text, &tl, &recs, &nr);
        if (fin == SRV_FIN_CANCEL) {
            free(text), free(recs);
            return -2;
        }
        if (tl || nr) {
            json_t *lp = r->p.logprobs && nr
                             ? srv_render_logprobs(st->s, r->kind, recs, nr, &st->text_off)
                             : NULL;
            sse_event(st, srv_render_chunk(st->s, r, text, tl, lp, SRV_RUNNING, false));
        }
        free(text), free(recs);
        if (fin != SRV_RUNNING) {
            if (fin == SRV_FIN_ERROR) {
                sse_event(st, srv_error_json(&r->err));
            } else {
                sse_event(st, srv_render_chunk(st->s, r, "", 0, NULL, fin, false));
                if (r->p.include_usage) sse_event(st, srv_render_usage_chunk(st->s, r));
            }
            srv_buf_append(&st->buf, &st->len, &st->cap, "data: [DONE]\n\n", 14);
            st->done = true;
            continue;
        }
        if (tl || nr) {
            st->idle = 0;
            continue;
        }
        int w = srv_req_wait(r, &st->fd, 1000);
        if (w < 0) {
            cancel(st->s, r);
            return -2;
        }
        pthread_mutex_lock(&r->mu);
        bool quiet = r->finish == SRV_RUNNING && !r->out_len && !r->n_recs;
        pthread_mutex_unlock(&r->mu);
        if (quiet &&
            ++st->idle >= 15) { /* a comment line now and then keeps proxies from timing out */
            srv_buf_append(&st->buf, &st->len, &st->cap, ": keep-alive\n\n", 14);
            st->idle = 0;
        }
    }
}

void srv_stream_free(srv_stream *st) {
    if (!st) return;
    pthread_mutex_lock(&st->r->mu);
    bool running = st->r->finish == SRV_RUNNING;
    pthread_mutex_unlock(&st->r->mu);
    if (running) cancel(st->s, st->r);
    srv_req_unref(st->r);
    free(st->buf);
    free(st);
}

static void completion(srv_t *s, srv_kind kind, const char *body, size_t len, int fd,
                       srv_reply *out) {
    srv_error e;
    json_t *o = parse_body(body, len, &e);
    if (!o) return srv_reply_error(out, &e);
    srv_req *r = srv_req_create(kind);
    r->t_arrive = srv_now();
    sem_wait(&s->prep); /* rendering and tokenizing a hostile prompt may take a lot of memory */
    int rc = srv_parse_completion(s, kind, o, r, &e);
    sem_post(&s->prep);
    json_decref(o);
    if (rc) {
        srv_req_unref(r);
        return srv_reply_error(out, &e);
    }
    uint64_t n = atomic_fetch_add(&s->n_ids, 1) + 1;
    uint64_t h = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (n * 0xbf58476d1ce4e5b9ull);
    snprintf(r->id, sizeof r->id, "%s-%016llx%06llx", kind == SRV_CHAT ? "chatcmpl" : "cmpl",
             (unsigned long long)h, (unsigned long long)(n & 0xffffff));
    r->created = (int64_t)time(NULL);
    if (srv_engine_submit(s->eng, r, &e)) {
        srv_req_unref(r);
        return srv_reply_error(out, &e);
    }
    if (r->p.stream) {
        srv_stream *st = fr_xcalloc(1, sizeof *st);
        st->s = s, st->r = r, st->fd = fd;
        out->status = 200;
        out->stream = st;
        return;
    }
    /* wait for the whole completion */
    char *text = NULL;
    size_t tl = 0, tcap = 0;
    srv_tokrec *recs = NULL;
    int nr = 0, cap_r = 0;
    srv_finish fin;
    for (;;) {
        char *t;
        size_t l;
        srv_tokrec *rr;
        int k;
        fin = srv_req_take(r, &t, &l, &rr, &k);
        if (l) srv_buf_append(&text, &tl, &tcap, t, l);
        if (k) {
            if (nr + k > cap_r) {
                cap_r = (nr + k) * 2;
                recs = fr_xrealloc(recs, sizeof *recs * (size_t)cap_r);
            }
            memcpy(recs + nr, rr, sizeof *rr * (size_t)k);
            nr += k;
        }
        free(t), free(rr);
        if (fin != SRV_RUNNING) break;
        if (srv_req_wait(r, &fd, 1000) < 0) {
            cancel(s, r);
            fin = SRV_FIN_CANCEL;
            break;
        }
    }
    if (fin == SRV_FIN_CANCEL) {
        out->status = 0; /* nobody to answer */
    } else if (fin == SRV_FIN_ERROR) {
        srv_reply_error(out, &r->err);
    } else {
        size_t off = 0;
        json_t *lp = r->p.logprobs ? srv_render_logprobs(s, kind, recs, nr, &off) : NULL;
        out->status = 200;
        out->json = srv_render_response(s, r, text, tl, lp, fin);
    }
    free(text);
    free(recs);
    srv_req_unref(r);
}

void srv_handle(srv_t *s, int route, const char *body, size_t len, int conn_fd, srv_reply *out) {
    memset(out, 0, sizeof *out);
    switch (route) {
    case SRV_R_HEALTH: {
        bool d = atomic_load(&s->draining);
        out->status = d ? 503 : 200;
        out->json = json_pack("{s:s}", "status", d ? "shutting down" : "ok");
        return;
    }
    case SRV_R_MODELS:
        return models(s, out);
    case SRV_R_METRICS:
        out->status = 200;
        out->text = srv_metrics_render(&s->met, s->cfg.parallel);
        out->content_type = "text/plain; version=0.0.4; charset=utf-8";
        return;
    case SRV_R_TOKENIZE:
        return tokenize(s, body, len, out);
    case SRV_R_DETOKENIZE:
        return detokenize(s, body, len, out);
    case SRV_R_CHAT:
        return completion(s, SRV_CHAT, body, len, conn_fd, out);
    case SRV_R_TEXT:
        return completion(s, SRV_TEXT, body, len, conn_fd, out);
    default: {
        srv_error e;
        srv_err(&e, 404, IRE, "unknown_url", NULL, "Unknown request URL.");
        return srv_reply_error(out, &e);
    }
    }
}
