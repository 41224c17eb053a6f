/* attn16_avx512.c: AVX-512 versions of the 16-lane attention kernels (attn16.h). One zmm
 * holds one value of each of the 16 lanes. Scores: a tile of 8 keys keeps 8 accumulators,
 * each step loads the 16 lanes' query value once and multiplies it by 8 broadcast key
 * values. Softmax: lane-parallel max, exp (polynomial, vexp_x86.h), double sums as the reference.
 * P.V: a tile of 4 lanes x 64 outputs (16 accumulators) over the value rows. */
#include <immintrin.h>
#include <math.h>

#include "quant/attn16.h"
#include "quant/vexp_x86.h"

#define INLINE static inline __attribute__((always_inline))

static void scores_avx512(float *s, const float *qt, const float *k, int64_t ldk, int n, int64_t d,
                          float scale) {
    const __m512 vs = _mm512_set1_ps(scale);
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        const float *k0 = k + (int64_t)j * ldk;
        __m512 a[8];
#pragma GCC unroll 8
        for (int m = 0; m < 8; m++) a[m] = _mm512_setzero_ps();
        for (int64_t i = 0; i < d; i++) {
            __m512 q = _mm512_loadu_ps(qt + i * FR_ATTN_LANES);
#pragma GCC unroll 8
            for (int m = 0; m < 8; m++) a[m] = _mm512_fmadd_ps(q, _mm512_set1_ps(k0[m * ldk + i]), a[m]);
        }
#pragma GCC unroll 8
        for (int m = 0; m < 8; m++) _mm512_storeu_ps(s + (j + m) * FR_ATTN_LANES, _mm512_mul_ps(a[m], vs));
    }
    for (; j < n; j++) {
        const float *k0 = k + (int64_t)j * ldk;
        __m512 a = _mm512_setzero_ps();
        for (int64_t i = 0; i < d; i++)
            a = _mm512_fmadd_ps(_mm512_loadu_ps(qt + i * FR_ATTN_LANES), _mm512_set1_ps(k0[i]), a);
        _mm512_storeu_ps(s + j * FR_ATTN_LANES, _mm512_mul_ps(a, vs));
    }
}

static void softmax_avx512(float *s, int n, const int32_t lim[FR_ATTN_LANES], int round16) {
    const __m512i vlim = _mm512_loadu_si512(lim);
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int j = 0; j < n; j++) {
        __mmask16 m = _mm512_cmpgt_epi32_mask(vlim, _mm512_set1_epi32(j));
        mx = _mm512_mask_max_ps(mx, m, mx, _mm512_loadu_ps(s + j * FR_ATTN_LANES));
    }
    __m512d sum_lo = _mm512_setzero_pd(), sum_hi = _mm512_setzero_pd();
    for (int j = 0; j < n; j++) {
        __mmask16 m = _mm512_cmpgt_epi32_mask(vlim, _mm512_set1_epi32(j));
        __m512 e = _mm512_maskz_mov_ps(m, exp512(_mm512_sub_ps(_mm512_loadu_ps(s + j * FR_ATTN_LANES), mx)));
        _mm512_storeu_ps(s + j * FR_ATTN_LANES, e);
        sum_lo = _mm512_add_pd(sum_lo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        sum_hi = _mm512_add_pd(sum_hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    const __m512d one = _mm512_set1_pd(1.0);
    __m256 inv_lo = _mm512_cvtpd_ps(_mm512_div_pd(one, sum_lo));
    __m256 inv_hi = _mm512_cvtpd_ps(_mm512_div_pd(one, sum_hi));
    __m512 inv = _mm512_insertf32x8(_mm512_castps256_ps512(inv_lo), inv_hi, 1);
    inv = _mm512_maskz_mov_ps(_mm512_cmpgt_epi32_mask(vlim, _mm512_setzero_si512()), inv);
    for (int j = 0; j < n; j++) {
        __m512 p = _mm512_mul_ps(_mm512_loadu_ps(s + j * FR_ATTN_LANES), inv);
        if (round16) p = _mm512_cvtph_ps(_mm512_cvtps_ph(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        _mm512_storeu_ps(s + j * FR_ATTN_LANES, p);
    }
}

static void pv_avx512(float *o, int64_t ldo, const float *s, const float *v, int64_t ldv, int n,
                      int64_t d, int nl) {
    for (int l0 = 0; l0 < nl; l0 += 4) {
        int64_t i0 = 0;
        for (; i0 + 64 <= d; i0 += 64) {
            __m512 a[4][4];
#pragma GCC unroll 4
            for (int l = 0; l < 4; l++)
#pragma GCC unroll 4
                for (int c = 0; c < 4; c++) a[l][c] = _mm512_loadu_ps(o + (l0 + l) * ldo + i0 + 16 * c);
            for (int j = 0; j < n; j++) {
                const float *vr = v + (int64_t)j * ldv + i0;
                __m512 vv[4];
#pragma GCC unroll 4
                for (int c = 0; c < 4; c++) vv[c] = _mm512_loadu_ps(vr + 16 * c);
#pragma GCC unroll 4
                for (int l = 0; l < 4; l++) {
                    __m512 p = _mm512_set1_ps(s[j * FR_ATTN_LANES + l0 + l]);
#pragma GCC unroll 4
                    for (int c = 0; c < 4; c++) a[l][c] = _mm512_fmadd_ps(p, vv[c], a[l][c]);
                }
            }
#pragma GCC unroll 4
            for (int l = 0; l < 4; l++)
#pragma GCC unroll 4
                for (int c = 0; c < 4; c++) _mm512_storeu_ps(o + (l0 + l) * ldo + i0 + 16 * c, a[l][c]);
        }
        for (; i0 < d; i0 += 16) {
            __m512 a[4];
#pragma GCC unroll 4
            for (int l = 0; l < 4; l++) a[l] = _mm512_loadu_ps(o + (l0 + l) * ldo + i0);
            for (int j = 0; j < n; j++) {
                __m512 vv = _mm512_loadu_ps(v + (int64_t)j * ldv + i0);
#pragma GCC unroll 4
                for (int l = 0; l < 4; l++)
                    a[l] = _mm512_fmadd_ps(_mm512_set1_ps(s[j * FR_ATTN_LANES + l0 + l]), vv, a[l]);
            }
#pragma GCC unroll 4
            for (int l = 0; l < 4; l++) _mm512_storeu_ps(o + (l0 + l) * ldo + i0, a[l]);
        }
    }
}

const fr_attn16_kernels fr_attn16_avx512 = {scores_avx512, softmax_avx512, pv_avx512};
