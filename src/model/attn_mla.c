/* attn_mla.c: multi-head latent attention (deepseek2) with a latent KV cache.
 *
 * Per token the cache row of a layer is [c (kv_lora_rank) | k_pe (n_rot)]: the RMS-normed
 * compressed latent and the roped key part every head shares, nothing per head. Attention
 * runs in latent space for prefill and decode alike (MQA over the cache rows):
 *   q_lat[h] = [ W_UK[h]^T q_nope[h] | rope(q_pe[h]) ]          (absorb the key up-projection)
 *   p        = softmax(kq_scale * q_lat[h] . row_j)  over the sequence's cached rows j
 *   o_lat[h] = sum_j p_j c_j;   out[h] = W_UV[h] o_lat[h];   x += W_o out
 * W_UK / W_UV come from attn_k_b / attn_v_b (split layout: plain row-times-vector products in
 * the weights' own type) or from the rows of the legacy attn_kv_b (the value side is again a
 * row product; the key side needs W_UK's columns, so its rows are dequantized once per batch
 * and accumulated). With an f16 cache the query and the probabilities are rounded to f16 for
 * their products with cache rows, as llama.cpp's CPU matmuls do. */
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
} mla_job;

static size_t q16_width(const fr_hparams *hp) {
    size_t w = (size_t)hp->kv_lora_rank + hp->n_rot;
    return hp->head_dim_k > w ? hp->head_dim_k : w;
}

/* one (token, head): o_lat = softmax(q_lat . rows * scale) . latents over positions 0..pos */
static void attend_latent(fr_ctx *c, const fr_step *s, int il, int t, int h, int ith) {
    const fr_hparams *hp = &c->m->hp;
    const fr_kv_cache *kv = &c->kv;
    int64_t H = hp->n_head, C = hp->kv_lora_rank, W = C + hp->n_rot;
    const float *q = c->mla_q + ((size_t)t * H + h) * W;
    float *o = c->mla_o + ((size_t)t * H + h) * C;
    float *sc = c->scores + (size_t)ith * c->p.n_ctx;
    int32_t n_kv = s->pos[t] + 1;
    int f16 = kv->type == FR_TYPE_F16;
    fr_vec_dot_fn dot = fr_type_get(kv->type)->vec_dot;
    const void *qv = q;
    if (f16) {
        fr_f16 *q16 = c->q16 + (size_t)ith * q16_width(hp);
        fr_f16_row_from_f32(q16, q, W);
        qv = q16;
    }
    for (int32_t j = 0; j < n_kv; j++) {
        float d;
        dot(W, &d, fr_kv_k(kv, il, fr_kv_cell(kv, s->seq[t], j)), qv);
        sc[j] = d * hp->attn_scale;
    }
    float inv = op_softmax_exp(sc, n_kv);
    memset(o, 0, sizeof(float) * (size_t)C);
    for (int32_t j = 0; j < n_kv; j++) {
        float p = sc[j] * inv;
        const void *row = fr_kv_k(kv, il, fr_kv_cell(kv, s->seq[t], j));
        if (f16)
            fr_vec_mad_f16_f32(C, o, row, fr_f16_to_f32(fr_f32_to_f16(p)));
        else
            fr_vec_mad_f32(C, o, row, p);
    }
}

static void attn_worker(void *arg, int ith, int nth) {
    mla_job *j = arg;
    int H = (int)j->c->m->hp.n_head;
    int64_t lo, hi;
    (void)nth;
    while (fr_chunker_next(&j->ch, &lo, &hi))
        for (int64_t i = lo; i < hi; i++) {
            int t = (int)(i / H);
            if (j->n_tiled && !j->c->tok_single[t]) continue;
            attend_latent(j->c, j->s, j->il, t, (int)(i % H), ith);
        }
}

/* y[(t*H + h) * ld_y + r] = W row (h * rows_per_head + row_off + r) . x row (t*H + h), for
 * r < n_out: a per-head matrix-vector product over n tokens and H heads */
typedef struct {
    const fr_tensor *w;
    int64_t rows_per_head, row_off, n_out, ld_y;
    const char *xq;
    size_t x_row;
    float *y;
    int n, H;
    fr_split sp;
} head_mm_job;

static void head_mm_worker(void *arg, int ith, int nth) {
    head_mm_job *j = arg;
    fr_vec_dot_fn dot = fr_type_get(j->w->type)->vec_dot;
    int64_t lo, hi, n_in = j->w->ne[0];
    int cursor = ith;
    (void)nth;
    while (fr_split_next(&j->sp, &cursor, &lo, &hi)) {
        for (int64_t i = lo; i < hi; i++) {
            int64_t h = i / j->n_out, r = i % j->n_out;
            const void *wr = fr_tensor_row(j->w, h * j->rows_per_head + j->row_off + r);
            for (int t = 0; t < j->n; t++) {
                size_t th = (size_t)t * j->H + (size_t)h;
                dot(n_in, &j->y[th * j->ld_y + r], wr, j->xq + th * j->x_row);
            }
        }
    }
}

/* head rows x[(t*H + h) * ld_x + 0..n_in) quantized to row (head_major ? h*n + t : t*H + h) of
 * dst, in parallel over rows */
typedef struct {
    char *dst;
    const fr_type_traits *tr;
    fr_type t;
    size_t row;
    const float *x;
    int64_t ld_x, n_in;
    int n, H, head_major;
} head_q_job;

static void head_q_worker(void *arg, int ith, int nth) {
    head_q_job *j = arg;
    for (int i = ith; i < j->n * j->H; i += nth) {
        int t = i / j->H, h = i % j->H;
        const float *src = j->x + (size_t)i * j->ld_x;
        char *dst = j->dst + (size_t)(j->head_major ? h * j->n + t : i) * j->row;
        if (j->t == FR_TYPE_F32)
            memcpy(dst, src, sizeof(float) * (size_t)j->n_in);
        else
            j->tr->from_float(dst, src, j->n_in);
    }
}

/* quantizes the n*H head rows x[(t*H + h) * ld_x + 0..n_in) into c->mla_xq in w's vec_dot_type
 * and runs the per-head product: a batch runs one op_matmul per head (its tiled GEMM) over
 * head-major rows; a single token runs every head in one job */
static void head_mm(fr_ctx *c, float *y, int64_t ld_y, const fr_tensor *w, int64_t rows_per_head,
                    int64_t row_off, int64_t n_out, const float *x, int64_t ld_x, int n) {
    int H = (int)c->m->hp.n_head;
    int64_t n_in = w->ne[0];
    fr_type t = fr_type_get(w->type)->vec_dot_type;
    size_t row = fr_row_size(t, n_in);
    head_q_job q = {c->mla_xq, fr_type_get(t), t, row, x, ld_x, n_in, n, H, n >= 2};
    if ((int64_t)n * H * n_in > OP_SMALL_ELEMS) fr_pool_run(c->pool, head_q_worker, &q);
    else head_q_worker(&q, 0, 1);
    if (n >= 2) {
        for (int h = 0; h < H; h++)
            op_matmul_split(c->pool, y + (size_t)h * ld_y, (int64_t)H * ld_y, w,
                            h * rows_per_head + row_off, n_out,
                            (const char *)c->mla_xq + (size_t)h * n * row, n, c->tok_single,
                            c->mm_scratch);
        return;
    }
    head_mm_job j = {w, rows_per_head, row_off, n_out, ld_y, c->mla_xq, row, y, n, H, {0, 0, {{0}}}};
    fr_split_init(&j.sp, (int64_t)H * n_out, fr_pool_size(c->pool), 0);
    fr_pool_run(c->pool, head_mm_worker, &j);
}

/* legacy layout, key side: q_lat[t, h, 0..C) = sum_i q_nope[t, h, i] * attn_kv_b row
 * (h*(nope+dv)+i) */
typedef struct {
    fr_ctx *c;
    const fr_tensor *w;
    int n;
    fr_chunker ch;
} absorb_job;

static void absorb_worker(void *arg, int ith, int nth) {
    absorb_job *j = arg;
    fr_ctx *c = j->c;
    const fr_hparams *hp = &c->m->hp;
    int64_t H = hp->n_head, C = hp->kv_lora_rank, W = C + hp->n_rot, dk = hp->head_dim_k;
    int64_t nope = dk - hp->n_rot, dv = hp->head_dim_v, lo, hi;
    float *tmp = c->mla_row + (size_t)ith * C;
    const fr_type_traits *tr = fr_type_get(j->w->type);
    (void)nth;
    while (fr_chunker_next(&j->ch, &lo, &hi)) {
        for (int64_t h = lo; h < hi; h++) {
            for (int t = 0; t < j->n; t++)
                memset(c->mla_q + ((size_t)t * H + h) * W, 0, sizeof(float) * C);
            for (int64_t i = 0; i < nope; i++) {
                tr->to_float(tmp, fr_tensor_row(j->w, h * (nope + dv) + i), C);
                for (int t = 0; t < j->n; t++)
                    fr_vec_mad_f32(C, c->mla_q + ((size_t)t * H + h) * W, tmp,
                                   c->q[((size_t)t * H + h) * dk + i]);
            }
        }
    }
}

void blk_attn_mla(fr_ctx *c, const fr_layer *L, int il, const fr_step *s) {
    const fr_hparams *hp = &c->m->hp;
    int n = s->n, H = (int)hp->n_head;
    int64_t e = hp->n_embd, C = hp->kv_lora_rank, R = hp->n_rot, W = C + R;
    int64_t dk = hp->head_dim_k, dv = hp->head_dim_v, nope = dk - R;

    op_rms_norm(c->xn, c->x, (const float *)L->attn_norm->data, n, e, hp->rms_eps);
    /* both projections of xn first: they share its quantization in c->xq */
    fr_xq_cache xc = {0};
    if (L->wq_a) {
        int64_t ql = hp->q_lora_rank;
        float *const ys[2] = {c->k, c->mla_qa}; /* [n, C + R], [n, ql] */
        const fr_tensor *const ws[2] = {L->wkv_a_mqa, L->wq_a};
        const int64_t outs[2] = {W, ql};
        fwd_linear_multi(c, &xc, 2, ys, ws, outs, c->xn, n);
        op_rms_norm(c->mla_qa, c->mla_qa, (const float *)L->q_a_norm->data, n, ql, hp->rms_eps);
        fr_xq_cache xa = {0};
        fwd_linear(c, &xa, c->q, L->wq_b, 0, H * dk, c->mla_qa, n);
    } else {
        float *const ys[2] = {c->k, c->q};
        const fr_tensor *const ws[2] = {L->wkv_a_mqa, L->wq};
        const int64_t outs[2] = {W, H * dk};
        fwd_linear_multi(c, &xc, 2, ys, ws, outs, c->xn, n);
    }
    /* normed latent, rope on k_pe and on each head's q_pe; store the cache rows */
    for (int t = 0; t < n; t++) {
        float *kvr = c->k + (size_t)t * W;
        const float *cs = c->rope_cs + (size_t)t * R;
        op_rms_norm(kvr, kvr, (const float *)L->kv_a_norm->data, 1, C, hp->rms_eps);
        op_rope_apply(kvr + C, cs, 1, R, R, hp->rope_type);
        op_rope_apply(c->q + (size_t)t * H * dk + nope, cs, H, dk, R, hp->rope_type);
    }
    for (int t = 0; t < n; t++)
        fr_kv_store(&c->kv, il, s->seq[t], s->pos[t], c->k + (size_t)t * W, NULL);

    /* absorbed queries: [W_UK^T q_nope | q_pe] per (token, head) */
    if (L->wk_b) {
        head_mm(c, c->mla_q, W, L->wk_b, C, 0, C, c->q, dk, n);
    } else {
        absorb_job aj = {c, L->wkv_b, n, {0}};
        fr_chunker_init(&aj.ch, H, 1);
        fr_pool_run(c->pool, absorb_worker, &aj);
    }
    for (size_t th = 0; th < (size_t)n * H; th++)
        memcpy(c->mla_q + th * W + C, c->q + th * dk + nope, sizeof(float) * (size_t)R);

    fr_attn_tiles_spec sp = {c->mla_q, W, c->mla_o, C, W, C, H, 1, hp->attn_scale};
    mla_job j = {c, s, il, fr_attn_tiles(c, s, il, &sp), {0}};
    if (j.n_tiled < n) { /* tokens the tiles did not take: decodes, or all */
        fr_chunker_init(&j.ch, (int64_t)n * H, 1);
        fr_pool_run(c->pool, attn_worker, &j);
    }

    /* values: out[t, h] = W_UV[h] o_lat[t, h] */
    if (L->wv_b)
        head_mm(c, c->att, dv, L->wv_b, dv, 0, dv, c->mla_o, C, n);
    else
        head_mm(c, c->att, dv, L->wkv_b, nope + dv, nope, dv, c->mla_o, C, n);

    fr_xq_cache xo = {0};
    fwd_linear(c, &xo, c->xn, L->wo, 0, e, c->att, n);
    for (size_t i = 0; i < (size_t)n * e; i++) c->x[i] += c->xn[i];
}
