/* ctx.h: an inference context: a model plus its KV cache, thread pool and the working
 * buffers of the forward pass, all allocated once at creation (decode allocates nothing).
 * fr_decode evaluates a batch of tokens, each with its position and sequence id. */
#ifndef FR_CTX_H
#define FR_CTX_H

#include "core/pool.h"
#include "model/kv_cache.h"
#include "model/model.h"

/* fr_ctx_params, fr_batch and the context API are declared in frugal.h */

struct fr_ctx {
    const fr_model *m;
    fr_ctx_params p;
    fr_pool *pool;
    fr_kv_cache kv;
    /* working buffers, B = n_batch */
    float *x;        /* [B, n_embd] residual stream */
    float *xn;       /* [B, n_embd] normed input of a block */
    float *q;        /* [B, n_head*head_dim_k] */
    float *k;        /* [B, n_head_kv*head_dim_k] */
    float *v;        /* [B, n_head_kv*head_dim_v] */
    float *att;      /* [B, n_head*head_dim_v] attention output */
    float *ff_a;     /* [B, n_ff_max] gate / hidden */
    float *ff_b;     /* [B, n_ff_max] up */
    void *xq;        /* [B, row bytes of the widest input in its vec_dot_type] */
    size_t xq_bytes;
    float *rope_cs;  /* [B, n_rot] cos/sin per token */
    float *scores;   /* [n_threads, n_ctx] attention scores */
    fr_f16 *q16;     /* [n_threads, head_dim_k] query row in f16 (f16 cache) */
    float *logits;   /* [B, n_vocab] */
    int32_t *out_idx;/* [B] batch indices of the tokens with logits */
    int32_t *seq_zero;/* [B] zeros: the sequence ids of a batch that gives none */
    int n_out;       /* logits rows of the last decode */
    size_t scratch_bytes;
};


#endif
