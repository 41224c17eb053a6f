/* quant_avx512.c: AVX-512 (F BW VL DQ VNNI) kernels: dot products for every supported
 * weight type, the activation quantizers (F16, BF16, Q8_0, Q8_K) and the hot dequantizers.
 * Quantizers and dequantizers give exactly the generic kernels' bytes / floats; dot
 * products differ from the generic ones only in float summation order.
 *
 * Integer dot products use VNNI: vpdpbusd multiplies unsigned by signed bytes, so for two
 * signed operands (Q8_0 x Q8_0) the sign of x moves onto y (|x| * sign(x)*y); the K-quants
 * already store unsigned levels. Per-sub-block scales are applied on int16 pair sums with
 * vpdpwssd. 32-element blocks use 256-bit registers: a block is 32 bytes, and ymm
 * operations issue on three ports where zmm ones issue on two. */
#include <math.h>

#include "quant/quant_x86.h"

static inline __mmask16 tail16(int64_t r) {
    return (__mmask16)((1u << r) - 1);
}

/* ---- F32 / F16 / BF16 ---- */

void fr_f32_dot_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), a3);
    }
    for (; i + 16 <= n; i += 16)
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), a1);
    }
    *s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static inline __m512 f16_load16(const fr_f16 *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}
static inline __m512 f16_load16_tail(const fr_f16 *p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

void fr_f16_to_float_avx512(float *y, const void *vx, int64_t n) {
    const fr_f16 *x = vx;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, f16_load16(x + i));
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        _mm512_mask_storeu_ps(y + i, m, f16_load16_tail(x + i, m));
    }
}

void fr_f16_from_float_avx512(void *vy, const float *x, int64_t n) {
    fr_f16 *y = vy;
/* a macro, not a variable: clang wants the rounding mode as a constant expression */
#define F16_ROUND (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(y + i), _mm512_cvtps_ph(_mm512_loadu_ps(x + i), F16_ROUND));
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        _mm256_mask_storeu_epi16(y + i, m, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), F16_ROUND));
    }
#undef F16_ROUND
}

void fr_f16_dot_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const fr_f16 *x = vx, *y = vy;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(f16_load16(x + i), f16_load16(y + i), a0);
        a1 = _mm512_fmadd_ps(f16_load16(x + i + 16), f16_load16(y + i + 16), a1);
        a2 = _mm512_fmadd_ps(f16_load16(x + i + 32), f16_load16(y + i + 32), a2);
        a3 = _mm512_fmadd_ps(f16_load16(x + i + 48), f16_load16(y + i + 48), a3);
    }
    for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(f16_load16(x + i), f16_load16(y + i), a0);
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        a1 = _mm512_fmadd_ps(f16_load16_tail(x + i, m), f16_load16_tail(y + i, m), a1);
    }
    *s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static inline __m512 bf16_widen(__m256i v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
}

void fr_bf16_to_float_avx512(float *y, const void *vx, int64_t n) {
    const fr_bf16 *x = vx;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, bf16_widen(_mm256_loadu_si256((const __m256i *)(x + i))));
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        _mm512_mask_storeu_ps(y + i, m, bf16_widen(_mm256_maskz_loadu_epi16(m, x + i)));
    }
}

/* round to nearest even on the bit pattern, NaN -> quiet NaN, as fr_f32_to_bf16 */
static inline __m256i bf16_round16(__m512 f) {
    const __m512i u = _mm512_castps_si512(f);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(
        _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(
        _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), _mm512_set1_epi32(64));
    return _mm512_cvtepi32_epi16(r);
}

void fr_bf16_from_float_avx512(void *vy, const float *x, int64_t n) {
    fr_bf16 *y = vy;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(y + i), bf16_round16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        _mm256_mask_storeu_epi16(y + i, m, bf16_round16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

void fr_bf16_dot_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const fr_bf16 *x = vx, *y = vy;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
#define LD(p) bf16_widen(_mm256_loadu_si256((const __m256i *)(p)))
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_fmadd_ps(LD(x + i), LD(y + i), a0);
        a1 = _mm512_fmadd_ps(LD(x + i + 16), LD(y + i + 16), a1);
    }
    for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(LD(x + i), LD(y + i), a0);
#undef LD
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        a1 = _mm512_fmadd_ps(bf16_widen(_mm256_maskz_loadu_epi16(m, x + i)),
                             bf16_widen(_mm256_maskz_loadu_epi16(m, y + i)), a1);
    }
    *s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

/* ---- Q8_0 / Q4_0 ---- */

void fr_q8_0_to_float_avx512(float *y, const void *vx, int64_t n) {
    const block_q8_0 *x = vx;
    for (int64_t i = 0; i < n / QK8_0; i++, y += QK8_0) {
        const __m512 d = _mm512_set1_ps(_cvtsh_ss(x[i].d));
        for (int j = 0; j < QK8_0; j += 16) {
            __m512i q = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(x[i].qs + j)));
            _mm512_storeu_ps(y + j, _mm512_mul_ps(_mm512_cvtepi32_ps(q), d));
        }
    }
}

void fr_q8_0_from_float_avx512(void *vy, const float *x, int64_t n) {
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        const float amax =
            _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        y[i].d = fr_f32_to_f16(amax / 127.f);
        const __m512 id = _mm512_set1_ps(amax != 0.0f ? 127.f / amax : 0.0f);
        /* cvtps rounds to nearest even, vpmovsdb saturates like the reference's clamp */
        _mm_storeu_si128((__m128i *)y[i].qs,
                         _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, id))));
        _mm_storeu_si128((__m128i *)(y[i].qs + 16),
                         _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, id))));
    }
}

/* signed x . signed y over 32 bytes -> 8 int32 partial sums (y must not hold -128) */
static inline __m256i dot_i8_32(__m256i x, __m256i y) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(x), _mm256_sign_epi8(y, x));
}

void fr_q8_0_dot_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q8_0 *x = vx, *y = vy;
    const int64_t nb = n / QK8_0;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
    int64_t i = 0;
    for (; i + 8 <= nb; i += 8) {
#pragma GCC unroll 8
        for (int k = 0; k < 8; k += 2) {
            const __m512 d = _mm512_insertf32x8(
                _mm512_broadcastss_ps(fr_f16_scale_product(&x[i + k], &y[i + k])),
                _mm256_broadcastss_ps(fr_f16_scale_product(&x[i + k + 1], &y[i + k + 1])), 1);
            const __m512i qx = _mm512_inserti64x4(
                _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)x[i + k].qs)),
                _mm256_loadu_si256((const __m256i *)x[i + k + 1].qs), 1);
            const __m512i qy = _mm512_inserti64x4(
                _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)y[i + k].qs)),
                _mm256_loadu_si256((const __m256i *)y[i + k + 1].qs), 1);
            const __m512i sy =
                _mm512_mask_sub_epi8(qy, _mm512_movepi8_mask(qx), _mm512_setzero_si512(), qy);
            const __m512i dp = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(qx), sy);
            acc[k / 2] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dp), acc[k / 2]);
        }
    }
    __m256 acc8 = _mm256_setzero_ps();
    for (; i < nb; i++) {
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[i].qs);
        const __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        const __m256 d = _mm256_broadcastss_ps(fr_f16_scale_product(&x[i], &y[i]));
        acc8 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_32(qx, qy)), acc8);
    }
    *s = _mm512_reduce_add_ps(
             _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]))) +
         fr_hsum_ps256(acc8);
}

/* (q - 8) . y with q unsigned: q . y - 8 * sum(y) */
static inline __m256i dot_q4_32(__m256i q, __m256i y) {
    const __m256i z = _mm256_setzero_si256();
    return _mm256_sub_epi32(_mm256_dpbusd_epi32(z, q, y),
                            _mm256_dpbusd_epi32(z, _mm256_set1_epi8(8), y));
}

void fr_q4_0_dot_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q4_0 *x = vx;
    const block_q8_0 *y = vy;
    const int64_t nb = n / QK4_0;
    const __m512i m4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8),
                  z = _mm512_setzero_si512();
    __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) {
#pragma GCC unroll 8
        for (int k = 0; k < 4; k += 2) {
            const __m512 d = _mm512_insertf32x8(
                _mm512_broadcastss_ps(fr_f16_scale_product(&x[i + k], &y[i + k])),
                _mm256_broadcastss_ps(fr_f16_scale_product(&x[i + k + 1], &y[i + k + 1])), 1);
            /* 128-bit lanes: block a low nibbles, a high, b low, b high */
            const __m256i ab = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)x[i + k].qs)),
                _mm_loadu_si128((const __m128i *)x[i + k + 1].qs), 1);
            __m512i qx =
                _mm512_inserti64x4(_mm512_castsi256_si512(ab), _mm256_srli_epi16(ab, 4), 1);
            qx = _mm512_and_si512(_mm512_shuffle_i64x2(qx, qx, _MM_SHUFFLE(3, 1, 2, 0)), m4);
            const __m512i qy = _mm512_inserti64x4(
                _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)y[i + k].qs)),
                _mm256_loadu_si256((const __m256i *)y[i + k + 1].qs), 1);
            const __m512i dp =
                _mm512_sub_epi32(_mm512_dpbusd_epi32(z, qx, qy), _mm512_dpbusd_epi32(z, eight, qy));
            acc[k / 2] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dp), acc[k / 2]);
        }
    }
    __m256 acc8 = _mm256_setzero_ps();
    for (; i < nb; i++) {
        const __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        const __m256 d = _mm256_broadcastss_ps(fr_f16_scale_product(&x[i], &y[i]));
        acc8 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_q4_32(fr_nibbles32(x[i].qs), qy)), acc8);
    }
    *s = _mm512_reduce_add_ps(_mm512_add_ps(acc[0], acc[1])) + fr_hsum_ps256(acc8);
}

/* ---- Q8_K activations ---- */

void fr_q8_K_from_float_avx512(void *vy, const float *x, int64_t n) {
    block_q8_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        __m512 m = _mm512_setzero_ps();
        for (int j = 0; j < QK_K; j += 16)
            m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + j)));
        const float amax = _mm512_reduce_max_ps(m);
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* the first element of largest magnitude gives the sign, as the reference */
        float max = amax;
        for (int j = 0; j < QK_K; j += 16) {
            __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + j)),
                                               _mm512_set1_ps(amax), _CMP_EQ_OQ);
            if (hit) {
                max = x[j + __builtin_ctz((unsigned)hit)];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m512 vs = _mm512_set1_ps(iscale);
        for (int g = 0; g < QK_K / 16; g++) {
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(vs, _mm512_loadu_ps(x + 16 * g)));
            q = _mm512_min_epi32(q, _mm512_set1_epi32(127));
            q = _mm512_max_epi32(q, _mm512_set1_epi32(-128)); /* NaN input gives INT_MIN */
            y[i].bsums[g] = (int16_t)_mm512_reduce_add_epi32(q);
            _mm_storeu_si128((__m128i *)(y[i].qs + 16 * g), _mm512_cvtsepi32_epi8(q));
        }
        y[i].d = 1 / iscale;
    }
}

/* ---- K-quants ---- */

/* 32 bytes of nibbles (one 64-element chunk of Q4_K/Q5_K) -> 64 bytes: the 32 low nibbles
 * (sub-block 2j) then the 32 high nibbles (sub-block 2j+1) */
static inline __m512i nibbles64(const uint8_t *p) {
    const __m256i b = _mm256_loadu_si256((const __m256i *)p);
    const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(b), _mm256_srli_epi16(b, 4), 1);
    return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

void fr_q4_K_to_float_avx512(float *y, const void *vx, int64_t n) {
    const block_q4_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = _cvtsh_ss(x[i].d), min = _cvtsh_ss(x[i].dmin);
        uint8_t sm[16];
        fr_k4_unpack_scales(sm, x[i].scales);
#pragma GCC unroll 8
        for (int j = 0; j < QK_K / 64; j++, y += 64) {
            const __m512i q = nibbles64(x[i].qs + 32 * j);
            const __m512 d1 = _mm512_set1_ps(d * sm[2 * j]),
                         m1 = _mm512_set1_ps(min * sm[8 + 2 * j]);
            const __m512 d2 = _mm512_set1_ps(d * sm[2 * j + 1]),
                         m2 = _mm512_set1_ps(min * sm[8 + 2 * j + 1]);
#define PART(k, dd, mm)                                                                            \
    _mm512_storeu_ps(y + 16 * k,                                                                   \
                     _mm512_sub_ps(_mm512_mul_ps(dd, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(      \
                                                         _mm512_extracti32x4_epi32(q, k)))),       \
                                   mm))
            PART(0, d1, m1);
            PART(1, d1, m1);
            PART(2, d2, m2);
            PART(3, d2, m2);
#undef PART
        }
    }
}

/* The 8 scales of a Q4_K/Q5_K block as int16 in a zmm (lanes 0..7), and the block's
 * sum over sub-blocks of min[j] * (sum of its 32 activations), as 4 int32. */
static inline __m512i k4_scales_mins(__m128i *minsum, const uint8_t *sc12, const int16_t *bsums) {
    const __m256i ms = _mm256_cvtepu8_epi16(fr_k4_scales_vec(sc12));
    *minsum = fr_k4_min_sums(_mm256_extracti128_si256(ms, 1), bsums);
    return _mm512_castsi256_si512(ms);
}

/* vpermw indices: 16 lanes of a, then 16 lanes of b */
static inline __m512i idx_pair(int a, int b) {
    return _mm512_mask_blend_epi16(0xFFFF0000u, _mm512_set1_epi16((short)a),
                                   _mm512_set1_epi16((short)b));
}

/* Q4_K and Q5_K share scales, mins and the nibble layout; Q5_K adds a fifth bit from qh
 * (bytes 0..31 of a step test qh bit 2j, bytes 32..63 bit 2j+1). One body, q5 a constant in
 * each caller. */
static inline __attribute__((always_inline)) void k45_dot(const int q5, int64_t n, float *s,
                                                          const void *vx, const void *vy) {
    const block_q8_K *y = vy;
    const __m512i idx[4] = {idx_pair(0, 1), idx_pair(2, 3), idx_pair(4, 5), idx_pair(6, 7)};
    const __m512i bit0 = _mm512_inserti64x4(_mm512_set1_epi8(1), _mm256_set1_epi8(2), 1);
    const __m512i sixteen = _mm512_set1_epi8(16);
    __m512 acc = _mm512_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const block_q4_K *x4 = (const block_q4_K *)vx + i;
        const block_q5_K *x5 = (const block_q5_K *)vx + i;
        const fr_f16 xd = q5 ? x5->d : x4->d, xdmin = q5 ? x5->dmin : x4->dmin;
        const float d = y[i].d * _cvtsh_ss(xd), dmin = -y[i].d * _cvtsh_ss(xdmin);
        __m128i minsum;
        const __m512i sc = k4_scales_mins(&minsum, q5 ? x5->scales : x4->scales, y[i].bsums);
        accm = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(minsum), accm);
        const uint8_t *qs = q5 ? x5->qs : x4->qs;
        const __m512i qh = q5 ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x5->qh))
                              : _mm512_setzero_si512();
        __m512i sumi = _mm512_setzero_si512(), bit = bit0;
#pragma GCC unroll 8
        for (int j = 0; j < QK_K / 64; j++) {
            __m512i q = nibbles64(qs + 32 * j);
            if (q5) {
                q = _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(qh, bit), q, sixteen);
                bit = _mm512_slli_epi16(bit, 2);
            }
            const __m512i q8 = _mm512_loadu_si512((const void *)(y[i].qs + 64 * j));
            const __m512i p16 = _mm512_maddubs_epi16(q, q8);
            sumi = _mm512_dpwssd_epi32(sumi, p16, _mm512_permutexvar_epi16(idx[j], sc));
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
    }
    *s = _mm512_reduce_add_ps(acc) + fr_hsum_ps128(accm);
}

void fr_q4_K_dot_avx512(int64_t n, float *s, const void *vx, const void *vy) { k45_dot(0, n, s, vx, vy); }
void fr_q5_K_dot_avx512(int64_t n, float *s, const void *vx, const void *vy) { k45_dot(1, n, s, vx, vy); }

/* Q6_K: per 128-element half, one zmm holds elements 0..63 (low nibbles of ql[0..63] with
 * qh bits 0-1 / 2-3) and one elements 64..127 (high nibbles, qh bits 4-5 / 6-7). Levels
 * 0..63 are used unsigned; the -32 offset is removed once per block through the Q8_K group
 * sums: sum_g sc[g] * 32 * bsums[g]. */
void fr_q6_K_dot_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q6_K *x = vx;
    const block_q8_K *y = vy;
    const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(0x30);
    /* per-word shift counts: low 256 bits / high 256 bits */
    const __m512i sh_lo = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i sh_hi = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);
    /* vpermw indices: lane k of the int16 products uses group base + k / 8 */
    const __m512i step = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1,
                                          1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i idx[4] = {step, _mm512_add_epi16(step, _mm512_set1_epi16(4)),
                            _mm512_add_epi16(step, _mm512_set1_epi16(8)),
                            _mm512_add_epi16(step, _mm512_set1_epi16(12))};
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = y[i].d * _cvtsh_ss(x[i].d);
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        const __m256i corr =
            _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)y[i].bsums));
        const __m512i sc = _mm512_castsi256_si512(sc16);
        __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int h = 0; h < QK_K / 128; h++) {
            const __m512i l = _mm512_loadu_si512((const void *)(x[i].ql + 64 * h));
            const __m512i hb =
                _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * h)));
            const __m512i qa = _mm512_or_si512(_mm512_and_si512(l, m4),
                                               _mm512_and_si512(_mm512_sllv_epi16(hb, sh_lo), m2));
            const __m512i qb = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                               _mm512_and_si512(_mm512_srlv_epi16(hb, sh_hi), m2));
            const int8_t *q8 = y[i].qs + 128 * h;
            const __m512i pa = _mm512_maddubs_epi16(qa, _mm512_loadu_si512((const void *)q8));
            const __m512i pb =
                _mm512_maddubs_epi16(qb, _mm512_loadu_si512((const void *)(q8 + 64)));
            sumi = _mm512_dpwssd_epi32(sumi, pa, _mm512_permutexvar_epi16(idx[2 * h], sc));
            sumi = _mm512_dpwssd_epi32(sumi, pb, _mm512_permutexvar_epi16(idx[2 * h + 1], sc));
        }
        sumi = _mm512_sub_epi32(sumi, _mm512_zextsi256_si512(_mm256_slli_epi32(corr, 5)));
        acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
    }
    *s = _mm512_reduce_add_ps(acc);
}
