/* http.c: the HTTP side on libmicrohttpd, a thread per connection (so a connection's
 * thread may wait for its completion). Per request: routing (404/405), Bearer auth (401),
 * CORS only when configured, a bounded body (413 from Content-Length before reading, or as
 * soon as a chunked body passes the limit), JSON/text/SSE responses and status metrics.
 * Per connection: a deadline for request headers and for the body (a client trickling
 * bytes is cut off; libmicrohttpd's own timeout only counts silence), and a connection
 * limit. A watchdog thread enforces the deadlines and ticks the metrics' rates. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/server.h"

double srv_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* one TCP connection, for the request deadlines */
typedef struct srv_conn {
    struct srv_conn *prev, *next;
    int fd;
    int state; /* 0 waiting for request headers, 1 reading the body, 2 answering */
    double since;
    bool shut;
} srv_conn;

/* one HTTP request */
typedef struct http_ctx {
    int route;
    char *body;
    size_t len, cap;
    bool answered; /* a response is queued */
    bool too_big;  /* the body passed max_body: being discarded */
    size_t discarded;
} http_ctx;

static void conn_state(srv_t *s, struct MHD_Connection *conn, int state) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    srv_conn *c = ci ? ci->socket_context : NULL;
    if (!c) return;
    pthread_mutex_lock(&s->conn_mu);
    c->state = state;
    c->since = srv_now();
    pthread_mutex_unlock(&s->conn_mu);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    srv_t *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        srv_conn *c = calloc(1, sizeof *c);
        if (!c || !ci) {
            free(c);
            return;
        }
        c->fd = ci->connect_fd;
        c->since = srv_now();
        pthread_mutex_lock(&s->conn_mu);
        c->next = s->conns;
        if (s->conns) s->conns->prev = c;
        s->conns = c;
        pthread_mutex_unlock(&s->conn_mu);
        *socket_context = c;
    } else if (*socket_context) {
        srv_conn *c = *socket_context;
        pthread_mutex_lock(&s->conn_mu);
        if (c->prev)
            c->prev->next = c->next;
        else
            s->conns = c->next;
        if (c->next) c->next->prev = c->prev;
        pthread_mutex_unlock(&s->conn_mu);
        free(c);
        *socket_context = NULL;
    }
}

static void *watchdog(void *arg) {
    srv_t *s = arg;
    double head_s = s->cfg.timeout_s,
           body_s = s->cfg.timeout_s * 6.0 < 60 ? 60 : s->cfg.timeout_s * 6.0;
    double next_tick = 0;
    while (!atomic_load(&s->stop_watchdog)) {
        double now = srv_now();
        pthread_mutex_lock(&s->conn_mu);
        for (srv_conn *c = s->conns; c; c = c->next) {
            if (c->shut) continue;
            double age = now - c->since;
            if ((c->state == 0 && age > head_s) || (c->state == 1 && age > body_s)) {
                /* the connection's thread sees EOF and closes it; the fd stays valid until
                 * libmicrohttpd reports the close, which needs conn_mu */
                shutdown(c->fd, SHUT_RDWR);
                c->shut = true;
                if (s->cfg.verbose)
                    fprintf(stderr,
                            "serve: closing a connection that sent no complete request in %.0f s\n",
                            age);
            }
        }
        pthread_mutex_unlock(&s->conn_mu);
        if (now >= next_tick) {
            srv_metrics_tick(&s->met, now);
            next_tick = now + 1.0;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* ---- responses ---- */

static void add_common(srv_t *s, struct MHD_Response *r) {
    if (s->cfg.cors_origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", s->cfg.cors_origin);
        MHD_add_response_header(r, "Vary", "Origin");
    }
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    long n = srv_stream_read(cls, buf, max);
    return n == -1 ? MHD_CONTENT_READER_END_OF_STREAM
           : n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR
                   : (ssize_t)n;
}

static void stream_free(void *cls) {
    srv_stream_free(cls);
}

static enum MHD_Result send_reply(srv_t *s, struct MHD_Connection *conn, srv_reply *rep,
                                  const char *allow) {
    if (rep->status == 0) { /* the client is gone */
        json_decref(rep->json);
        free(rep->text);
        return MHD_NO;
    }
    struct MHD_Response *r;
    if (rep->stream) {
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, rep->stream,
                                              stream_free);
        if (!r) {
            srv_stream_free(rep->stream);
            return MHD_NO;
        }
        MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
        MHD_add_response_header(r, "Cache-Control", "no-cache");
        MHD_add_response_header(r, "X-Accel-Buffering", "no");
    } else {
        char *body = rep->json ? json_dumps(rep->json, JSON_COMPACT) : rep->text;
        json_decref(rep->json);
        if (!body) body = strdup("{}");
        if (!body) return MHD_NO;
        r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        if (!r) {
            free(body);
            return MHD_NO;
        }
        MHD_add_response_header(r, "Content-Type",
                                rep->content_type ? rep->content_type : "application/json");
    }
    if (rep->retry_after) MHD_add_response_header(r, "Retry-After", rep->retry_after);
    if (allow) MHD_add_response_header(r, "Allow", allow);
    add_common(s, r);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rep->status, r);
    MHD_destroy_response(r);
    srv_metrics_http(&s->met, rep->status);
    return ret;
}

static enum MHD_Result send_error(srv_t *s, struct MHD_Connection *conn, const srv_error *e,
                                  const char *allow) {
    srv_reply rep = {0};
    srv_reply_error(&rep, e);
    return send_reply(s, conn, &rep, allow);
}

static bool auth_ok(srv_t *s, struct MHD_Connection *conn) {
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7)) return false;
    h += 7;
    while (*h == ' ') h++;
    size_t a = strlen(h), b = strlen(s->cfg.api_key);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < b; i++)
        diff |= (unsigned char)s->cfg.api_key[i] ^ (unsigned char)(i < a ? h[i] : 0);
    return diff == 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls) {
    srv_t *s = cls;
    http_ctx *h = *con_cls;
    srv_error e;
    (void)version;
    if (!h) { /* headers are in: checks that need no body */
        h = calloc(1, sizeof *h);
        if (!h) return MHD_NO;
        *con_cls = h;
        atomic_fetch_add(&s->n_inflight, 1);
        conn_state(s, conn, 1);
        const char *allowed;
        h->route = srv_route(url, &allowed);
        if (!strcmp(method, "OPTIONS") && s->cfg.cors_origin) {
            h->answered = true;
            struct MHD_Response *r =
                MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            if (!r) return MHD_NO;
            add_common(s, r);
            MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                    "Authorization, Content-Type");
            MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
            enum MHD_Result ret = MHD_queue_response(conn, 204, r);
            MHD_destroy_response(r);
            srv_metrics_http(&s->met, 204);
            return ret;
        }
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (h->route == SRV_R_NONE) {
            srv_err(&e, 404, "invalid_request_error", "unknown_url", NULL,
                    "Unknown request URL: %.8s %.200s.", method, url);
        } else if (strcmp(method, allowed)) {
            h->answered = true;
            srv_err(&e, 405, "invalid_request_error", "method_not_allowed", NULL,
                    "Method %.8s is not allowed for %.200s (use %s).", method, url, allowed);
            return send_error(s, conn, &e, allowed);
        } else if (s->cfg.api_key && h->route != SRV_R_HEALTH && !auth_ok(s, conn)) {
            srv_err(&e, 401, "invalid_request_error", "invalid_api_key", NULL,
                    "Incorrect or missing API key: send 'Authorization: Bearer KEY'.");
        } else if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body) {
            srv_err(&e, 413, "invalid_request_error", "request_too_large", NULL,
                    "The request body (%.20s bytes) exceeds the limit of %zu bytes.", cl,
                    s->cfg.max_body);
        } else {
            return MHD_YES;
        }
        h->answered = true;
        return send_error(s, conn, &e, NULL);
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (h->answered) return MHD_YES; /* discarded */
        if (h->too_big || h->len + n > s->cfg.max_body) {
            /* a chunked body past the limit: a response can only be queued once the body is
             * in, so drop the data and answer 413 at its end; past twice the limit, hang up */
            h->discarded += h->len + n; /* body bytes seen */
            free(h->body);
            h->body = NULL;
            h->len = h->cap = 0;
            h->too_big = true;
            return h->discarded / 2 > s->cfg.max_body ? MHD_NO : MHD_YES;
        }
        srv_buf_append(&h->body, &h->len, &h->cap, upload, n);
        return MHD_YES;
    }
    if (h->too_big) {
        h->answered = true;
        srv_err(&e, 413, "invalid_request_error", "request_too_large", NULL,
                "The request body exceeds the limit of %zu bytes.", s->cfg.max_body);
        return send_error(s, conn, &e, NULL);
    }
    if (h->answered) return MHD_YES;
    h->answered = true;
    conn_state(s, conn, 2);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    srv_reply rep;
    srv_handle(s, h->route, h->body, h->len, ci ? ci->connect_fd : -1, &rep);
    free(h->body);
    h->body = NULL;
    return send_reply(s, conn, &rep, NULL);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    srv_t *s = cls;
    http_ctx *h = *con_cls;
    (void)toe;
    if (h) {
        free(h->body);
        free(h);
        *con_cls = NULL;
        atomic_fetch_sub(&s->n_inflight, 1);
    }
    conn_state(s, conn, 0);
}

static void on_log(void *cls, const char *fmt, va_list ap) {
    srv_t *s = cls;
    if (!s->cfg.verbose) return;
    fprintf(stderr, "serve: http: ");
    vfprintf(stderr, fmt, ap);
}

int srv_http_start(srv_t *s, fr_err *err) {
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char port[16];
    snprintf(port, sizeof port, "%d", s->cfg.port);
    int g = getaddrinfo(s->cfg.host, port, &hints, &ai);
    if (g || !ai)
        return fr_fail(err, FR_EINVAL, "cannot resolve --host '%s': %s", s->cfg.host,
                       gai_strerror(g));
    struct sockaddr_storage addr;
    memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
    bool v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    pthread_mutex_init(&s->conn_mu, NULL);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_ITC | (v6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(
        flags, (uint16_t)s->cfg.port, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, on_log,
        s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)s->cfg.timeout_s, MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.max_conn,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        s, MHD_OPTION_LISTEN_BACKLOG_SIZE, 512u, MHD_OPTION_END);
    if (!s->d) {
        pthread_mutex_destroy(&s->conn_mu);
        return fr_fail(err, FR_EIO, "cannot listen on %s:%d (address in use, or not allowed?)",
                       s->cfg.host, s->cfg.port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : s->cfg.port;
    atomic_store(&s->stop_watchdog, 0);
    if (pthread_create(&s->watchdog, NULL, watchdog, s)) {
        MHD_stop_daemon(s->d);
        s->d = NULL;
        pthread_mutex_destroy(&s->conn_mu);
        return fr_fail(err, FR_ENOMEM, "cannot start the watchdog thread");
    }
    return 0;
}

void srv_http_quiesce(srv_t *s) {
    if (!s->d) return;
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET) close(fd);
}

/* waits up to max_s for requests being answered to finish */
void srv_http_settle(srv_t *s, double max_s) {
    double end = srv_now() + max_s;
    while (atomic_load(&s->n_inflight) > 0 && srv_now() < end) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void srv_http_stop(srv_t *s) {
    if (!s->d) return;
    MHD_stop_daemon(s->d);
    s->d = NULL;
    atomic_store(&s->stop_watchdog, 1);
    pthread_join(s->watchdog, NULL);
    pthread_mutex_destroy(&s->conn_mu);
}
