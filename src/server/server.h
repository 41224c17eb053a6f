/* server.h: `frugal serve`, an OpenAI-compatible HTTP server, and the types its parts share.
 *
 *   http.c     libmicrohttpd daemon (a thread per connection), body limits, auth, CORS,
 *              slow-client deadlines, JSON/error responses, waiting for the engine
 *   routes.c   the endpoints: models, health, metrics, tokenize, detokenize, completions
 *   params.c   request JSON -> validated sampling parameters and prompt tokens
 *   render.c   response JSON: completion objects, SSE chunks, logprobs, usage
 *   engine.c   the scheduler thread: a queue, n slots, continuous batching with chunked
 *              prefill over one shared paged KV cache with prefix reuse
 *   request.c  the request object shared by a connection thread and the engine
 *   text.c     UTF-8 repair and stop-sequence matching
 *   metrics.c  counters and their Prometheus text form
 *   server.c   start-up and graceful shutdown of the whole
 *
 * Threads: one engine thread owns the fr_ctx (model evaluation, KV cache, samplers); every
 * HTTP connection has its own thread that parses, tokenizes, renders templates, submits a
 * request and then waits on the request's eventfd (and on the client's socket, so a client
 * that goes away cancels its request at once). */
#ifndef FR_SERVER_H
#define FR_SERVER_H

#include <jansson.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat/chat.h"
#include "model/ctx.h"
#include "tok/tok.h"

#define SRV_MAX_STOP 16      /* stop sequences per request */
#define SRV_MAX_STOP_LEN 256 /* bytes per stop sequence */
#define SRV_MAX_TOP 20       /* top_logprobs */
#define SRV_MAX_BIAS 1024    /* logit_bias entries */

typedef struct srv_config {
    const char *host;        /* bind address (default 127.0.0.1) */
    int port;                /* default 8080; 0 picks a free port */
    const char *api_key;     /* NULL: no auth */
    const char *cors_origin; /* NULL: no CORS headers */
    const char *model_id;    /* the id /v1/models reports and requests may name */
    const char *model_path;
    int parallel;       /* slots: sequences decoded together */
    int queue_size;     /* requests waiting for a slot before 503 */
    int prefill_chunk;  /* prompt tokens per step while other requests generate */
    int32_t n_ctx_seq;  /* positions one request may use (prompt + completion) */
    size_t max_body;    /* request body bytes */
    unsigned timeout_s; /* inactivity timeout and deadline for request headers */
    unsigned max_conn;  /* concurrent connections */
    bool no_prefix_cache;
    bool verbose;
} srv_config;

/* An error in OpenAI's shape: {"error": {"message", "type", "param", "code"}}. */
typedef struct srv_error {
    int status;       /* HTTP status */
    const char *type; /* invalid_request_error, server_error, ... */
    const char *code; /* NULL or a code string */
    char param[64];   /* "" for null */
    char msg[512];
} srv_error;
/* Fills e and returns -1. */
int srv_err(srv_error *e, int status, const char *type, const char *code, const char *param,
            const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* {"error": {...}} */
json_t *srv_error_json(const srv_error *e);

/* ---- requests ---- */
typedef enum { SRV_CHAT, SRV_TEXT } srv_kind;
typedef enum {
    SRV_RUNNING = 0,
    SRV_FIN_STOP,
    SRV_FIN_LENGTH,
    SRV_FIN_ERROR,
    SRV_FIN_CANCEL
} srv_finish;

typedef struct srv_params {
    int32_t max_tokens; /* completion tokens at most (already clamped to context) */
    float temp, top_p, min_p;
    int32_t top_k;
    uint64_t seed;
    float presence, frequency; /* OpenAI penalties over generated tokens */
    int n_bias;
    int32_t bias_id[SRV_MAX_BIAS];
    float bias[SRV_MAX_BIAS];
    int n_stop;
    char stop[SRV_MAX_STOP][SRV_MAX_STOP_LEN + 1];
    bool logprobs;    /* per-token log probabilities */
    int top_logprobs; /* 0..SRV_MAX_TOP alternatives per token */
    bool ignore_eos;
    bool stream, include_usage;
} srv_params;

/* the log probability of one generated token and its best alternatives */
typedef struct srv_tokrec {
    int32_t id;
    float lp;
    int n_top;
    int32_t top_id[SRV_MAX_TOP];
    float top_lp[SRV_MAX_TOP];
} srv_tokrec;

typedef struct srv_req {
    /* set by the connection thread before submitting, read-only afterwards */
    srv_kind kind;
    srv_params p;
    int32_t *prompt; /* [n_prompt] */
    int32_t n_prompt;
    char id[48];
    int64_t created; /* unix time */
    double t_arrive; /* monotonic seconds */
    /* shared: under mu; the engine writes, the connection thread takes */
    pthread_mutex_t mu;
    int efd;   /* eventfd the engine signals after each update */
    char *out; /* released completion text not yet taken */
    size_t out_len, out_cap;
    srv_tokrec *recs; /* logprob records not yet taken */
    int n_recs, cap_recs;
    srv_finish finish;
    srv_error err;                  /* when finish == SRV_FIN_ERROR */
    int32_t n_gen, n_cached;        /* completion tokens; prompt tokens taken from the cache */
    double t_start, t_first, t_end; /* admitted, first token, finished (0: not yet) */
    atomic_int cancel;              /* set by the connection thread: the client went away */
    atomic_int refs;
} srv_req;

srv_req *srv_req_create(srv_kind kind);
void srv_req_ref(srv_req *r);
void srv_req_unref(srv_req *r);
/* engine side (lock held by the callee) */
void srv_req_emit(srv_req *r, const char *text, size_t len, const srv_tokrec *rec, int32_t n_gen);
void srv_req_finish(srv_req *r, srv_finish f, const srv_error *err);
void srv_req_signal(srv_req *r);
/* Connection side: waits up to timeout_ms for a signal from the engine while watching the
 * client socket *fd (set to -1 once it cannot tell us more). Returns -1 when the client
 * has gone away, else 0. */
int srv_req_wait(srv_req *r, int *fd, int timeout_ms);
/* Moves the pending text and records out of r (caller frees *text and *recs). Returns the
 * finish state at the time of taking. */
srv_finish srv_req_take(srv_req *r, char **text, size_t *len, srv_tokrec **recs, int *n_recs);

/* ---- text ---- */
/* Appends src[0..n) to a growable buffer, replacing invalid UTF-8 with U+FFFD per maximal
 * invalid subpart (as WHATWG decoders and so browsers and Node do). */
void srv_utf8_append(char **buf, size_t *len, size_t *cap, const char *src, size_t n);
void srv_buf_append(char **buf, size_t *len, size_t *cap, const char *src, size_t n);
/* Earliest occurrence at or after `from` of any of the stop strings in text[0..len), or
 * (size_t)-1. *hold gets the length of the longest suffix of text that is a proper prefix
 * of a stop string (bytes to hold back while the next tokens decide). */
size_t srv_stop_find(const char *text, size_t len, size_t from, const srv_params *p, size_t *hold);

/* ---- metrics ---- */
typedef struct srv_metrics {
    pthread_mutex_t mu;
    uint64_t http[8]; /* responses by status: 2xx, 400, 401, 404, 405/other 4xx, 413, 5xx, 503 */
    uint64_t requests_ok, requests_failed, requests_cancelled;
    uint64_t prompt_tokens, prompt_cached, gen_tokens, steps;
    double busy_s; /* seconds spent in decode steps */
    int running, queued;
    int32_t kv_total, kv_in_use, kv_registered;
    uint64_t kv_hits, kv_evictions;
    double gen_rate, prompt_rate; /* tokens per second over the last ~10 s */
    double win_t[11];             /* ring of (time, gen total, prompt total) samples */
    uint64_t win_gen[11], win_prompt[11];
    int win_n, win_i;
} srv_metrics;

void srv_metrics_init(srv_metrics *m);
void srv_metrics_free(srv_metrics *m);
void srv_metrics_http(srv_metrics *m, int status);
/* once a second: updates the rates */
void srv_metrics_tick(srv_metrics *m, double now);
/* Prometheus text exposition (malloc'd) */
char *srv_metrics_render(srv_metrics *m, int parallel);

/* ---- engine ---- */
typedef struct srv_engine srv_engine;
int srv_engine_start(srv_engine **out, fr_ctx *c, const srv_config *cfg, srv_metrics *met,
                     fr_err *err);
/* Queues r (takes a reference). Fails with 503 when the queue is full or draining. */
int srv_engine_submit(srv_engine *e, srv_req *r, srv_error *err);
/* Wakes the engine (a request was cancelled). */
void srv_engine_wake(srv_engine *e);
/* No new requests; queued ones fail with 503; running ones go on. */
void srv_engine_drain(srv_engine *e);
bool srv_engine_busy(srv_engine *e);
/* Ends running requests now (finish_reason "length") and stops the thread; submits fail
 * with 503 afterwards. */
void srv_engine_stop(srv_engine *e);
void srv_engine_free(srv_engine *e);

/* ---- the server ---- */
typedef struct srv srv_t;
struct srv {
    srv_config cfg;
    const fr_model *m;
    const tok_vocab *vocab;
    chat_template *chat; /* the model's chat template, or ChatML */
    srv_engine *eng;
    srv_metrics met;
    struct MHD_Daemon *d;
    int port; /* bound port */
    atomic_int draining;
    atomic_uint_fast64_t n_ids;
    /* connection tracking for request deadlines */
    pthread_mutex_t conn_mu;
    struct srv_conn *conns;
    pthread_t watchdog;
    atomic_int stop_watchdog;
    atomic_int n_inflight; /* HTTP requests between headers and completion */
    sem_t prep;            /* bounds concurrent template renders + tokenizations (memory) */
};

int srv_start(srv_t **out, const fr_model *m, fr_ctx *c, const srv_config *cfg, fr_err *err);
/* Begins a graceful shutdown: stop accepting, fail queued requests, let running ones end. */
void srv_shutdown_begin(srv_t *s);
bool srv_busy(srv_t *s);
/* Cuts what still runs, stops the HTTP daemon and the engine, frees everything. */
void srv_stop(srv_t *s);

/* http.c */
int srv_http_start(srv_t *s, fr_err *err);
void srv_http_quiesce(srv_t *s);              /* stop accepting connections */
void srv_http_settle(srv_t *s, double max_s); /* wait for responses in flight */
void srv_http_stop(srv_t *s);
double srv_now(void);

/* params.c: parse a completion request body into r (prompt tokens included). */
int srv_parse_completion(srv_t *s, srv_kind kind, const json_t *body, srv_req *r, srv_error *e);
/* render.c: response JSON. logprobs: the "logprobs" member built by srv_render_logprobs
 * (stolen; NULL for null). */
json_t *srv_render_logprobs(srv_t *s, srv_kind kind, const srv_tokrec *recs, int n,
                            size_t *text_off);
json_t *srv_render_response(srv_t *s, const srv_req *r, const char *text, size_t len,
                            json_t *logprobs, srv_finish fin);
/* one streamed chunk: role (first), text delta, or the finish reason */
json_t *srv_render_chunk(srv_t *s, const srv_req *r, const char *text, size_t len, json_t *logprobs,
                         srv_finish fin, bool first);
/* the last chunk of a stream with include_usage: no choices, the usage */
json_t *srv_render_usage_chunk(srv_t *s, const srv_req *r);
const char *srv_finish_name(srv_finish f);
/* JSON string of bytes, with invalid UTF-8 repaired */
json_t *srv_json_bytes(const char *s, size_t n);

/* routes.c: the handlers; each fills a response (status, JSON) or returns a stream. */
typedef struct srv_stream srv_stream;
typedef struct srv_reply {
    int status;
    json_t *json; /* body (stolen), or */
    char *text;   /* plain text body (malloc'd) with content_type */
    const char *content_type;
    srv_stream *stream;      /* SSE body */
    const char *retry_after; /* Retry-After header value for 503 */
} srv_reply;
enum {
    SRV_R_NONE,
    SRV_R_CHAT,
    SRV_R_TEXT,
    SRV_R_MODELS,
    SRV_R_HEALTH,
    SRV_R_METRICS,
    SRV_R_TOKENIZE,
    SRV_R_DETOKENIZE,
    SRV_R_COUNT
};
int srv_route(const char *url, const char **method_allowed);
/* conn_fd: the client's socket (for disconnect detection while waiting) */
void srv_handle(srv_t *s, int route, const char *body, size_t len, int conn_fd, srv_reply *out);
/* SSE content: writes up to max bytes; returns bytes, 0 never, -1 end, -2 error */
long srv_stream_read(srv_stream *st, char *buf, size_t max);
void srv_stream_free(srv_stream *st);
void srv_reply_error(srv_reply *out, const srv_error *e);

#endif
