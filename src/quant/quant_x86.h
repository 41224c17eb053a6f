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

/* d(x[k]) * d(y[k]) for 8 consecutive blocks (block types with the f16 d first), converted
 * together and stored so that each block's broadcast is a plain load from out */
#define FR_SCALES8(out, x, y)                                                                  \
    do {                                                                                       \
        __m128i hx_ = _mm_setr_epi16((short)(x)[0].d, (short)(x)[1].d, (short)(x)[2].d,        \
                                     (short)(x)[3].d, (short)(x)[4].d, (short)(x)[5].d,        \
                                     (short)(x)[6].d, (short)(x)[7].d);                        \
        __m128i hy_ = _mm_setr_epi16((short)(y)[0].d, (short)(y)[1].d, (short)(y)[2].d,        \
                                     (short)(y)[3].d, (short)(y)[4].d, (short)(y)[5].d,        \
                                     (short)(y)[6].d, (short)(y)[7].d);                        \
        _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_cvtph_ps(hx_), _mm256_cvtph_ps(hy_)));      \
    } while (0)

/* 16 bytes of nibbles -> 32 bytes: the 16 low nibbles, then the 16 high nibbles */
static inline __m256i fr_nibbles32(const uint8_t *p) {
    const __m128i b = _mm_loadu_si128((const __m128i *)p);
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(b), _mm_srli_epi16(b, 4), 1);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* The 12 packed scale bytes of a Q4_K / Q5_K block -> 16 bytes: scales 0..7, mins 0..7
 * (fr_k4_unpack_scales in registers). Reads 16 bytes at p: the 4 after the scales are
 * the block's next field. With dwords D0 = p[0..3], D1 = p[4..7], D2 = p[8..11]:
 * scales 0..3 = D0 & 63, scales 4..7 = (D2 & 15) | top2(D0) << 4,
 * mins 0..3 = D1 & 63, mins 4..7 = (D2 >> 4) | top2(D1) << 4. */
static inline __m128i fr_k4_scales_vec(const uint8_t *p) {
    const __m128i v = _mm_loadu_si128((const __m128i *)p);
    const __m128i lo = _mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0)), _mm_setr_epi32(0, 0, 0, 4));
    const __m128i top = _mm_and_si128(_mm_srli_epi16(v, 2), _mm_set1_epi8(0x30));
    const __m128i hi = _mm_shuffle_epi32(top, _MM_SHUFFLE(1, 1, 0, 0));
    const __m128i mlo = _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f);
    const __m128i mhi = _mm_setr_epi32(0, 0x30303030, 0, 0x30303030);
    return _mm_or_si128(_mm_and_si128(lo, mlo), _mm_and_si128(hi, mhi));
}

/* sum over the 8 sub-blocks of min[j] * (bsums[2j] + bsums[2j+1]), as 4 int32 partial sums;
 * mins16 holds the 8 mins as int16 */
static inline __m128i fr_k4_min_sums(__m128i mins16, const int16_t *bsums) {
    const __m128i b0 = _mm_loadu_si128((const __m128i *)bsums);
    const __m128i b1 = _mm_loadu_si128((const __m128i *)(bsums + 8));
    return _mm_madd_epi16(mins16, _mm_hadd_epi16(b0, b1));
}

#endif
