/* gemm.h: tiled matrix products for batches of activation rows (prefill): out[c, r] =
 * dot(W row r, x row c) for FR_GEMM_ROWS weight rows at a time against many tokens.
 *
 * How: a thread packs a panel of FR_GEMM_ROWS (16) consecutive weight rows into a layout
 * where one 64-byte vector holds 4 consecutive bytes of each of the 16 rows ("dword j of
 * rows 0..15"); a VNNI vpdpbusd of that vector against one token's broadcast dword then
 * advances 16 row dot products at once, and the panel is reused for every token of the
 * batch (register tiles of 16 rows x up to 8 tokens). Panels are packed on the fly into a
 * per-thread buffer, so weights stay in the mmap and nothing is stored twice.
 *
 * Packed panel layouts (u8 levels, dword-interleaved: qs[step][row][4]):
 *  - Q8_0, per 32-element block: qs[8][16][4] as u8 (x + 128, i.e. x ^ 0x80), then
 *    float d[16]. 576 bytes. Activations: fr_q8_0s rows (below), whose nsum = -128 * sum(q)
 *    cancels the +128: sum((x + 128) y) - 128 sum(y) = x . y exactly.
 *  - Q4_K, Q5_K, Q6_K, per 256-element super-block: qs[64][16][4] u8 levels (Q4_K 0..15,
 *    Q5_K 0..31, Q6_K 0..63), int32 sc[NSUB][16] (the sub-block scales: NSUB = 8 sub-blocks
 *    of 32 for Q4_K/Q5_K, 16 of 16 for Q6_K), int16 corr[8][16][2], float d[16],
 *    float dmin[16]. Activations: block_q8_K rows unchanged. A super-block's dot is
 *    d * dy * sum_j sc_j (q_j . y_j) - dmin * dy * sum_p corr_p . bsums_p, where for
 *    Q4_K/Q5_K corr_p = (min_p, min_p) against bsums (2p, 2p+1) (the 32 activations of
 *    sub-block p) and for Q6_K corr_p = (32 sc_2p, 32 sc_2p+1) and dmin = d (the -32 offset).
 *
 * Every kernel has a scalar twin at FR_CPU_GENERIC working on the same layouts; tests
 * compare pack bytes exactly and kernel results with the twin and with vec_dot. */
#ifndef FR_GEMM_H
#define FR_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "core/cpu.h"
#include "quant/qtypes.h"

#define FR_GEMM_ROWS 16

/* Q8_0 activation block for the GEMM: -128 * sum(qs), the scale as f32, the levels */
typedef struct { int32_t nsum; float d; int8_t qs[QK8_0]; } fr_q8_0s;
_Static_assert(sizeof(fr_q8_0s) == 40, "fr_q8_0s size");

/* Packs rows [0, n_rows) (n_rows <= FR_GEMM_ROWS; missing rows are zero) of n_in elements
 * each, row r at w + r * w_stride, into panel (panel_size(n_in) bytes, 64-byte aligned). */
typedef void (*fr_gemm_pack_fn)(void *panel, const void *w, size_t w_stride, int n_rows,
                                int64_t n_in);
/* out[c * ld_out + r] = dot(panel row r, act row c) for r < n_rows, c < n_tok; act row c at
 * act + c * act_stride in the GEMM's activation layout. */
typedef void (*fr_gemm_kernel_fn)(float *out, int64_t ld_out, const void *panel, const void *act,
                                  size_t act_stride, int n_rows, int n_tok, int64_t n_in);
/* One activation row in the weight type's vec_dot_type (as op_quantize_rows writes it) ->
 * the GEMM's activation layout. NULL when the layouts are the same. */
typedef void (*fr_gemm_act_fn)(void *dst, const void *xq, int64_t n_in);

typedef struct fr_gemm {
    fr_type wtype;
    size_t panel_block_bytes; /* packed bytes per weight block (per blck_size columns) */
    size_t act_block_bytes;   /* activation bytes per weight block */
    fr_gemm_pack_fn pack;
    fr_gemm_kernel_fn kernel;
    fr_gemm_act_fn act_from; /* NULL: the vec_dot_type row is used as is */
} fr_gemm;

/* The GEMM for weight type t at kernel level l, or NULL when there is none (the caller
 * then uses vec_dot). FR_CPU_GENERIC gives the scalar twins. */
const fr_gemm *fr_gemm_get(fr_type t, fr_cpu_level l);

static inline size_t fr_gemm_panel_size(const fr_gemm *g, int64_t n_in, int blck) {
    return (size_t)(n_in / blck) * g->panel_block_bytes;
}

/* AVX2 GEMMs (gemm_avx2.c): same layouts as the scalar twins, or NULL where none */
const fr_gemm *fr_gemm_get_avx2(fr_type t);
/* float-weight GEMMs (F16, BF16; gemm_f16.c and its SIMD files), or NULL where none */
const fr_gemm *fr_gemm_get_float(fr_type t, fr_cpu_level l);

/* per-level implementations (gemm.c, gemm_avx512.c) */
extern const fr_gemm fr_gemm_q8_0_generic, fr_gemm_q4_K_generic, fr_gemm_q5_K_generic,
    fr_gemm_q6_K_generic;
extern const fr_gemm fr_gemm_q8_0_avx512, fr_gemm_q4_K_avx512, fr_gemm_q5_K_avx512,
    fr_gemm_q6_K_avx512;

/* shared by the generic and SIMD packers (gemm.c): the u8 levels of one K-quant
 * super-block (256), its sub-block scales (NSUB), corrections (8 pairs) and d, dmin. */
typedef struct {
    uint8_t lv[QK_K];
    int32_t sc[16];
    int16_t corr[8][2];
    float d, dmin;
} fr_gemm_kq_block;
void fr_gemm_kq_unpack(fr_gemm_kq_block *b, fr_type t, const void *blk);
int fr_gemm_kq_nsub(fr_type t);

#define FR_GEMM_Q8_0_PANEL 576
#define FR_GEMM_KQ_PANEL(nsub) (4096 + (size_t)(nsub) * 64 + 512 + 128)

#endif
