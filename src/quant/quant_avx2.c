/* quant_avx2.c: AVX2 + FMA + F16C kernels: dot products for every supported weight type,
 * the activation quantizers (F16, BF16, Q8_0, Q8_K) and the hot dequantizers. Quantizers
 * and dequantizers give exactly the generic kernels' bytes / floats (multiply and subtract
 * stay separate: this file is built in ISO C mode, so GCC does not contract them to FMA);
 * dot products differ from the generic ones only in float summation order. */
#include <math.h>

#include "quant/quant_x86.h"

static inline int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

fr_f16 fr_f16_from_f32_f16c(float f) {
    return (fr_f16)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
float fr_f32_from_f16_f16c(fr_f16 h) {
    return _cvtsh_ss(h);
}

/* ---- F32 / F16 / BF16 ---- */

void fr_f32_dot_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    float sum = fr_hsum_ps256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) sum += x[i] * y[i];
    *s = sum;
}

void fr_f16_to_float_avx2(float *y, const void *vx, int64_t n) {
    const fr_f16 *x = vx;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    for (; i < n; i++) y[i] = fr_f16_to_f32(x[i]);
}

void fr_f16_from_float_avx2(void *vy, const float *x, int64_t n) {
    fr_f16 *y = vy;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = fr_f32_to_f16(x[i]);
}

void fr_f16_dot_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const fr_f16 *x = vx, *y = vy;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
#define LD(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(LD(x + i), LD(y + i), a0);
        a1 = _mm256_fmadd_ps(LD(x + i + 8), LD(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(LD(x + i + 16), LD(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(LD(x + i + 24), LD(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(LD(x + i), LD(y + i), a0);
#undef LD
    float sum = fr_hsum_ps256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) sum += fr_f16_to_f32(x[i]) * fr_f16_to_f32(y[i]);
    *s = sum;
}

static inline __m256 bf16_load8(const fr_bf16 *p) {
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

void fr_bf16_to_float_avx2(float *y, const void *vx, int64_t n) {
    const fr_bf16 *x = vx;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, bf16_load8(x + i));
    for (; i < n; i++) y[i] = fr_bf16_to_f32(x[i]);
}

/* round to nearest even on the bit pattern, NaN -> quiet NaN, as fr_f32_to_bf16 */
static inline __m256i bf16_round8(__m256 f) {
    const __m256i u = _mm256_castps_si256(f);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    const __m256i r = _mm256_srli_epi32(
        _mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
    const __m256i q = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(64));
    const __m256i a = _mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff));
    const __m256i nan = _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x7f800000));
    return _mm256_blendv_epi8(r, q, nan);
}

void fr_bf16_from_float_avx2(void *vy, const float *x, int64_t n) {
    fr_bf16 *y = vy;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i lo = bf16_round8(_mm256_loadu_ps(x + i));
        __m256i hi = bf16_round8(_mm256_loadu_ps(x + i + 8));
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), _MM_SHUFFLE(3, 1, 2, 0));
        _mm256_storeu_si256((__m256i *)(y + i), p);
    }
    for (; i < n; i++) y[i] = fr_f32_to_bf16(x[i]);
}

void fr_bf16_dot_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const fr_bf16 *x = vx, *y = vy;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_fmadd_ps(bf16_load8(x + i), bf16_load8(y + i), a0);
        a1 = _mm256_fmadd_ps(bf16_load8(x + i + 8), bf16_load8(y + i + 8), a1);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(bf16_load8(x + i), bf16_load8(y + i), a0);
    float sum = fr_hsum_ps256(_mm256_add_ps(a0, a1));
    for (; i < n; i++) sum += fr_bf16_to_f32(x[i]) * fr_bf16_to_f32(y[i]);
    *s = sum;
}

/* ---- Q8_0 / Q4_0 ---- */

void fr_q8_0_to_float_avx2(float *y, const void *vx, int64_t n) {
    const block_q8_0 *x = vx;
    for (int64_t i = 0; i < n / QK8_0; i++, y += QK8_0) {
        const __m256 d = _mm256_set1_ps(_cvtsh_ss(x[i].d));
        for (int j = 0; j < QK8_0; j += 8) {
            __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(x[i].qs + j)));
            _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_cvtepi32_ps(q), d));
        }
    }
}

/* 32 int32 (4 vectors, in order) -> 32 int8 with signed saturation, in order */
static inline __m256i pack_i32x32_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    __m256i p = _mm256_packs_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

void fr_q8_0_from_float_avx2(void *vy, const float *x, int64_t n) {
    block_q8_0 *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        __m256 v[4], m = _mm256_setzero_ps();
#pragma GCC unroll 8
        for (int k = 0; k < 4; k++) {
            v[k] = _mm256_loadu_ps(x + 8 * k);
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[k]));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        y[i].d = fr_f32_to_f16(amax / 127.f);
        const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.f / amax : 0.0f);
        __m256i q[4];
#pragma GCC unroll 8
        for (int k = 0; k < 4; k++) q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], id)); /* rint */
        _mm256_storeu_si256((__m256i *)y[i].qs, pack_i32x32_i8(q[0], q[1], q[2], q[3]));
    }
}

/* signed x * signed y summed in groups of 4 -> 8 int32 (x must not hold -128 with y) */
static inline __m256i dot_i8_32(__m256i x, __m256i y) {
    const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

void fr_q8_0_dot_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q8_0 *x = vx, *y = vy;
    const int64_t nb = n / QK8_0;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) {
#pragma GCC unroll 8
        for (int k = 0; k < 4; k++) {
            const __m256i qx = _mm256_loadu_si256((const __m256i *)x[i + k].qs);
            const __m256i qy = _mm256_loadu_si256((const __m256i *)y[i + k].qs);
            const __m256 d = _mm256_broadcastss_ps(fr_f16_scale_product(&x[i + k], &y[i + k]));
            acc[k] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_32(qx, qy)), acc[k]);
        }
    }
    for (; i < nb; i++) {
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[i].qs);
        const __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        const __m256 d = _mm256_broadcastss_ps(fr_f16_scale_product(&x[i], &y[i]));
        acc[0] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_32(qx, qy)), acc[0]);
    }
    *s = fr_hsum_ps256(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

/* (q - 8) . y for q unsigned in 0..15: q . y - 8 * sum(y), as 8 int32 */
static inline __m256i dot_q4_32(__m256i q, __m256i y) {
    const __m256i p =
        _mm256_sub_epi16(_mm256_maddubs_epi16(q, y), _mm256_maddubs_epi16(_mm256_set1_epi8(8), y));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

void fr_q4_0_dot_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q4_0 *x = vx;
    const block_q8_0 *y = vy;
    const int64_t nb = n / QK4_0;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) {
#pragma GCC unroll 8
        for (int k = 0; k < 4; k++) {
            const __m256i qy = _mm256_loadu_si256((const __m256i *)y[i + k].qs);
            const __m256 d = _mm256_broadcastss_ps(fr_f16_scale_product(&x[i + k], &y[i + k]));
            acc[k] = _mm256_fmadd_ps(
                d, _mm256_cvtepi32_ps(dot_q4_32(fr_nibbles32(x[i + k].qs), qy)), acc[k]);
        }
    }
    for (; i < nb; i++) {
        const __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        const __m256 d = _mm256_broadcastss_ps(fr_f16_scale_product(&x[i], &y[i]));
        acc[0] =
            _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_q4_32(fr_nibbles32(x[i].qs), qy)), acc[0]);
    }
    *s = fr_hsum_ps256(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

/* ---- Q8_K activations ---- */

void fr_q8_K_from_float_avx2(void *vy, const float *x, int64_t n) {
    block_q8_K *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < QK_K; j += 8)
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* the first element of largest magnitude gives the sign, as the reference */
        float max = amax;
        for (int j = 0; j < QK_K; j += 8) {
            int hit = _mm256_movemask_ps(_mm256_cmp_ps(
                _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)), _mm256_set1_ps(amax), _CMP_EQ_OQ));
            if (hit) {
                max = x[j + __builtin_ctz((unsigned)hit)];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m256 vs = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        for (int j = 0; j < QK_K; j += 32) {
            __m256i q[4];
#pragma GCC unroll 8
            for (int k = 0; k < 4; k++)
                q[k] = _mm256_max_epi32(
                    _mm256_set1_epi32(-128), /* NaN input gives INT_MIN */
                    _mm256_min_epi32(lim, _mm256_cvtps_epi32(
                                              _mm256_mul_ps(vs, _mm256_loadu_ps(x + j + 8 * k)))));
            y[i].bsums[j / 16] = (int16_t)hsum_epi32(_mm256_add_epi32(q[0], q[1]));
            y[i].bsums[j / 16 + 1] = (int16_t)hsum_epi32(_mm256_add_epi32(q[2], q[3]));
            _mm256_storeu_si256((__m256i *)(y[i].qs + j), pack_i32x32_i8(q[0], q[1], q[2], q[3]));
        }
        y[i].d = 1 / iscale;
    }
}

/* ---- K-quants ---- */

void fr_q4_K_to_float_avx2(float *y, const void *vx, int64_t n) {
    const block_q4_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = _cvtsh_ss(x[i].d), min = _cvtsh_ss(x[i].dmin);
        uint8_t sm[16];
        fr_k4_unpack_scales(sm, x[i].scales);
#pragma GCC unroll 8
        for (int j = 0; j < QK_K / 64; j++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * j));
            const __m256i half[2] = {_mm256_and_si256(q, m4),
                                     _mm256_and_si256(_mm256_srli_epi16(q, 4), m4)};
#pragma GCC unroll 8
            for (int h = 0; h < 2; h++, y += 32) {
                const __m256 dd = _mm256_set1_ps(d * sm[2 * j + h]);
                const __m256 mm = _mm256_set1_ps(min * sm[8 + 2 * j + h]);
                const __m128i lo = _mm256_castsi256_si128(half[h]);
                const __m128i hi = _mm256_extracti128_si256(half[h], 1);
                const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
#pragma GCC unroll 8
                for (int k = 0; k < 4; k++) {
                    __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k]));
                    _mm256_storeu_ps(y + 8 * k, _mm256_sub_ps(_mm256_mul_ps(dd, v), mm));
                }
            }
        }
    }
}

/* the 8 scales of a Q4_K/Q5_K block as int16 broadcast to both 128-bit lanes, and the sum
 * over sub-blocks of min * (activation sum), as 4 int32 */
static inline __m128i k4_scales_mins(__m256i *scales, const uint8_t *sc12, const int16_t *bsums) {
    const __m256i ms = _mm256_cvtepu8_epi16(fr_k4_scales_vec(sc12));
    *scales = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(ms));
    return fr_k4_min_sums(_mm256_extracti128_si256(ms, 1), bsums);
}

/* int16 scale j (0..7) of a broadcast scale vector, in every lane */
static inline __m256i scale_k(__m256i scales, int j) {
    const __m256i idx = _mm256_set1_epi16((short)(2 * j | (2 * j + 1) << 8));
    return _mm256_shuffle_epi8(scales, idx);
}

/* bit k of every byte of hbits, moved to bit 4 (k is a constant after unrolling) */
static inline __m256i q5_high_bit(__m256i hbits, int k) {
    const __m256i t = k <= 4 ? _mm256_slli_epi16(hbits, 4 - k) : _mm256_srli_epi16(hbits, k - 4);
    return _mm256_and_si256(t, _mm256_set1_epi8(0x10));
}

/* Q4_K and Q5_K share scales, mins and the nibble layout; Q5_K adds a fifth bit from qh.
 * One body, q5 a constant in each caller. */
static inline __attribute__((always_inline)) void k45_dot(const int q5, int64_t n, float *s,
                                                          const void *vx, const void *vy) {
    const block_q8_K *y = vy;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const block_q4_K *x4 = (const block_q4_K *)vx + i;
        const block_q5_K *x5 = (const block_q5_K *)vx + i;
        const fr_f16 xd = q5 ? x5->d : x4->d, xdmin = q5 ? x5->dmin : x4->dmin;
        const float d = y[i].d * _cvtsh_ss(xd), dmin = -y[i].d * _cvtsh_ss(xdmin);
        __m256i scales;
        const __m128i minsum = k4_scales_mins(&scales, q5 ? x5->scales : x4->scales, y[i].bsums);
        accm = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(minsum), accm);
        const uint8_t *q = q5 ? x5->qs : x4->qs;
        const int8_t *q8 = y[i].qs;
        const __m256i hbits = q5 ? _mm256_loadu_si256((const __m256i *)x5->qh) : _mm256_setzero_si256();
        __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int j = 0; j < QK_K / 64; j++, q += 32, q8 += 64) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)q);
            __m256i lo = _mm256_and_si256(bits, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
            if (q5) {
                lo = _mm256_or_si256(lo, q5_high_bit(hbits, 2 * j));
                hi = _mm256_or_si256(hi, q5_high_bit(hbits, 2 * j + 1));
            }
            __m256i pl = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8));
            __m256i ph = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32)));
            pl = _mm256_madd_epi16(scale_k(scales, 2 * j), pl);
            ph = _mm256_madd_epi16(scale_k(scales, 2 * j + 1), ph);
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(pl, ph));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = fr_hsum_ps256(acc) + fr_hsum_ps128(accm);
}

void fr_q4_K_dot_avx2(int64_t n, float *s, const void *vx, const void *vy) { k45_dot(0, n, s, vx, vy); }
void fr_q5_K_dot_avx2(int64_t n, float *s, const void *vx, const void *vy) { k45_dot(1, n, s, vx, vy); }

/* Q6_K: q in 0..63 is used unsigned (maddubs); the -32 offset is taken out once per block
 * as 32 * sum_g scale[g] * bsums[g]. */
void fr_q6_K_dot_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q6_K *x = vx;
    const block_q8_K *y = vy;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = y[i].d * _cvtsh_ss(x[i].d);
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        const __m256i corr =
            _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)y[i].bsums));
        /* both 128-bit lanes hold scales 0..7 (lo) or 8..15 (hi) */
        const __m256i sc_half[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00),
                                    _mm256_permute2x128_si256(sc16, sc16, 0x11)};
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *q8 = y[i].qs;
        __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int h = 0; h < QK_K / 128; h++, ql += 64, qh += 32, q8 += 128) {
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i hb = _mm256_loadu_si256((const __m256i *)qh);
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, m4),
                                _mm256_and_si256(_mm256_slli_epi16(hb, 4), m2)),
                _mm256_or_si256(_mm256_and_si256(l1, m4),
                                _mm256_and_si256(_mm256_slli_epi16(hb, 2), m2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                _mm256_and_si256(hb, m2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                _mm256_and_si256(_mm256_srli_epi16(hb, 2), m2)),
            };
#pragma GCC unroll 8
            for (int k = 0; k < 4; k++) {
                /* 32 elements = groups 2k, 2k+1 of this half: one scale per 128-bit lane */
                const __m256i idx = _mm256_setr_epi8(
                    (char)(4 * k), (char)(4 * k + 1), (char)(4 * k), (char)(4 * k + 1),
                    (char)(4 * k), (char)(4 * k + 1), (char)(4 * k), (char)(4 * k + 1),
                    (char)(4 * k), (char)(4 * k + 1), (char)(4 * k), (char)(4 * k + 1),
                    (char)(4 * k), (char)(4 * k + 1), (char)(4 * k), (char)(4 * k + 1),
                    (char)(4 * k + 2), (char)(4 * k + 3), (char)(4 * k + 2), (char)(4 * k + 3),
                    (char)(4 * k + 2), (char)(4 * k + 3), (char)(4 * k + 2), (char)(4 * k + 3),
                    (char)(4 * k + 2), (char)(4 * k + 3), (char)(4 * k + 2), (char)(4 * k + 3),
                    (char)(4 * k + 2), (char)(4 * k + 3), (char)(4 * k + 2), (char)(4 * k + 3));
                const __m256i sc = _mm256_shuffle_epi8(sc_half[h], idx);
                const __m256i p =
                    _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)(q8 + 32 * k)));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
            }
        }
        sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(corr, 5));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = fr_hsum_ps256(acc);
}
