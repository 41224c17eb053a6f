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
    uint8_t *tok_single;/* [B] token t is its sequence's only token in this step (a decode) */
    uint8_t *out_single;/* [B] the same for the gathered logits rows */
    const uint8_t *mm_single; /* the mask fwd_linear passes to op_matmul_split now */
    int32_t *mm_scratch;/* [B] op_matmul_split's token list */
    int32_t *seq_count; /* [n_seq] tokens per sequence in this step */
    /* MLA (kv_lora_rank > 0): C = kv_lora_rank, R = n_rot, H = n_head */
    float *mla_qa;   /* [B, q_lora_rank] compressed query */
    float *mla_q;    /* [B, H, C + R] query absorbed into latent space, rope part last */
    float *mla_o;    /* [B, H, C] attention output in latent space */
    void *mla_xq;    /* [B, H, max(C, nope)] per-head rows in a vec_dot_type */
    float *mla_row;  /* [n_threads, C] a dequantized weight row per thread */
    /* MoE (n_expert > 0): E = n_expert, K = n_expert_used, F = n_ff_exp */
    float *moe_logits;   /* [B, E] router logits, then probabilities */
    float *moe_scratch;  /* [3E + 2 groups] routing scratch */
    int32_t *moe_sel;    /* [B, K] chosen experts per token, best first */
    float *moe_w;        /* [B, K] their weights */
    int32_t *moe_cnt;    /* [E] slots routed to each expert in this batch */
    int32_t *moe_off;    /* [E + 1] start of each expert's slots in moe_slots */
    int32_t *moe_slots;  /* [B * K] slot ids (token * K + rank) grouped by expert */
    int32_t *moe_active; /* [E] experts with at least one slot */
    void *moe_xq;        /* [B, n_embd] normed input in the experts' vec_dot_type */
    float *moe_h;        /* [B * K, F] gate, then silu(gate) * up */
    float *moe_u;        /* [B * K, F] up */
    void *moe_hq;        /* [B * K, F] hidden in the down projection's vec_dot_type */
    float *moe_y;        /* [B * K, n_embd] each expert's output per slot */
    float *moe_out;      /* [B, n_embd] the block's output */
    void *moe_trace;     /* FILE * of routing margins when FRUGAL_MOE_TRACE names a file */
    int n_out;       /* logits rows of the last decode */
    size_t scratch_bytes;
};


#endif
