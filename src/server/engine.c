/* engine.c: the scheduler/batcher thread. It owns the fr_ctx: a bounded FIFO of submitted
 * requests, `parallel` slots (one KV sequence each), and a loop of steps. Each step is one
 * fr_decode over the next token of every generating slot plus a chunk of the prompts being
 * prefilled (at most prefill_chunk tokens while others generate, so running streams keep
 * their pace), then sampling, stop checks and text release for every slot with logits.
 *
 * Admission: a queued request takes an idle slot, attaches the cached KV blocks of its
 * longest known prompt prefix, and is admitted only if the blocks it may still need (up to
 * prompt + max_tokens) plus those every running slot may still need fit in the free and
 * evictable blocks; so a running request never fails for lack of cache. Finished and
 * cancelled slots publish their computed blocks for reuse and release them at once. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sample/sample.h"
#include "server/server.h"

enum { SLOT_IDLE, SLOT_PREFILL, SLOT_GEN };

typedef struct srv_slot {
    srv_req *r;
    int state;
    uint64_t order; /* admission order: earlier prompts prefill first */
    int32_t *hist;  /* [cap_hist] prompt then generated tokens */
    int32_t n_hist, cap_hist;
    int32_t n_sched;     /* tokens of this slot in the current batch */
    int32_t need_blocks; /* blocks this request may hold at most */
    int32_t last;        /* last sampled token (next to evaluate) */
    int32_t n_gen;
    fr_sampler *smp;
    tok_stream ts;
    char *text;                      /* the whole completion text so far (raw bytes) */
    size_t text_len, text_cap, sent; /* bytes released to the request */
    int32_t *counts;                 /* [n_vocab] generated-token counts (penalties), or NULL */
    float *work;                     /* [n_vocab] adjusted logits, or NULL */
} srv_slot;

struct srv_engine {
    fr_ctx *c;
    const tok_vocab *v;
    const srv_config *cfg;
    srv_metrics *met;
    int32_t n_vocab;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    srv_req **q;              /* [q_cap] ring of submitted requests not yet in a slot */
    int q_head, q_len, q_cap; /* q_cap = --queue + slots: requests about to take an idle
                                 slot do not count as waiting */
    bool draining, cut, exit, started;
    int n_active;
    srv_slot *slots; /* [n_slots] */
    int n_slots;
    uint64_t n_admitted;
    /* the batch, [n_batch] */
    int32_t *tok, *pos, *seq, *row_slot;
    int8_t *want;
    char piece[65536];
    uint64_t step_gen; /* tokens generated in the current step */
};

static int32_t blocks_for(const fr_kv_cache *kv, int64_t n_pos) {
    return (int32_t)((n_pos + kv->block_size - 1) / kv->block_size);
}

/* ---- slots ---- */

static void hist_push(srv_slot *s, int32_t t) {
    if (s->n_hist == s->cap_hist) {
        s->cap_hist = s->cap_hist ? s->cap_hist * 2 : 256;
        s->hist = fr_xrealloc(s->hist, sizeof(int32_t) * (size_t)s->cap_hist);
    }
    s->hist[s->n_hist++] = t;
}

static void slot_release(srv_engine *e, int si, srv_finish f, const srv_error *err) {
    srv_slot *s = &e->slots[si];
    fr_kv_cache *kv = &e->c->kv;
    if (!e->cfg->no_prefix_cache && f != SRV_FIN_ERROR)
        fr_kv_prefix_publish(kv, si, s->hist, fr_ctx_seq_len(e->c, si));
    fr_ctx_truncate(e->c, si, 0);
    srv_req_finish(s->r, f, err);
    pthread_mutex_lock(&e->met->mu);
    if (f == SRV_FIN_CANCEL)
        e->met->requests_cancelled++;
    else if (f == SRV_FIN_ERROR)
        e->met->requests_failed++;
    else
        e->met->requests_ok++;
    pthread_mutex_unlock(&e->met->mu);
    if (e->cfg->verbose)
        fprintf(stderr, "serve: %s slot %d: %d prompt (%d cached) + %d tokens, %s\n", s->r->id, si,
                s->r->n_prompt, s->r->n_cached, s->n_gen, srv_finish_name(f));
    srv_req_unref(s->r);
    s->r = NULL;
    s->state = SLOT_IDLE;
    fr_sampler_free(s->smp);
    s->smp = NULL;
    free(s->counts);
    free(s->work);
    s->counts = NULL;
    s->work = NULL;
    s->text_len = s->sent = 0;
    s->n_hist = 0;
    pthread_mutex_lock(&e->mu);
    e->n_active--;
    pthread_mutex_unlock(&e->mu);
}

static void slot_start(srv_engine *e, int si, srv_req *r, int32_t cached, int32_t need) {
    srv_slot *s = &e->slots[si];
    const srv_params *p = &r->p;
    s->r = r;
    s->state = SLOT_PREFILL;
    s->order = e->n_admitted++;
    s->n_hist = 0;
    for (int32_t i = 0; i < r->n_prompt; i++) hist_push(s, r->prompt[i]);
    s->need_blocks = need;
    s->n_gen = 0;
    s->text_len = s->sent = 0;
    memset(&s->ts, 0, sizeof s->ts);
    fr_sampler_params sp = fr_sampler_default_params();
    sp.temp = p->temp, sp.top_k = p->top_k, sp.top_p = p->top_p, sp.min_p = p->min_p;
    sp.repeat_penalty = 1.0f, sp.repeat_last_n = 0, sp.seed = p->seed;
    s->smp = fr_sampler_create(&sp, e->n_vocab);
    if (p->presence != 0 || p->frequency != 0)
        s->counts = fr_xcalloc((size_t)e->n_vocab, sizeof(int32_t));
    if (s->counts || p->n_bias) s->work = fr_xmalloc(sizeof(float) * (size_t)e->n_vocab);
    r->n_cached = cached;
    r->t_start = srv_now();
    e->n_active++;
}

/* samples the next token; fills rec with the model's log probabilities when asked */
static int32_t slot_sample(srv_engine *e, srv_slot *s, const float *logits, srv_tokrec *rec) {
    const srv_params *p = &s->r->p;
    int32_t n = e->n_vocab;
    const float *l = logits;
    if (s->work) {
        memcpy(s->work, logits, sizeof(float) * (size_t)n);
        for (int i = 0; i < p->n_bias; i++) s->work[p->bias_id[i]] += p->bias[i];
        if (s->counts)
            for (int32_t i = 0; i < n; i++)
                if (s->counts[i]) s->work[i] -= (float)s->counts[i] * p->frequency + p->presence;
        l = s->work;
    }
    int32_t tok = fr_sampler_sample(s->smp, l);
    if (s->counts) s->counts[tok]++;
    if (rec) {
        float mx = logits[0];
        for (int32_t i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
        double sum = 0;
        for (int32_t i = 0; i < n; i++) sum += exp((double)logits[i] - mx);
        float lse = mx + (float)log(sum);
        rec->id = tok;
        rec->lp = logits[tok] - lse;
        int k = p->top_logprobs;
        rec->n_top = 0;
        for (int32_t i = 0; i < n && k > 0; i++) {
            if (rec->n_top == k && logits[i] <= logits[rec->top_id[k - 1]]) continue;
            int j = rec->n_top < k ? rec->n_top++ : k - 1;
            while (j > 0 && logits[rec->top_id[j - 1]] < logits[i]) {
                rec->top_id[j] = rec->top_id[j - 1];
                j--;
            }
            rec->top_id[j] = i;
        }
        for (int j = 0; j < rec->n_top; j++) rec->top_lp[j] = logits[rec->top_id[j]] - lse;
    }
    return tok;
}

/* a slot got logits: sample, extend the text, check the stop conditions, release text */
static void slot_token(srv_engine *e, int si, const float *logits) {
    srv_slot *s = &e->slots[si];
    srv_req *r = s->r;
    const srv_params *p = &r->p;
    if (s->state == SLOT_PREFILL) {
        if (!e->cfg->no_prefix_cache) fr_kv_prefix_publish(&e->c->kv, si, s->hist, r->n_prompt);
        s->state = SLOT_GEN;
    }
    srv_tokrec rec;
    int32_t tok = slot_sample(e, s, logits, p->logprobs ? &rec : NULL);
    hist_push(s, tok);
    s->n_gen++;
    e->step_gen++;
    srv_finish fin = SRV_RUNNING;
    size_t old = s->text_len;
    if (!p->ignore_eos && tok_is_eog(e->v, tok)) {
        fin = SRV_FIN_STOP;
    } else {
        size_t k = tok_stream_push(&s->ts, e->v, tok, e->piece, sizeof e->piece);
        srv_buf_append(&s->text, &s->text_len, &s->text_cap, e->piece,
                       k < sizeof e->piece ? k : sizeof e->piece);
    }
    if (!fin && (s->n_gen >= p->max_tokens || r->n_prompt + s->n_gen >= e->cfg->n_ctx_seq))
        fin = SRV_FIN_LENGTH;
    if (fin) { /* bytes held back as an incomplete character come out now, as `frugal run` prints
                  them */
        size_t k = tok_stream_flush(&s->ts, e->piece, sizeof e->piece);
        srv_buf_append(&s->text, &s->text_len, &s->text_cap, e->piece,
                       k < sizeof e->piece ? k : sizeof e->piece);
    }
    size_t hold = 0;
    if (p->n_stop) {
        size_t at = srv_stop_find(s->text, s->text_len, old, p, &hold);
        if (at != (size_t)-1) {
            s->text_len = at < s->sent ? s->sent : at;
            fin = SRV_FIN_STOP;
        }
    }
    if (fin) hold = 0;
    size_t rel = s->text_len - hold;
    if (rel < s->sent) rel = s->sent;
    srv_req_emit(r, s->text + s->sent, rel - s->sent, p->logprobs ? &rec : NULL, s->n_gen);
    s->sent = rel;
    if (fin)
        slot_release(e, si, fin, NULL);
    else
        s->last = tok;
}

/* ---- admission ---- */

static srv_req *q_pop(srv_engine *e) {
    srv_req *r = e->q[e->q_head];
    e->q_head = (e->q_head + 1) % e->q_cap;
    e->q_len--;
    return r;
}

/* drops cancelled requests anywhere in the queue (lock held) */
static void q_sweep(srv_engine *e) {
    int w = 0;
    for (int i = 0; i < e->q_len; i++) {
        srv_req *r = e->q[(e->q_head + i) % e->q_cap];
        if (atomic_load(&r->cancel)) {
            srv_req_finish(r, SRV_FIN_CANCEL, NULL);
            srv_req_unref(r);
            pthread_mutex_lock(&e->met->mu);
            e->met->requests_cancelled++;
            pthread_mutex_unlock(&e->met->mu);
        } else {
            e->q[(e->q_head + w++) % e->q_cap] = r;
        }
    }
    e->q_len = w;
}

static void admit(srv_engine *e) { /* lock held */
    fr_kv_cache *kv = &e->c->kv;
    q_sweep(e);
    while (e->q_len) {
        srv_req *r = e->q[e->q_head];
        if (e->draining) {
            srv_error err;
            srv_err(&err, 503, "server_error", "server_shutting_down", NULL,
                    "the server is shutting down");
            srv_req_finish(q_pop(e), SRV_FIN_ERROR, &err);
            srv_req_unref(r);
            continue;
        }
        int si = -1;
        for (int i = 0; i < e->n_slots && si < 0; i++)
            if (e->slots[i].state == SLOT_IDLE) si = i;
        if (si < 0) break;
        /* at least 2 prompt tokens stay to evaluate: a lone prompt token would take the
         * one-token (decode) kernels and differ in the last bits from `frugal run`, which
         * evaluates the whole prompt as one batch */
        int32_t attachable = r->n_prompt - 2 > 0 ? r->n_prompt - 2 : 0;
        int32_t cached =
            e->cfg->no_prefix_cache ? 0 : fr_kv_prefix_attach(kv, si, r->prompt, attachable);
        int64_t total = (int64_t)r->n_prompt + r->p.max_tokens;
        if (total > e->cfg->n_ctx_seq) total = e->cfg->n_ctx_seq;
        int32_t need = blocks_for(kv, total);
        int64_t committed = need - kv->seqs[si].n_blocks;
        for (int i = 0; i < e->n_slots; i++)
            if (e->slots[i].state != SLOT_IDLE && e->slots[i].need_blocks > kv->seqs[i].n_blocks)
                committed += e->slots[i].need_blocks - kv->seqs[i].n_blocks;
        if (committed > fr_kv_blocks_available(kv)) { /* wait for running requests to finish */
            fr_kv_truncate(kv, si, 0);
            break;
        }
        q_pop(e);
        slot_start(e, si, r, cached, need);
        pthread_mutex_lock(&e->met->mu);
        e->met->prompt_tokens += (uint64_t)r->n_prompt;
        e->met->prompt_cached += (uint64_t)cached;
        pthread_mutex_unlock(&e->met->mu);
    }
}

/* ---- one step ---- */

static void step(srv_engine *e) {
    fr_ctx *c = e->c;
    int n = 0, n_rows = 0, n_gen = 0;
    for (int i = 0; i < e->n_slots; i++) {
        srv_slot *s = &e->slots[i];
        s->n_sched = 0;
        if (s->state != SLOT_GEN) continue;
        e->tok[n] = s->last, e->pos[n] = fr_ctx_seq_len(c, i), e->seq[n] = i, e->want[n] = 1;
        e->row_slot[n_rows++] = i;
        s->n_sched = 1;
        n++, n_gen++;
    }
    int budget = c->p.n_batch - n;
    if (n_gen > 0 && budget > e->cfg->prefill_chunk) budget = e->cfg->prefill_chunk;
    while (budget > 0) { /* prompts, oldest admission first */
        int si = -1;
        for (int i = 0; i < e->n_slots; i++)
            if (e->slots[i].state == SLOT_PREFILL && !e->slots[i].n_sched &&
                (si < 0 || e->slots[i].order < e->slots[si].order))
                si = i;
        if (si < 0) break;
        srv_slot *s = &e->slots[si];
        int32_t p0 = fr_ctx_seq_len(c, si), left = s->r->n_prompt - p0;
        int32_t k = left < budget ? left : budget;
        if (left - k == 1 && k > 2) k--; /* never leave a single prompt token for later */
        /* nor schedule one alone while a later step can take two or more */
        if (k == 1 && left > 1 && c->p.n_batch - n_gen >= 2 && e->cfg->prefill_chunk >= 2) break;
        for (int32_t j = 0; j < k; j++) {
            e->tok[n] = s->hist[p0 + j], e->pos[n] = p0 + j, e->seq[n] = si;
            e->want[n] = p0 + j == s->r->n_prompt - 1;
            if (e->want[n]) e->row_slot[n_rows++] = si;
            n++;
        }
        s->n_sched = k;
        budget -= k;
    }
    if (n == 0) return;
    fr_batch b = {n, e->tok, e->pos, e->seq, e->want};
    fr_err err;
    double t0 = srv_now();
    int rc = fr_decode(c, &b, &err);
    double t1 = srv_now();
    if (rc) {
        srv_error se;
        srv_err(&se, 500, "server_error", NULL, NULL, "evaluation failed: %s", err.msg);
        fprintf(stderr, "serve: %s\n", se.msg);
        for (int i = 0; i < e->n_slots; i++)
            if (e->slots[i].n_sched) slot_release(e, i, SRV_FIN_ERROR, &se);
        return;
    }
    e->step_gen = 0;
    for (int j = 0; j < n_rows; j++) slot_token(e, e->row_slot[j], fr_ctx_logits(c, j));
    pthread_mutex_lock(&e->met->mu);
    e->met->steps++;
    e->met->busy_s += t1 - t0;
    e->met->gen_tokens += e->step_gen;
    pthread_mutex_unlock(&e->met->mu);
}

static void publish_gauges(srv_engine *e) {
    const fr_kv_cache *kv = &e->c->kv;
    pthread_mutex_lock(&e->met->mu);
    e->met->running = e->n_active;
    e->met->queued = e->q_len;
    e->met->kv_total = kv->n_blocks;
    e->met->kv_in_use = fr_kv_blocks_in_use(kv);
    e->met->kv_registered = kv->n_reg;
    e->met->kv_hits = kv->n_prefix_hits;
    e->met->kv_evictions = kv->n_evictions;
    pthread_mutex_unlock(&e->met->mu);
}

static void *engine_main(void *arg) {
    srv_engine *e = arg;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (!e->exit && e->q_len == 0 && e->n_active == 0) {
            publish_gauges(e);
            pthread_cond_wait(&e->cv, &e->mu);
        }
        if (e->exit && e->q_len == 0 && e->n_active == 0) break;
        bool cut = e->cut;
        admit(e);
        publish_gauges(e);
        pthread_mutex_unlock(&e->mu);
        for (int i = 0; i < e->n_slots; i++) {
            srv_slot *s = &e->slots[i];
            if (s->state == SLOT_IDLE) continue;
            if (atomic_load(&s->r->cancel))
                slot_release(e, i, SRV_FIN_CANCEL, NULL);
            else if (cut)
                slot_release(e, i, SRV_FIN_LENGTH, NULL);
        }
        step(e);
        pthread_mutex_lock(&e->mu);
        publish_gauges(e);
        if (e->n_active == 0 && e->q_len > 0 && !e->draining) {
            /* nothing runs and the head does not fit: cannot happen (a request alone always
             * fits), but never spin */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 10 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&e->cv, &e->mu, &ts);
        }
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* ---- API ---- */

int srv_engine_start(srv_engine **out, fr_ctx *c, const srv_config *cfg, srv_metrics *met,
                     fr_err *err) {
    if (c->p.n_batch < cfg->parallel)
        return fr_fail(err, FR_EINVAL, "batch size %d is smaller than --parallel %d", c->p.n_batch,
                       cfg->parallel);
    if (c->kv.n_seq < cfg->parallel)
        return fr_fail(err, FR_EINVAL, "context has %d sequences, --parallel wants %d", c->kv.n_seq,
                       cfg->parallel);
    srv_engine *e = fr_xcalloc(1, sizeof *e);
    e->c = c;
    e->v = c->m->vocab;
    e->cfg = cfg;
    e->met = met;
    e->n_vocab = (int32_t)c->m->hp.n_vocab;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    e->q_cap = (cfg->queue_size > 0 ? cfg->queue_size : 1) + cfg->parallel;
    e->q = fr_xcalloc((size_t)e->q_cap, sizeof *e->q);
    e->n_slots = cfg->parallel;
    e->slots = fr_xcalloc((size_t)e->n_slots, sizeof *e->slots);
    size_t B = (size_t)c->p.n_batch;
    e->tok = fr_xmalloc(B * sizeof(int32_t));
    e->pos = fr_xmalloc(B * sizeof(int32_t));
    e->seq = fr_xmalloc(B * sizeof(int32_t));
    e->row_slot = fr_xmalloc(B * sizeof(int32_t));
    e->want = fr_xmalloc(B);
    e->started = pthread_create(&e->th, NULL, engine_main, e) == 0;
    if (!e->started) {
        srv_engine_free(e);
        return fr_fail(err, FR_ENOMEM, "cannot start the engine thread");
    }
    *out = e;
    return 0;
}

int srv_engine_submit(srv_engine *e, srv_req *r, srv_error *err) {
    pthread_mutex_lock(&e->mu);
    int rc = 0;
    if (e->draining || e->exit) {
        rc = srv_err(err, 503, "server_error", "server_shutting_down", NULL,
                     "the server is shutting down");
    } else if (e->q_len >= e->q_cap - e->n_slots + (e->n_slots - e->n_active)) {
        rc = srv_err(
            err, 503, "server_error", "server_overloaded", NULL,
            "the server is busy: %d requests are waiting for %d slots (--queue %d); retry later",
            e->q_len, e->n_slots, e->q_cap - e->n_slots);
    } else {
        srv_req_ref(r);
        e->q[(e->q_head + e->q_len++) % e->q_cap] = r;
        pthread_cond_signal(&e->cv);
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

void srv_engine_wake(srv_engine *e) {
    pthread_mutex_lock(&e->mu);
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

void srv_engine_drain(srv_engine *e) {
    pthread_mutex_lock(&e->mu);
    e->draining = true;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

bool srv_engine_busy(srv_engine *e) {
    pthread_mutex_lock(&e->mu);
    bool b = e->n_active > 0 || e->q_len > 0;
    pthread_mutex_unlock(&e->mu);
    return b;
}

void srv_engine_stop(srv_engine *e) {
    if (!e) return;
    pthread_mutex_lock(&e->mu);
    bool started = e->started;
    e->draining = e->cut = e->exit = true;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    if (started) pthread_join(e->th, NULL);
    e->started = false;
}

void srv_engine_free(srv_engine *e) {
    if (!e) return;
    srv_engine_stop(e);
    for (int i = 0; i < e->n_slots; i++) free(e->slots[i].hist), free(e->slots[i].text);
    free(e->slots);
    free(e->q);
    free(e->tok), free(e->pos), free(e->seq), free(e->row_slot), free(e->want);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
    free(e);
}
