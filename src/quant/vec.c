/* vec.c: generic versions of the vec.h kernels and their run-time dispatch. */
#include "quant/vec.h"

#include <math.h>
#include <stdatomic.h>

#include "core/cpu.h"

static float dot_f32(int64_t n, const float *x, const float *y) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * y[i]);
    return (float)sum;
}

static float dot_f16_f32(int64_t n, const fr_f16 *x, const float *y) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)(fr_f16_to_f32(x[i]) * y[i]);
    return (float)sum;
}

static void mad_f32(int64_t n, float *y, const float *x, float a) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static void mad_f16_f32(int64_t n, float *y, const fr_f16 *x, float a) {
    for (int64_t i = 0; i < n; i++) y[i] += a * fr_f16_to_f32(x[i]);
}

static void scale_f32(int64_t n, float *y, float a) {
    for (int64_t i = 0; i < n; i++) y[i] *= a;
}

static float max_f32(int64_t n, const float *x) {
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

static void f16_from_f32(fr_f16 *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = fr_f32_to_f16(x[i]);
}

static void f32_from_f16(float *y, const fr_f16 *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = fr_f16_to_f32(x[i]);
}

static void dot_f16_rows(float *s, const fr_f16 *k, int64_t ld, int64_t n, const float *q, int64_t d) {
    for (int64_t j = 0; j < n; j++) s[j] = dot_f16_f32(d, k + j * ld, q);
}

static void mad_f16_rows(float *y, const fr_f16 *v, int64_t ld, int64_t n, const float *p, int64_t d) {
    for (int64_t j = 0; j < n; j++) mad_f16_f32(d, y, v + j * ld, p[j]);
}

static void swiglu_f32(int64_t n, float *out, const float *g, const float *u) {
    for (int64_t i = 0; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

const fr_vec_kernels fr_vec_generic = {dot_f32,   dot_f16_f32, mad_f32,      mad_f16_f32,
                                       scale_f32, max_f32,     f16_from_f32, f32_from_f16, dot_f16_rows, mad_f16_rows,
                                       swiglu_f32};

static const fr_vec_kernels *_Atomic g_vec;

void fr_vec_init(void) {
    const fr_vec_kernels *k = &fr_vec_generic;
    switch (fr_cpu()->level) {
    case FR_CPU_AVX512:
        k = &fr_vec_avx512;
        break;
    case FR_CPU_AVX2:
        k = &fr_vec_avx2;
        break;
    default:
        break;
    }
    atomic_store_explicit(&g_vec, k, memory_order_release);
}

static inline const fr_vec_kernels *vec(void) {
    const fr_vec_kernels *k = atomic_load_explicit(&g_vec, memory_order_acquire);
    if (!k) {
        fr_vec_init(); /* racing first calls store the same pointer */
        k = atomic_load_explicit(&g_vec, memory_order_acquire);
    }
    return k;
}

float fr_vec_dot_f32(int64_t n, const float *x, const float *y) {
    return vec()->dot_f32(n, x, y);
}
float fr_vec_dot_f16_f32(int64_t n, const fr_f16 *x, const float *y) {
    return vec()->dot_f16_f32(n, x, y);
}
void fr_vec_mad_f32(int64_t n, float *y, const float *x, float a) {
    vec()->mad_f32(n, y, x, a);
}
void fr_vec_mad_f16_f32(int64_t n, float *y, const fr_f16 *x, float a) {
    vec()->mad_f16_f32(n, y, x, a);
}
void fr_vec_scale_f32(int64_t n, float *y, float a) {
    vec()->scale_f32(n, y, a);
}
void fr_vec_swiglu_f32(int64_t n, float *out, const float *g, const float *u) {
    vec()->swiglu_f32(n, out, g, u);
}
float fr_vec_max_f32(int64_t n, const float *x) {
    return vec()->max_f32(n, x);
}
void fr_f16_row_from_f32(fr_f16 *y, const float *x, int64_t n) {
    vec()->f16_from_f32(y, x, n);
}
void fr_vec_dot_f16_rows(float *s, const fr_f16 *k, int64_t ld, int64_t n, const float *q, int64_t d) {
    vec()->dot_f16_rows(s, k, ld, n, q, d);
}
void fr_vec_mad_f16_rows(float *y, const fr_f16 *v, int64_t ld, int64_t n, const float *p, int64_t d) {
    vec()->mad_f16_rows(y, v, ld, n, p, d);
}
void fr_f32_row_from_f16(float *y, const fr_f16 *x, int64_t n) {
    vec()->f32_from_f16(y, x, n);
}
