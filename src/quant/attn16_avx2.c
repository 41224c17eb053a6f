/* attn16_avx2.c: AVX2 versions of the 16-lane attention kernels (attn16.h). The 16 lanes
 * are two ymm halves. Scores: a tile of 4 keys (8 accumulators); softmax: lane-parallel max,
 * exp (polynomial, vexp_x86.h), double sums as the reference; P.V: 4 lanes x 16 outputs. */
#include <immintrin.h>
#include <math.h>

#include "quant/attn16.h"
#include "quant/vexp_x86.h"

#define INLINE static inline __attribute__((always_inline))

static void scores_avx2(float *s, const float *qt, const float *k, int64_t ldk, int n, int64_t d,
                        float scale) {
    const __m256 vs = _mm256_set1_ps(scale);
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *k0 = k + (int64_t)j * ldk;
        __m256 a[4][2];
#pragma GCC unroll 4
        for (int m = 0; m < 4; m++) a[m][0] = a[m][1] = _mm256_setzero_ps();
        for (int64_t i = 0; i < d; i++) {
            __m256 q0 = _mm256_loadu_ps(qt + i * FR_ATTN_LANES), q1 = _mm256_loadu_ps(qt + i * FR_ATTN_LANES + 8);
#pragma GCC unroll 4
            for (int m = 0; m < 4; m++) {
                __m256 kb = _mm256_broadcast_ss(k0 + m * ldk + i);
                a[m][0] = _mm256_fmadd_ps(q0, kb, a[m][0]);
                a[m][1] = _mm256_fmadd_ps(q1, kb, a[m][1]);
            }
        }
#pragma GCC unroll 4
        for (int m = 0; m < 4; m++) {
            _mm256_storeu_ps(s + (j + m) * FR_ATTN_LANES, _mm256_mul_ps(a[m][0], vs));
            _mm256_storeu_ps(s + (j + m) * FR_ATTN_LANES + 8, _mm256_mul_ps(a[m][1], vs));
        }
    }
    for (; j < n; j++) {
        const float *k0 = k + (int64_t)j * ldk;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        for (int64_t i = 0; i < d; i++) {
            __m256 kb = _mm256_broadcast_ss(k0 + i);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qt + i * FR_ATTN_LANES), kb, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(qt + i * FR_ATTN_LANES + 8), kb, a1);
        }
        _mm256_storeu_ps(s + j * FR_ATTN_LANES, _mm256_mul_ps(a0, vs));
        _mm256_storeu_ps(s + j * FR_ATTN_LANES + 8, _mm256_mul_ps(a1, vs));
    }
}

static void softmax_avx2(float *s, int n, const int32_t lim[FR_ATTN_LANES], int round16) {
    for (int h = 0; h < 2; h++) { /* lanes 8h .. 8h + 7 */
        const __m256i vlim = _mm256_loadu_si256((const __m256i *)(lim + 8 * h));
        float *sh = s + 8 * h;
        __m256 mx = _mm256_set1_ps(-INFINITY);
        for (int j = 0; j < n; j++) {
            __m256 m = _mm256_castsi256_ps(_mm256_cmpgt_epi32(vlim, _mm256_set1_epi32(j)));
            mx = _mm256_blendv_ps(mx, _mm256_max_ps(mx, _mm256_loadu_ps(sh + j * FR_ATTN_LANES)), m);
        }
        __m256d sum_lo = _mm256_setzero_pd(), sum_hi = _mm256_setzero_pd();
        for (int j = 0; j < n; j++) {
            __m256 m = _mm256_castsi256_ps(_mm256_cmpgt_epi32(vlim, _mm256_set1_epi32(j)));
            __m256 x = _mm256_blendv_ps(mx, _mm256_loadu_ps(sh + j * FR_ATTN_LANES), m);
            __m256 e = _mm256_and_ps(m, exp256(_mm256_sub_ps(x, mx)));
            _mm256_storeu_ps(sh + j * FR_ATTN_LANES, e);
            sum_lo = _mm256_add_pd(sum_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
            sum_hi = _mm256_add_pd(sum_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
        }
        const __m256d one = _mm256_set1_pd(1.0);
        __m256 inv = _mm256_set_m128(_mm256_cvtpd_ps(_mm256_div_pd(one, sum_hi)),
                                     _mm256_cvtpd_ps(_mm256_div_pd(one, sum_lo)));
        inv = _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(vlim, _mm256_setzero_si256())), inv);
        for (int j = 0; j < n; j++) {
            __m256 p = _mm256_mul_ps(_mm256_loadu_ps(sh + j * FR_ATTN_LANES), inv);
            if (round16) p = _mm256_cvtph_ps(_mm256_cvtps_ph(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
            _mm256_storeu_ps(sh + j * FR_ATTN_LANES, p);
        }
    }
}

static void pv_avx2(float *o, int64_t ldo, const float *s, const float *v, int64_t ldv, int n,
                    int64_t d, int nl) {
    for (int l0 = 0; l0 < nl; l0 += 4)
        for (int64_t i0 = 0; i0 < d; i0 += 16) {
            __m256 a[4][2];
#pragma GCC unroll 4
            for (int l = 0; l < 4; l++) {
                a[l][0] = _mm256_loadu_ps(o + (l0 + l) * ldo + i0);
                a[l][1] = _mm256_loadu_ps(o + (l0 + l) * ldo + i0 + 8);
            }
            for (int j = 0; j < n; j++) {
                const float *vr = v + (int64_t)j * ldv + i0;
                __m256 v0 = _mm256_loadu_ps(vr), v1 = _mm256_loadu_ps(vr + 8);
#pragma GCC unroll 4
                for (int l = 0; l < 4; l++) {
                    __m256 p = _mm256_broadcast_ss(s + j * FR_ATTN_LANES + l0 + l);
                    a[l][0] = _mm256_fmadd_ps(p, v0, a[l][0]);
                    a[l][1] = _mm256_fmadd_ps(p, v1, a[l][1]);
                }
            }
#pragma GCC unroll 4
            for (int l = 0; l < 4; l++) {
                _mm256_storeu_ps(o + (l0 + l) * ldo + i0, a[l][0]);
                _mm256_storeu_ps(o + (l0 + l) * ldo + i0 + 8, a[l][1]);
            }
        }
}

const fr_attn16_kernels fr_attn16_avx2 = {scores_avx2, softmax_avx2, pv_avx2};
