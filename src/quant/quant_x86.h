/* quant_x86.h: inline helpers shared by quant_avx2.c and quant_avx512.c. Uses AVX2, FMA
 * and F16C intrinsics: include it only from files built with those flags. */
#ifndef FR_QUANT_X86_H
#define FR_QUANT_X86_H

#include <immintrin.h>

#include "quant/quant_impl.h"

static inline float fr_hsum_ps256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float fr_hsum_ps128(__m128 v) {
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    v = _mm_add_ss(v, _mm_movehdup_ps(v));
    return _mm_cvtss_f32(v);
}

/* fp16(x) * fp16(y) in lane 0, for x, y pointing at f16 values followed by at least 6
 * more bytes (the d of a block_q8_0 / block_q4_0) */
static inline __m128 fr_f16_scale_product(const void *x, const void *y) {
    return _mm_mul_ss(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)x)),
                      _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)y)));
}

/* 16 bytes of nibbles -> 32 bytes: the 16 low nibbles, then the 16 high nibbles */
static inline __m256i fr_nibbles32(const uint8_t *p) {
    const __m128i b = _mm_loadu_si128((const __m128i *)p);
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(b), _mm_srli_epi16(b, 4), 1);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* The 12 packed scale bytes of a Q4_K / Q5_K block -> 16 bytes: scales 0..7, mins 0..7
 * (fr_k4_unpack_scales, in a register). The bit work is done on 32-bit words in general
 * registers: those ports are idle while the vector units do the dot product, which makes
 * this faster than an all-vector version. */
static inline __m128i fr_k4_scales_vec(const uint8_t *p) {
    const uint32_t w0 = fr_le32(p), w1 = fr_le32(p + 4), w2 = fr_le32(p + 8);
    return _mm_setr_epi32(
        (int)(w0 & 0x3f3f3f3f), (int)((w2 & 0x0f0f0f0f) | (((w0 >> 6) & 0x03030303) << 4)),
        (int)(w1 & 0x3f3f3f3f), (int)(((w2 >> 4) & 0x0f0f0f0f) | (((w1 >> 6) & 0x03030303) << 4)));
}

/* sum over the 8 sub-blocks of min[j] * (bsums[2j] + bsums[2j+1]), as 4 int32 partial sums;
 * mins16 holds the 8 mins as int16 */
static inline __m128i fr_k4_min_sums(__m128i mins16, const int16_t *bsums) {
    const __m128i b0 = _mm_loadu_si128((const __m128i *)bsums);
    const __m128i b1 = _mm_loadu_si128((const __m128i *)(bsums + 8));
    return _mm_madd_epi16(mins16, _mm_hadd_epi16(b0, b1));
}

#endif
