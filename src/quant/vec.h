/* vec.h: small f32 kernels for the model code (attention, norms, softmax), each with a
 * generic, avx2 and avx512 version chosen at run time from fr_cpu()->level.
 * All take n >= 0 of any size (no alignment or multiple-of requirements). */
#ifndef FR_VEC_H
#define FR_VEC_H

#include <stdint.h>

#include "core/fp16.h"

/* sum x[i] * y[i] */
float fr_vec_dot_f32(int64_t n, const float *x, const float *y);
/* sum f32(x[i]) * y[i]: f16 keys against an f32 query */
float fr_vec_dot_f16_f32(int64_t n, const fr_f16 *x, const float *y);
/* y[i] += a * x[i] */
void fr_vec_mad_f32(int64_t n, float *y, const float *x, float a);
/* y[i] += a * f32(x[i]): accumulating f16 values */
void fr_vec_mad_f16_f32(int64_t n, float *y, const fr_f16 *x, float a);
/* s[j] = sum_i f32(k[j * ld + i]) * q[i] for j < n: one query against n f16 key rows of d
 * elements (row stride ld elements) */
void fr_vec_dot_f16_rows(float *s, const fr_f16 *k, int64_t ld, int64_t n, const float *q, int64_t d);
/* y[i] += sum_j p[j] * f32(v[j * ld + i]) for i < d: an attention-weighted sum of n f16 value
 * rows, accumulated in j order */
void fr_vec_mad_f16_rows(float *y, const fr_f16 *v, int64_t ld, int64_t n, const float *p, int64_t d);
/* out[i] = silu(g[i]) * u[i] = g[i] / (1 + exp(-g[i])) * u[i] (SIMD exp within 2 ulp) */
void fr_vec_swiglu_f32(int64_t n, float *out, const float *g, const float *u);
/* y[i] *= a */
void fr_vec_scale_f32(int64_t n, float *y, float a);
/* max x[i]; -INFINITY for n == 0 */
float fr_vec_max_f32(int64_t n, const float *x);
/* y[i] = f16(x[i]) (round to nearest even), y[i] = f32(x[i]); bit exact at every level */
void fr_f16_row_from_f32(fr_f16 *y, const float *x, int64_t n);
void fr_f32_row_from_f16(float *y, const fr_f16 *x, int64_t n);

/* Re-selects the kernels after fr_cpu_force (fr_type_init calls it). */
void fr_vec_init(void);

/* the kernel table, one per level (vec.c, vec_avx2.c, vec_avx512.c) */
typedef struct fr_vec_kernels {
    float (*dot_f32)(int64_t n, const float *x, const float *y);
    float (*dot_f16_f32)(int64_t n, const fr_f16 *x, const float *y);
    void (*mad_f32)(int64_t n, float *y, const float *x, float a);
    void (*mad_f16_f32)(int64_t n, float *y, const fr_f16 *x, float a);
    void (*scale_f32)(int64_t n, float *y, float a);
    float (*max_f32)(int64_t n, const float *x);
    void (*f16_from_f32)(fr_f16 *y, const float *x, int64_t n);
    void (*f32_from_f16)(float *y, const fr_f16 *x, int64_t n);
    void (*dot_f16_rows)(float *s, const fr_f16 *k, int64_t ld, int64_t n, const float *q, int64_t d);
    void (*mad_f16_rows)(float *y, const fr_f16 *v, int64_t ld, int64_t n, const float *p, int64_t d);
    void (*swiglu_f32)(int64_t n, float *out, const float *g, const float *u);
} fr_vec_kernels;

extern const fr_vec_kernels fr_vec_generic, fr_vec_avx2, fr_vec_avx512;

#endif
