/* gemm_f16.h: private to the float-weight prefill GEMM (gemm_f16.c, gemm_f16_avx2.c,
 * gemm_f16_avx512.c); the public contract is quant/gemm.h.
 *
 * Layouts (F16 and BF16 alike; blck_size 1, so "per block" means per column):
 *  - panel: uint16 p[n_in][16]: column k holds the 16-bit weight k of rows 0..15 (rows past
 *    n_rows are 0), 32 bytes per column, so one load gives element k of all 16 rows. The
 *    packer only moves bits, so a panel is byte-identical whoever packs it.
 *  - activations: one f32 row of n_in per token, converted exactly from the f16 / bf16 row
 *    the vec_dot path sees (act_from), 4 bytes per column.
 * A kernel computes out[c][r] = sum_k w[r][k] * x[c][k] with the products in f32 (exact:
 * 11- or 8-bit significands) and sums in f32, restarting the running sum every
 * FR_GEMM_F16_KB columns so no f32 chain runs longer than that. */
#ifndef FR_GEMM_F16_H
#define FR_GEMM_F16_H

#include "quant/gemm.h"

#define FR_GEMM_F16_PANEL 32 /* panel bytes per column: 16 rows x 16 bits */
#define FR_GEMM_F16_KB 256   /* columns per partial sum in the SIMD kernels */

extern const fr_gemm fr_gemm_f16_avx2, fr_gemm_bf16_avx2;
extern const fr_gemm fr_gemm_f16_avx512, fr_gemm_bf16_avx512;

#endif
