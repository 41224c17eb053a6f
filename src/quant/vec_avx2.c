/* vec_avx2.c: AVX2 + FMA + F16C versions of the vec.h kernels. */
#include <immintrin.h>
#include <math.h>

#include "quant/quant_impl.h"
#include "quant/vec.h"
#include "quant/vexp_x86.h"

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256 ld_f16(const fr_f16 *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static float dot_f32(int64_t n, const float *x, const float *y) {
    float r; /* one f32 dot kernel per level: the weights' vec_dot is the same product */
    fr_f32_dot_avx2(n, &r, x, y);
    return r;
}

static float dot_f16_f32(int64_t n, const fr_f16 *x, const float *y) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(ld_f16(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(ld_f16(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(ld_f16(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(ld_f16(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(ld_f16(x + i), _mm256_loadu_ps(y + i), a0);
    float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s += fr_f16_to_f32(x[i]) * y[i];
    return s;
}

static void mad_f32(int64_t n, float *y, const float *x, float a) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i,
                         _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static void mad_f16_f32(int64_t n, float *y, const fr_f16 *x, float a) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, ld_f16(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * fr_f16_to_f32(x[i]);
}

static void scale_f32(int64_t n, float *y, float a) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), va));
    for (; i < n; i++) y[i] *= a;
}

static float max_f32(int64_t n, const float *x) {
    __m256 m = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    float r = _mm_cvtss_f32(m4);
    for (; i < n; i++) r = x[i] > r ? x[i] : r;
    return r;
}

static void f16_from_f32(fr_f16 *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = fr_f32_to_f16(x[i]);
}

static void f32_from_f16(float *y, const fr_f16 *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, ld_f16(x + i));
    for (; i < n; i++) y[i] = fr_f16_to_f32(x[i]);
}

static void dot_f16_rows(float *s, const fr_f16 *k, int64_t ld, int64_t n, const float *q, int64_t d) {
    for (int64_t j = 0; j < n; j++) s[j] = dot_f16_f32(d, k + j * ld, q);
}

static void mad_f16_rows(float *y, const fr_f16 *v, int64_t ld, int64_t n, const float *p, int64_t d) {
    for (int64_t j = 0; j < n; j++) mad_f16_f32(d, y, v + j * ld, p[j]);
}

static void swiglu_f32(int64_t n, float *out, const float *g, const float *u) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(g + i);
        __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), x));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(x, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

const fr_vec_kernels fr_vec_avx2 = {dot_f32,   dot_f16_f32, mad_f32,      mad_f16_f32,
                                    scale_f32, max_f32,     f16_from_f32, f32_from_f16, dot_f16_rows, mad_f16_rows,
                                    swiglu_f32};
