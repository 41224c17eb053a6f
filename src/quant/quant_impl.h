/* quant_impl.h: internal to src/quant. Declares every per-level kernel (generic, avx2,
 * avx512) that quant_traits.c wires into the traits table, plus the small scalar helpers
 * the reference code shares with the SIMD files (rounding, K-quant scale unpacking).
 *
 * Naming: fr_<type>_<op>_<level>, op in {to_float, from_float, from_float_ref, dot}.
 * "dot" kernels take the weight row x in <type> and the activation row y in the type's
 * vec_dot_type (see qtypes.h). Tests may include this header to call kernels directly. */
#ifndef FR_QUANT_IMPL_H
#define FR_QUANT_IMPL_H

#include <stdint.h>
#include <string.h>

#include "quant/qtypes.h"

/* Round to nearest, ties to even, for |f| < 2^22 (llama.cpp's nearest_int): adding
 * 1.5 * 2^23 makes the FPU round away the fraction. Defined (garbage) for NaN, no UB. */
static inline int fr_nearest_int(float f) {
    float v = f + 12582912.f;
    int32_t i;
    memcpy(&i, &v, 4);
    return (i & 0x007fffff) - 0x00400000;
}

/* The 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes of Q4_K / Q5_K:
 * bytes 0..3 hold scales 0..3 (low 6 bits) and the top 2 bits of scales 4..7; bytes 4..7
 * mins 0..3 and the top 2 bits of mins 4..7; bytes 8..11 the low nibbles of scale|min 4..7. */
static inline void fr_k4_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

static inline uint32_t fr_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* All 8 scales then all 8 mins of a Q4_K / Q5_K block, unpacked to bytes; the same as
 * fr_k4_scale_min for j = 0..7, done four bytes at a time. */
static inline void fr_k4_unpack_scales(uint8_t out[16], const uint8_t *q) {
    const uint32_t w0 = fr_le32(q), w1 = fr_le32(q + 4), w2 = fr_le32(q + 8);
    const uint32_t u[4] = {
        w0 & 0x3f3f3f3f,                                            /* scales 0..3 */
        (w2 & 0x0f0f0f0f) | (((w0 >> 6) & 0x03030303) << 4),        /* scales 4..7 */
        w1 & 0x3f3f3f3f,                                            /* mins 0..3 */
        ((w2 >> 4) & 0x0f0f0f0f) | (((w1 >> 6) & 0x03030303) << 4), /* mins 4..7 */
    };
    for (int k = 0; k < 4; k++)
        for (int b = 0; b < 4; b++) out[4 * k + b] = (uint8_t)(u[k] >> (8 * b));
}

/* ---- generic (scalar reference), always built: quant_ref.c, quant_k.c ---- */
void fr_f32_to_float_generic(float *y, const void *x, int64_t n);
void fr_f32_from_float_generic(void *y, const float *x, int64_t n);
void fr_f32_dot_generic(int64_t n, float *s, const void *x, const void *y);
void fr_f16_to_float_generic(float *y, const void *x, int64_t n);
void fr_f16_from_float_generic(void *y, const float *x, int64_t n);
void fr_f16_dot_generic(int64_t n, float *s, const void *x, const void *y);
void fr_bf16_to_float_generic(float *y, const void *x, int64_t n);
void fr_bf16_from_float_generic(void *y, const float *x, int64_t n);
void fr_bf16_dot_generic(int64_t n, float *s, const void *x, const void *y);

void fr_q8_0_to_float_generic(float *y, const void *x, int64_t n);
/* llama.cpp's quantize_row_q8_0_ref: d = amax/127, q = roundf(x * (1/d)); for weights */
void fr_q8_0_from_float_ref(void *y, const float *x, int64_t n);
/* llama.cpp's x86 run-time activation quantizer: d = amax/127, q = rint(x * (127/amax))
 * (ties to even); differs from the reference by at most one step on rare elements. */
void fr_q8_0_from_float_generic(void *y, const float *x, int64_t n);
void fr_q8_0_dot_generic(int64_t n, float *s, const void *x, const void *y);

void fr_q4_0_to_float_generic(float *y, const void *x, int64_t n);
void fr_q4_0_from_float_ref(void *y, const float *x, int64_t n);
void fr_q4_0_dot_generic(int64_t n, float *s, const void *x, const void *y);

void fr_q8_K_to_float_generic(float *y, const void *x, int64_t n);
void fr_q8_K_from_float_ref(void *y, const float *x, int64_t n);

void fr_q4_K_to_float_generic(float *y, const void *x, int64_t n);
void fr_q4_K_from_float_ref(void *y, const float *x, int64_t n);
void fr_q4_K_dot_generic(int64_t n, float *s, const void *x, const void *y);
void fr_q5_K_to_float_generic(float *y, const void *x, int64_t n);
void fr_q5_K_from_float_ref(void *y, const float *x, int64_t n);
void fr_q5_K_dot_generic(int64_t n, float *s, const void *x, const void *y);
void fr_q6_K_to_float_generic(float *y, const void *x, int64_t n);
void fr_q6_K_from_float_ref(void *y, const float *x, int64_t n);
void fr_q6_K_dot_generic(int64_t n, float *s, const void *x, const void *y);

/* ---- avx2 (+fma +f16c): quant_avx2.c ---- */
void fr_f32_dot_avx2(int64_t n, float *s, const void *x, const void *y);
void fr_f16_to_float_avx2(float *y, const void *x, int64_t n);
void fr_f16_from_float_avx2(void *y, const float *x, int64_t n);
void fr_f16_dot_avx2(int64_t n, float *s, const void *x, const void *y);
void fr_bf16_to_float_avx2(float *y, const void *x, int64_t n);
void fr_bf16_from_float_avx2(void *y, const float *x, int64_t n);
void fr_bf16_dot_avx2(int64_t n, float *s, const void *x, const void *y);
void fr_q8_0_to_float_avx2(float *y, const void *x, int64_t n);
void fr_q8_0_from_float_avx2(void *y, const float *x, int64_t n);
void fr_q8_0_dot_avx2(int64_t n, float *s, const void *x, const void *y);
void fr_q4_0_dot_avx2(int64_t n, float *s, const void *x, const void *y);
void fr_q8_K_from_float_avx2(void *y, const float *x, int64_t n);
void fr_q4_K_to_float_avx2(float *y, const void *x, int64_t n);
void fr_q4_K_dot_avx2(int64_t n, float *s, const void *x, const void *y);
void fr_q5_K_dot_avx2(int64_t n, float *s, const void *x, const void *y);
void fr_q6_K_dot_avx2(int64_t n, float *s, const void *x, const void *y);
/* Hardware F16C conversions of one value (tests compare fp16.h against them). */
fr_f16 fr_f16_from_f32_f16c(float f);
float fr_f32_from_f16_f16c(fr_f16 h);

/* ---- avx512 (F BW VL DQ VNNI): quant_avx512.c ---- */
void fr_f32_dot_avx512(int64_t n, float *s, const void *x, const void *y);
void fr_f16_to_float_avx512(float *y, const void *x, int64_t n);
void fr_f16_from_float_avx512(void *y, const float *x, int64_t n);
void fr_f16_dot_avx512(int64_t n, float *s, const void *x, const void *y);
void fr_bf16_to_float_avx512(float *y, const void *x, int64_t n);
void fr_bf16_from_float_avx512(void *y, const float *x, int64_t n);
void fr_bf16_dot_avx512(int64_t n, float *s, const void *x, const void *y);
void fr_q8_0_to_float_avx512(float *y, const void *x, int64_t n);
void fr_q8_0_from_float_avx512(void *y, const float *x, int64_t n);
void fr_q8_0_dot_avx512(int64_t n, float *s, const void *x, const void *y);
void fr_q4_0_dot_avx512(int64_t n, float *s, const void *x, const void *y);
void fr_q8_K_from_float_avx512(void *y, const float *x, int64_t n);
void fr_q4_K_to_float_avx512(float *y, const void *x, int64_t n);
void fr_q4_K_dot_avx512(int64_t n, float *s, const void *x, const void *y);
void fr_q5_K_dot_avx512(int64_t n, float *s, const void *x, const void *y);
void fr_q6_K_dot_avx512(int64_t n, float *s, const void *x, const void *y);

#endif
