/* forward.h: the blocks of the forward pass, shared by architectures. Each block reads
 * the residual stream c->x for the n tokens of the current step and adds its output to it. */
#ifndef FR_FORWARD_H
#define FR_FORWARD_H

#include "model/ctx.h"
#include "model/ops.h"

typedef struct fr_step {
    int n;               /* tokens in this step */
    const int32_t *pos;  /* [n] */
    const int32_t *seq;  /* [n] */
} fr_step;

/* Quantized-activation cache for a block: y = W x reuses x's quantization when several
 * weights with the same vec_dot_type read the same x. */
typedef struct fr_xq_cache { const float *src; fr_type type; const void *xq; } fr_xq_cache;
/* y[n, W->ne[1]] = W x  for x[n, W->ne[0]] (rows row0.. of W when W is 3-D: see op_matmul) */
void fwd_linear(fr_ctx *c, fr_xq_cache *xc, float *y, const fr_tensor *w, int64_t row0,
                int64_t n_out, const float *x, int n);

/* y[i] = w[i] x for n_mm matrices reading the same x (q/k/v, gate/up): one job when their
 * types and input widths agree (op_matmul_multi), else one fwd_linear each */
void fwd_linear_multi(fr_ctx *c, fr_xq_cache *xc, int n_mm, float *const *y,
                      const fr_tensor *const *w, const int64_t *n_out, const float *x, int n);

void blk_attn_gqa(fr_ctx *c, const fr_layer *L, int il, const fr_step *s);
void blk_ffn_dense(fr_ctx *c, const fr_layer *L, const fr_step *s);
void blk_attn_mla(fr_ctx *c, const fr_layer *L, int il, const fr_step *s);
void blk_ffn_moe(fr_ctx *c, const fr_layer *L, const fr_step *s);

#endif
