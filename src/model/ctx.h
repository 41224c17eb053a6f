/* ctx.h: an inference context: a model plus its KV cache, thread pool and the working
 * buffers of the forward pass, all allocated once at creation (decode allocates nothing).
 * fr_decode evaluates a batch of tokens, each with its position and sequence id. */
#ifndef FR_CTX_H
#define FR_CTX_H

#include "core/pool.h"
#include "model/kv_cache.h"
#include "model/model.h"

typedef struct fr_ctx_params {
    int32_t n_ctx;      /* KV cells (all sequences together); 0: min(train ctx, 4096) */
    int32_t n_batch;    /* tokens per forward step; larger batches are split */
    int n_threads;      /* 0: physical cores */
    fr_type kv_type;    /* FR_TYPE_F16 (default) or FR_TYPE_F32 */
    int n_seq;          /* sequences (1 for the CLI) */
} fr_ctx_params;

fr_ctx_params fr_ctx_default_params(void);

typedef struct fr_batch {
    int n;
    const int32_t *tokens; /* [n] */
    const int32_t *pos;    /* [n] position of each token in its sequence */
    const int32_t *seq;    /* [n] sequence id (NULL: all 0) */
    const int8_t *logits;  /* [n] nonzero: compute this token's logits (NULL: last only) */
} fr_batch;

typedef struct fr_ctx {
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
} fr_ctx;

int fr_ctx_create(fr_ctx **out, const fr_model *m, const fr_ctx_params *p, fr_err *err);
void fr_ctx_free(fr_ctx *c);
/* Evaluates b. Each sequence's tokens must continue it: positions n_pos, n_pos+1, ... */
int fr_decode(fr_ctx *c, const fr_batch *b, fr_err *err);
/* Logits of the i-th token that asked for them in the last fr_decode ([n_vocab]). */
const float *fr_ctx_logits(const fr_ctx *c, int i);
/* Forgets positions >= p0 of seq. */
void fr_ctx_truncate(fr_ctx *c, int seq, int32_t p0);
int32_t fr_ctx_seq_len(const fr_ctx *c, int seq);

#endif
