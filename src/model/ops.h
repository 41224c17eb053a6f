/* ops.h: the building-block operations of the forward pass, on f32 activations laid out
 * [n_tok, width] row-major. Heavy ops take the thread pool. Outputs first, then inputs,
 * then sizes. */
#ifndef FR_OPS_H
#define FR_OPS_H

#include <stdint.h>

#include "core/pool.h"
#include "model/model.h"

/* out[t] = x[t] / rms(x[t]) * w   (w may be NULL: no weight), for n_tok rows of n */
void op_rms_norm(float *out, const float *x, const float *w, int n_tok, int64_t n, float eps);

/* Work of at most this many elements runs on the calling thread: cheaper than a pool sync. */
#define OP_SMALL_ELEMS 32768

/* Quantizes n_tok rows of x (n_in wide) into dst using type t's from_float; row stride
 * fr_row_size(t, n_in). Parallel over rows. */
void op_quantize_rows(fr_pool *pool, void *dst, fr_type t, const float *x, int n_tok, int64_t n_in);

/* out[t, r] = dot(W row (row0 + r), x[t]) for r < n_out, t < n_tok: y = W x with W's rows
 * row0.. (row0 selects an expert's slice of a 3-D tensor). xq holds x quantized to
 * W's vec_dot_type (op_quantize_rows), or x itself (f32) when the vec_dot_type is f32.
 * out has row stride ld_out floats. */
void op_matmul(fr_pool *pool, float *out, int64_t ld_out, const fr_tensor *w, int64_t row0,
               int64_t n_out, const void *xq, int n_tok);

/* op_matmul where the tokens flagged in single[n_tok] (each the only token of its sequence
 * in the step: a decode) always take the one-token vec_dot path, so a sequence decoded in a
 * batch with others gets bit-identical results to decoding it alone; the rest may use the
 * tiled GEMM. scratch holds n_tok ints. single NULL: plain op_matmul. */
void op_matmul_split(fr_pool *pool, float *out, int64_t ld_out, const fr_tensor *w, int64_t row0,
                     int64_t n_out, const void *xq, int n_tok, const uint8_t *single,
                     int32_t *scratch);

/* One matrix of op_matmul_multi: out[t, r] = dot(w row (row0 + r), x[t]) for r < n_out. */
typedef struct op_mm {
    float *out;
    int64_t ld_out;
    const fr_tensor *w;
    int64_t row0, n_out;
} op_mm;
#define OP_MM_MAX 3
/* op_matmul_split over n_mm <= OP_MM_MAX matrices of one type and input width that read the
 * same xq (q/k/v, gate/up), as one job: one pool sync instead of n_mm. */
void op_matmul_multi(fr_pool *pool, const op_mm *mm, int n_mm, const void *xq, int n_tok,
                     const uint8_t *single, int32_t *scratch);

/* Softmax without the final division: x[i] = exp(x[i] - max x) in place; returns
 * 1 / sum (double-precision sum, as the attention blocks have always computed it). */
float op_softmax_exp(float *x, int32_t n);

/* x[t] += b for each of n_tok rows (b has n elements) */
void op_add_bias(float *x, const float *b, int n_tok, int64_t n);
/* out[i] = silu(g[i]) * u[i] */
void op_swiglu(float *out, const float *g, const float *u, int64_t n);

/* RoPE: fills cs[0..n_rot) with interleaved (cos, sin) pairs for position pos. */
void op_rope_cache(float *cs, const fr_hparams *hp, const float *freq_factors, int32_t pos);
/* Rotates the first n_rot dims of each of n_heads heads (stride head_dim) of x. */
void op_rope_apply(float *x, const float *cs, int n_heads, int64_t head_dim, int64_t n_rot,
                   fr_rope_type type);

#endif
