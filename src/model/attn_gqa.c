/* attn_gqa.c: grouped-query attention (llama, qwen2, qwen3, qwen3moe): q/k/v projections
 * with optional biases and per-head q/k RMSNorm, RoPE, K/V rows stored in the paged cache,
 * causal softmax attention of each query head over its sequence's cached positions, and
 * the output projection added to the residual stream. */
#include <math.h>
#include <string.h>

#include "model/attn_tile.h"
#include "quant/vec.h"

typedef struct {
    fr_ctx *c;
    const fr_step *s;
    int il;
    int n_tiled; /* tokens the tiles (attn_tile.h) did; when > 0, only single tokens are left */
    fr_chunker ch;
} attn_job;

/* f16 cache: the query rounded to f16 (as llama.cpp) is dotted with runs of consecutive
 * cached key rows, and the f16-rounded softmax weights accumulate runs of value rows, so
 * the SIMD row kernels (quant/vec.h) see whole cache blocks at a time. */
static void attend_one_f16(fr_ctx *c, const fr_step *s, int il, int t, int h, int ith) {
    const fr_hparams *hp = &c->m->hp;
    const fr_kv_cache *kv = &c->kv;
    int64_t dk = hp->head_dim_k, dv = hp->head_dim_v;
    int g = h / (int)(hp->n_head / hp->n_head_kv);
    const float *q = c->q + ((size_t)t * hp->n_head + h) * dk;
    float *out = c->att + ((size_t)t * hp->n_head + h) * dv;
    float *sc = c->scores + (size_t)ith * c->p.n_ctx;
    float qr[1024]; /* [dk] the query, f16-rounded */
    int32_t n_kv = s->pos[t] + 1, bs = kv->block_size;
    fr_f16_row_from_f32(c->q16 + (size_t)ith * dk, q, dk);
    fr_f32_row_from_f16(qr, c->q16 + (size_t)ith * dk, dk);
    const int64_t ldk = (int64_t)(kv->row_k / sizeof(fr_f16)), ldv = (int64_t)(kv->row_v / sizeof(fr_f16));
    for (int32_t j = 0; j < n_kv;) {
        int32_t run = bs - j % bs < n_kv - j ? bs - j % bs : n_kv - j;
        const fr_f16 *k0 = (const fr_f16 *)fr_kv_k(kv, il, fr_kv_cell(kv, s->seq[t], j)) + (size_t)g * dk;
        fr_vec_dot_f16_rows(sc + j, k0, ldk, run, qr, dk);
        j += run;
    }
    for (int32_t j = 0; j < n_kv; j++) sc[j] *= hp->attn_scale;
    float inv = op_softmax_exp(sc, n_kv);
    fr_f16 tmp[256];
    for (int32_t j = 0; j < n_kv; j += 256) { /* round the weights through f16 */
        int32_t m = n_kv - j < 256 ? n_kv - j : 256;
        fr_vec_scale_f32(m, sc + j, inv);
        fr_f16_row_from_f32(tmp, sc + j, m);
        fr_f32_row_from_f16(sc + j, tmp, m);
    }
    memset(out, 0, sizeof(float) * (size_t)dv);
    for (int32_t j = 0; j < n_kv;) {
        int32_t run = bs - j % bs < n_kv - j ? bs - j % bs : n_kv - j;
        const fr_f16 *v0 = (const fr_f16 *)fr_kv_v(kv, il, fr_kv_cell(kv, s->seq[t], j)) + (size_t)g * dv;
        fr_vec_mad_f16_rows(out, v0, ldv, run, sc + j, dv);
        j += run;
    }
}

/* one (token, head) pair: att[t, h] = softmax(q k^T * scale) v over positions 0..pos[t] */
static void attend_one(fr_ctx *c, const fr_step *s, int il, int t, int h, int ith) {
    const fr_hparams *hp = &c->m->hp;
    const fr_kv_cache *kv = &c->kv;
    if (kv->type == FR_TYPE_F16 && hp->head_dim_k <= 1024) {
        attend_one_f16(c, s, il, t, h, ith);
        return;
    }
    int64_t dk = hp->head_dim_k, dv = hp->head_dim_v;
    int g = h / (int)(hp->n_head / hp->n_head_kv);
    const float *q = c->q + ((size_t)t * hp->n_head + h) * dk;
    float *out = c->att + ((size_t)t * hp->n_head + h) * dv;
    float *sc = c->scores + (size_t)ith * c->p.n_ctx;
    int32_t n_kv = s->pos[t] + 1;
    int f16 = kv->type == FR_TYPE_F16;
    fr_vec_dot_fn dot = fr_type_get(kv->type)->vec_dot;
    const void *qv = q;
    if (f16) { /* as llama.cpp: the query is rounded to f16 for the k dot products */
        fr_f16 *q16 = c->q16 + (size_t)ith * dk;
        for (int64_t i = 0; i < dk; i++) q16[i] = fr_f32_to_f16(q[i]);
        qv = q16;
    }
    size_t es = f16 ? 2 : 4;
    for (int32_t j = 0; j < n_kv; j++) {
        int64_t cell = fr_kv_cell(kv, s->seq[t], j);
        const char *krow = (const char *)fr_kv_k(kv, il, cell) + (size_t)g * dk * es;
        float d;
        dot(dk, &d, krow, qv);
        sc[j] = d * hp->attn_scale;
    }
    float inv = op_softmax_exp(sc, n_kv);
    memset(out, 0, sizeof(float) * (size_t)dv);
    for (int32_t j = 0; j < n_kv; j++) {
        float p = sc[j] * inv;
        int64_t cell = fr_kv_cell(kv, s->seq[t], j);
        const char *vrow = (const char *)fr_kv_v(kv, il, cell) + (size_t)g * dv * es;
        if (f16) {
            p = fr_f16_to_f32(fr_f32_to_f16(p)); /* llama.cpp rounds the weights to f16 too */
            fr_vec_mad_f16_f32(dv, out, (const fr_f16 *)vrow, p);
        } else {
            fr_vec_mad_f32(dv, out, (const float *)vrow, p);
        }
    }
}

static void attn_worker(void *arg, int ith, int nth) {
    attn_job *j = arg;
    int nh = (int)j->c->m->hp.n_head;
    int64_t lo, hi;
    (void)nth;
    while (fr_chunker_next(&j->ch, &lo, &hi))
        for (int64_t i = lo; i < hi; i++) {
            int t = (int)(i / nh);
            if (j->n_tiled && !j->c->tok_single[t]) continue;
            attend_one(j->c, j->s, j->il, t, (int)(i % nh), ith);
        }
}

/* per-head RMSNorm of n_heads heads of width d in each of n rows */
static void head_norm(float *x, const float *w, int n, int n_heads, int64_t d, float eps) {
    op_rms_norm(x, x, w, n * n_heads, d, eps);
}

void blk_attn_gqa(fr_ctx *c, const fr_layer *L, int il, const fr_step *s) {
    const fr_hparams *hp = &c->m->hp;
    int n = s->n;
    int64_t e = hp->n_embd, nq = (int64_t)hp->n_head * hp->head_dim_k;
    int64_t nk = (int64_t)hp->n_head_kv * hp->head_dim_k, nv = (int64_t)hp->n_head_kv * hp->head_dim_v;
    int64_t no = (int64_t)hp->n_head * hp->head_dim_v;

    op_rms_norm(c->xn, c->x, (const float *)L->attn_norm->data, n, e, hp->rms_eps);
    fr_xq_cache xc = {0};
    float *const ys[3] = {c->q, c->k, c->v};
    const fr_tensor *const ws[3] = {L->wq, L->wk, L->wv};
    const int64_t outs[3] = {nq, nk, nv};
    fwd_linear_multi(c, &xc, 3, ys, ws, outs, c->xn, n);
    if (L->bq) op_add_bias(c->q, (const float *)L->bq->data, n, nq);
    if (L->bk) op_add_bias(c->k, (const float *)L->bk->data, n, nk);
    if (L->bv) op_add_bias(c->v, (const float *)L->bv->data, n, nv);
    if (L->q_norm) head_norm(c->q, (const float *)L->q_norm->data, n, (int)hp->n_head, hp->head_dim_k, hp->rms_eps);
    if (L->k_norm) head_norm(c->k, (const float *)L->k_norm->data, n, (int)hp->n_head_kv, hp->head_dim_k, hp->rms_eps);
    for (int t = 0; t < n; t++) {
        const float *cs = c->rope_cs + (size_t)t * hp->n_rot;
        op_rope_apply(c->q + (size_t)t * nq, cs, (int)hp->n_head, hp->head_dim_k, hp->n_rot, hp->rope_type);
        op_rope_apply(c->k + (size_t)t * nk, cs, (int)hp->n_head_kv, hp->head_dim_k, hp->n_rot, hp->rope_type);
    }
    for (int t = 0; t < n; t++)
        fr_kv_store(&c->kv, il, s->seq[t], s->pos[t], c->k + (size_t)t * nk, c->v + (size_t)t * nv);

    fr_attn_tiles_spec sp = {c->q, hp->head_dim_k, c->att, hp->head_dim_v, hp->head_dim_k,
                             hp->head_dim_v, (int)(hp->n_head / hp->n_head_kv), 0, hp->attn_scale};
    attn_job j = {c, s, il, fr_attn_tiles(c, s, il, &sp), {0}};
    if (j.n_tiled < n) { /* tokens the tiles did not take: decodes, or all */
        fr_chunker_init(&j.ch, (int64_t)n * hp->n_head, 1);
        fr_pool_run(c->pool, attn_worker, &j);
    }

    /* output projection into xn, then residual add */
    fr_xq_cache xo = {0};
    fwd_linear(c, &xo, c->xn, L->wo, 0, e, c->att, n);
    if (L->bo) op_add_bias(c->xn, (const float *)L->bo->data, n, e);
    for (size_t i = 0; i < (size_t)n * e; i++) c->x[i] += c->xn[i];
    (void)no;
}
