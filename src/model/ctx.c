/* ctx.c: creating an inference context: the KV cache layout for the model's attention
 * kind and the working buffers of the forward pass, sized once for n_batch tokens. */
#include "model/ctx.h"

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
    c->q16 = alloc_buf((size_t)c->p.n_threads * hp->head_dim_k * 2, &tot, &fail);
    c->logits = alloc_buf(B * hp->n_vocab * 4, &tot, &fail);
    c->out_idx = alloc_buf(B * sizeof(int32_t), &tot, &fail);
    c->seq_zero = alloc_buf(B * sizeof(int32_t), &tot, &fail);
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
                    c->rope_cs, c->scores, c->q16, c->logits, c->out_idx, c->seq_zero};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    free(c);
}

const float *fr_ctx_logits(const fr_ctx *c, int i) {
    FR_ASSERT(i >= 0 && i < c->n_out);
    return c->logits + (size_t)i * c->m->hp.n_vocab;
}

void fr_ctx_truncate(fr_ctx *c, int seq, int32_t p0) { fr_kv_truncate(&c->kv, seq, p0); }

int32_t fr_ctx_seq_len(const fr_ctx *c, int seq) { return c->kv.seqs[seq].n_pos; }
