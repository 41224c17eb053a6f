/* vec_avx512.c: AVX-512 versions of the vec.h kernels; tails use masked loads/stores. */
#include <immintrin.h>
#include <math.h>

#include "quant/quant_impl.h"
#include "quant/vec.h"
#include "quant/vexp_x86.h"

static inline __mmask16 tail16(int64_t r) {
    return (__mmask16)((1u << r) - 1);
}

static inline __m512 ld_f16(const fr_f16 *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}
static inline __m512 ld_f16_tail(const fr_f16 *p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

static float dot_f32(int64_t n, const float *x, const float *y) {
    float r; /* one f32 dot kernel per level: the weights' vec_dot is the same product */
    fr_f32_dot_avx512(n, &r, x, y);
    return r;
}

static float dot_f16_f32(int64_t n, const fr_f16 *x, const float *y) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(ld_f16(x + i), _mm512_loadu_ps(y + i), a0);
        a1 = _mm512_fmadd_ps(ld_f16(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
        a2 = _mm512_fmadd_ps(ld_f16(x + i + 32), _mm512_loadu_ps(y + i + 32), a2);
        a3 = _mm512_fmadd_ps(ld_f16(x + i + 48), _mm512_loadu_ps(y + i + 48), a3);
    }
    for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(ld_f16(x + i), _mm512_loadu_ps(y + i), a0);
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        a1 = _mm512_fmadd_ps(ld_f16_tail(x + i, m), _mm512_maskz_loadu_ps(m, y + i), a1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static void mad_f32(int64_t n, float *y, const float *x, float a) {
    const __m512 va = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i,
                         _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        _mm512_mask_storeu_ps(
            y + i, m,
            _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

static void mad_f16_f32(int64_t n, float *y, const fr_f16 *x, float a) {
    const __m512 va = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, ld_f16(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        _mm512_mask_storeu_ps(
            y + i, m, _mm512_fmadd_ps(va, ld_f16_tail(x + i, m), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

static void scale_f32(int64_t n, float *y, float a) {
    const __m512 va = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), va));
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, y + i), va));
    }
}

static float max_f32(int64_t n, const float *x) {
    __m512 m = _mm512_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(x + i));
    if (i < n)
        m = _mm512_mask_max_ps(m, tail16(n - i), m, _mm512_maskz_loadu_ps(tail16(n - i), x + i));
    return _mm512_reduce_max_ps(m);
}

static void f16_from_f32(fr_f16 *y, const float *x, int64_t n) { fr_f16_from_float_avx512(y, x, n); }

static void f32_from_f16(float *y, const fr_f16 *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, ld_f16(x + i));
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        _mm512_mask_storeu_ps(y + i, m, ld_f16_tail(x + i, m));
    }
}

/* Attention rows: head widths that are multiples of 16 up to 256 keep the query (dot) or
 * the output accumulators (mad) in registers across all rows. */
#define INLINE static inline __attribute__((always_inline))

INLINE void dot_rows_w(const int W, float *s, const fr_f16 *k, int64_t ld, int64_t n, const float *q) {
    __m512 qv[16];
#pragma GCC unroll 16
    for (int c = 0; c < W; c++) qv[c] = _mm512_loadu_ps(q + 16 * c);
    for (int64_t j = 0; j < n; j++) {
        const fr_f16 *kr = k + j * ld;
        __m512 a = _mm512_mul_ps(ld_f16(kr), qv[0]), b = _mm512_setzero_ps();
#pragma GCC unroll 16
        for (int c = 1; c < W; c++) {
            if (c & 1) b = _mm512_fmadd_ps(ld_f16(kr + 16 * c), qv[c], b);
            else a = _mm512_fmadd_ps(ld_f16(kr + 16 * c), qv[c], a);
        }
        s[j] = _mm512_reduce_add_ps(_mm512_add_ps(a, b));
    }
}

static void dot_f16_rows(float *s, const fr_f16 *k, int64_t ld, int64_t n, const float *q, int64_t d) {
    switch (d) {
    case 64: dot_rows_w(4, s, k, ld, n, q); return;
    case 128: dot_rows_w(8, s, k, ld, n, q); return;
    case 256: dot_rows_w(16, s, k, ld, n, q); return;
    default:
        for (int64_t j = 0; j < n; j++) s[j] = dot_f16_f32(d, k + j * ld, q);
    }
}

INLINE void mad_rows_w(const int W, float *y, const fr_f16 *v, int64_t ld, int64_t n, const float *p) {
    __m512 acc[16];
#pragma GCC unroll 16
    for (int c = 0; c < W; c++) acc[c] = _mm512_loadu_ps(y + 16 * c);
    for (int64_t j = 0; j < n; j++) {
        const __m512 pj = _mm512_set1_ps(p[j]);
        const fr_f16 *vr = v + j * ld;
#pragma GCC unroll 16
        for (int c = 0; c < W; c++) acc[c] = _mm512_fmadd_ps(pj, ld_f16(vr + 16 * c), acc[c]);
    }
#pragma GCC unroll 16
    for (int c = 0; c < W; c++) _mm512_storeu_ps(y + 16 * c, acc[c]);
}

static void mad_f16_rows(float *y, const fr_f16 *v, int64_t ld, int64_t n, const float *p, int64_t d) {
    switch (d) {
    case 64: mad_rows_w(4, y, v, ld, n, p); return;
    case 128: mad_rows_w(8, y, v, ld, n, p); return;
    case 256: mad_rows_w(16, y, v, ld, n, p); return;
    default:
        for (int64_t j = 0; j < n; j++) mad_f16_f32(d, y, v + j * ld, p[j]);
    }
}

static void swiglu_f32(int64_t n, float *out, const float *g, const float *u) {
    const __m512 one = _mm512_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(g + i);
        __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), x));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(one, e)), _mm512_loadu_ps(u + i)));
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(m, g + i);
        __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), x));
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(one, e)), _mm512_maskz_loadu_ps(m, u + i)));
    }
}

const fr_vec_kernels fr_vec_avx512 = {dot_f32,   dot_f16_f32, mad_f32,      mad_f16_f32,
                                      scale_f32, max_f32,     f16_from_f32, f32_from_f16, dot_f16_rows, mad_f16_rows,
                                      swiglu_f32};
