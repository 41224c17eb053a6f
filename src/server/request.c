/* request.c: the request object a connection thread and the engine share: the engine
 * appends released text and logprob records and signals an eventfd; the connection thread
 * waits on that eventfd and on the client's socket, and takes what is pending. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server.h"

srv_req *srv_req_create(srv_kind kind) {
    srv_req *r = fr_xcalloc(1, sizeof *r);
    r->kind = kind;
    pthread_mutex_init(&r->mu, NULL);
    r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    atomic_init(&r->refs, 1);
    atomic_init(&r->cancel, 0);
    return r;
}

void srv_req_ref(srv_req *r) {
    atomic_fetch_add(&r->refs, 1);
}

void srv_req_unref(srv_req *r) {
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
    free(r->prompt);
    free(r->out);
    free(r->recs);
    if (r->efd >= 0) close(r->efd);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void srv_req_signal(srv_req *r) {
    uint64_t one = 1;
    if (r->efd >= 0 && write(r->efd, &one, sizeof one) < 0) { /* counter full: already signalled */
    }
}

void srv_req_emit(srv_req *r, const char *text, size_t len, const srv_tokrec *rec, int32_t n_gen) {
    pthread_mutex_lock(&r->mu);
    if (len) srv_utf8_append(&r->out, &r->out_len, &r->out_cap, text, len);
    if (rec) {
        if (r->n_recs == r->cap_recs) {
            r->cap_recs = r->cap_recs ? r->cap_recs * 2 : 16;
            r->recs = fr_xrealloc(r->recs, sizeof *r->recs * (size_t)r->cap_recs);
        }
        r->recs[r->n_recs++] = *rec;
    }
    r->n_gen = n_gen;
    if (n_gen > 0 && r->t_first == 0) r->t_first = srv_now();
    pthread_mutex_unlock(&r->mu);
    srv_req_signal(r);
}

void srv_req_finish(srv_req *r, srv_finish f, const srv_error *err) {
    pthread_mutex_lock(&r->mu);
    if (r->finish == SRV_RUNNING) {
        r->finish = f;
        if (err) r->err = *err;
        r->t_end = srv_now();
    }
    pthread_mutex_unlock(&r->mu);
    srv_req_signal(r);
}

int srv_req_wait(srv_req *r, int *fd, int timeout_ms) {
    struct pollfd p[2] = {{r->efd, POLLIN, 0}, {*fd, POLLIN | POLLRDHUP, 0}};
    int n = poll(p, *fd >= 0 ? 2 : 1, timeout_ms);
    if (n <= 0) return 0;
    if (p[0].revents & POLLIN) {
        uint64_t v;
        if (read(r->efd, &v, sizeof v) < 0) { /* EAGAIN: raced with another read */
        }
    }
    if (*fd >= 0 && p[1].revents) {
        if (p[1].revents & (POLLERR | POLLNVAL)) return -1;
        char c;
        ssize_t k = recv(*fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (k == 0) return -1; /* orderly close */
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
        if (k > 0) *fd = -1; /* the client sent more (pipelining): stop watching the socket */
    }
    return 0;
}

srv_finish srv_req_take(srv_req *r, char **text, size_t *len, srv_tokrec **recs, int *n_recs) {
    pthread_mutex_lock(&r->mu);
    *text = r->out;
    *len = r->out_len;
    r->out = NULL;
    r->out_len = r->out_cap = 0;
    if (recs) {
        *recs = r->recs;
        *n_recs = r->n_recs;
        r->recs = NULL;
        r->n_recs = r->cap_recs = 0;
    }
    srv_finish f = r->finish;
    pthread_mutex_unlock(&r->mu);
    return f;
}
