/* ctx.c: creating an inference context: the KV cache layout for the model's attention
 * kind and the working buffers of the forward pass, sized once for n_batch tokens. */
#include "model/ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"

fr_ctx_params fr_ctx_default_params(void) {
    fr_ctx_params p = {.n_ctx = 0, .n_batch = 512, .n_threads = 0, .kv_type = FR_TYPE_F16, .n_seq = 1};
    return p;
}

static void *alloc_buf(size_t bytes, size_t *total, int *fail) {
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) *fail = 1;
    *total += bytes;
    return p;
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

int fr_ctx_create(fr_ctx **out, const fr_model *m, const fr_ctx_params *pin, fr_err *err) {
    const fr_hparams *hp = &m->hp;
    fr_ctx *c = fr_xcalloc(1, sizeof *c);
    *out = NULL;
    c->m = m;
    c->p = pin ? *pin : fr_ctx_default_params();
    if (c->p.n_ctx <= 0) c->p.n_ctx = hp->n_ctx_train < 4096 ? (int32_t)hp->n_ctx_train : 4096;
    if (c->p.n_ctx <= 0) c->p.n_ctx = 4096;
    if (c->p.n_batch <= 0) c->p.n_batch = 512;
    if (c->p.n_batch > c->p.n_ctx) c->p.n_batch = c->p.n_ctx;
    if (c->p.n_threads <= 0) c->p.n_threads = fr_cpu()->n_physical;
    if (c->p.n_seq <= 0) c->p.n_seq = 1;
    if (c->p.kv_type != FR_TYPE_F16 && c->p.kv_type != FR_TYPE_F32) {
        free(c);
        return fr_fail(err, FR_EINVAL, "KV cache type must be f16 or f32");
    }
    /* GQA caches per-head keys and values; MLA caches the compressed latent plus the
     * shared RoPE key part as one row and no V row */
    int64_t wk = (int64_t)hp->n_head_kv * hp->head_dim_k, wv = (int64_t)hp->n_head_kv * hp->head_dim_v;
    if (hp->kv_lora_rank) wk = (int64_t)hp->kv_lora_rank + hp->n_rot, wv = 0;
    int rc = fr_kv_init(&c->kv, (fr_type)c->p.kv_type, (int)hp->n_layer, wk, wv, c->p.n_ctx, 32, c->p.n_seq, err);
    if (rc) {
        free(c);
        return rc;
    }
    c->pool = fr_pool_create(c->p.n_threads);

    size_t B = (size_t)c->p.n_batch, tot = 0;
    int fail = 0;
    size_t n_q = (size_t)hp->n_head * hp->head_dim_k, n_att = (size_t)hp->n_head * hp->head_dim_v;
    size_t n_ff = max_sz(hp->n_ff, (size_t)hp->n_ff_exp * (hp->n_expert_shared ? hp->n_expert_shared : 1));
    size_t widest = max_sz(max_sz(hp->n_embd, n_ff), max_sz(n_att, n_q));
    widest = max_sz(widest, max_sz(hp->q_lora_rank, hp->kv_lora_rank));
    c->x = alloc_buf(B * hp->n_embd * 4, &tot, &fail);
    c->xn = alloc_buf(B * hp->n_embd * 4, &tot, &fail);
    c->q = alloc_buf(B * n_q * 4, &tot, &fail);
    c->k = alloc_buf(B * (size_t)wk * 4, &tot, &fail);
    c->v = alloc_buf(B * (size_t)wv * 4, &tot, &fail);
    c->att = alloc_buf(B * n_att * 4, &tot, &fail);
    c->ff_a = alloc_buf(B * n_ff * 4, &tot, &fail);
    c->ff_b = alloc_buf(B * n_ff * 4, &tot, &fail);
    /* widest activation row in any vec_dot_type: f32 is the largest per element */
    c->xq_bytes = B * widest * 4 + 1024;
    c->xq = alloc_buf(c->xq_bytes, &tot, &fail);
    c->rope_cs = alloc_buf(B * hp->n_rot * 4 + 4, &tot, &fail);
    c->scores = alloc_buf((size_t)c->p.n_threads * (size_t)c->p.n_ctx * 4, &tot, &fail);
    size_t q16w = max_sz(hp->head_dim_k, hp->kv_lora_rank ? (size_t)hp->kv_lora_rank + hp->n_rot : 0);
    c->q16 = alloc_buf((size_t)c->p.n_threads * q16w * 2, &tot, &fail);
    c->logits = alloc_buf(B * hp->n_vocab * 4, &tot, &fail);
    c->out_idx = alloc_buf(B * sizeof(int32_t), &tot, &fail);
    c->seq_zero = alloc_buf(B * sizeof(int32_t), &tot, &fail);
    c->tok_single = alloc_buf(B, &tot, &fail);
    c->out_single = alloc_buf(B, &tot, &fail);
    c->mm_scratch = alloc_buf(B * sizeof(int32_t), &tot, &fail);
    c->seq_count = alloc_buf((size_t)c->p.n_seq * sizeof(int32_t), &tot, &fail);
    if (hp->kv_lora_rank) {
        size_t H = hp->n_head, C = hp->kv_lora_rank, R = hp->n_rot;
        size_t nope = hp->head_dim_k > R ? hp->head_dim_k - R : 1;
        c->mla_qa = alloc_buf(B * (hp->q_lora_rank ? hp->q_lora_rank : 1) * 4, &tot, &fail);
        c->mla_q = alloc_buf(B * H * (C + R) * 4, &tot, &fail);
        c->mla_o = alloc_buf(B * H * C * 4, &tot, &fail);
        c->mla_xq = alloc_buf(B * H * max_sz(C, nope) * 4 + 1024, &tot, &fail);
        c->mla_row = alloc_buf((size_t)c->p.n_threads * C * 4, &tot, &fail);
    }
    if (hp->n_expert) {
        size_t E = hp->n_expert, K = hp->n_expert_used, F = hp->n_ff_exp, e = hp->n_embd;
        c->moe_logits = alloc_buf(B * E * 4, &tot, &fail);
        c->moe_scratch = alloc_buf((3 * E + 2 * (size_t)hp->n_expert_groups + 1) * 4, &tot, &fail);
        c->moe_sel = alloc_buf(B * K * 4, &tot, &fail);
        c->moe_w = alloc_buf(B * K * 4, &tot, &fail);
        c->moe_cnt = alloc_buf(E * 4, &tot, &fail);
        c->moe_off = alloc_buf((E + 1) * 4, &tot, &fail);
        c->moe_slots = alloc_buf(B * K * 4, &tot, &fail);
        c->moe_active = alloc_buf(E * 4, &tot, &fail);
        c->moe_xq = alloc_buf(B * e * 4 + 1024, &tot, &fail);
        c->moe_h = alloc_buf(B * K * F * 4, &tot, &fail);
        c->moe_u = alloc_buf(B * K * F * 4, &tot, &fail);
        c->moe_hq = alloc_buf(B * K * F * 4 + 1024, &tot, &fail);
        c->moe_y = alloc_buf(B * K * e * 4, &tot, &fail);
        c->moe_out = alloc_buf(B * e * 4, &tot, &fail);
        const char *trace = getenv("FRUGAL_MOE_TRACE");
        if (trace && *trace) c->moe_trace = fopen(trace, "w");
    }
    c->scratch_bytes = tot;
    if (fail) {
        fr_ctx_free(c);
        return fr_fail(err, FR_ENOMEM, "cannot allocate %zu bytes of working buffers", tot);
    }
    *out = c;
    return 0;
}

void fr_ctx_free(fr_ctx *c) {
    if (!c) return;
    fr_pool_free(c->pool);
    fr_kv_free(&c->kv);
    void *bufs[] = {c->x, c->xn, c->q, c->k, c->v, c->att, c->ff_a, c->ff_b, c->xq,
                    c->rope_cs, c->scores, c->q16, c->logits, c->out_idx, c->seq_zero, c->tok_single, c->out_single, c->mm_scratch, c->seq_count,
                    c->mla_qa, c->mla_q, c->mla_o, c->mla_xq, c->mla_row,
                    c->moe_logits, c->moe_scratch, c->moe_sel, c->moe_w, c->moe_cnt,
                    c->moe_off, c->moe_slots, c->moe_active, c->moe_xq, c->moe_h, c->moe_u,
                    c->moe_hq, c->moe_y, c->moe_out};
    if (c->moe_trace) fclose(c->moe_trace);
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    free(c);
}

const float *fr_ctx_logits(const fr_ctx *c, int i) {
    FR_ASSERT(i >= 0 && i < c->n_out);
    return c->logits + (size_t)i * c->m->hp.n_vocab;
}

void fr_ctx_truncate(fr_ctx *c, int seq, int32_t p0) { fr_kv_truncate(&c->kv, seq, p0); }

int32_t fr_ctx_seq_len(const fr_ctx *c, int seq) { return c->kv.seqs[seq].n_pos; }
