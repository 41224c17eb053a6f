/* quant_ref.c: scalar reference kernels for the float types (F32, F16, BF16) and the
 * 32-element block types Q8_0 and Q4_0, plus the Q8_K activation quantizer. These follow
 * llama.cpp's quantize_row_*_ref / dequantize_row_* / ggml_vec_dot_*_generic formulas
 * operation for operation, so dequantized values match bit for bit. */
#include <math.h>

#include "quant/quant_impl.h"

/* ---- F32 ---- */

void fr_f32_to_float_generic(float *y, const void *x, int64_t n) {
    memcpy(y, x, (size_t)n * sizeof(float));
}

void fr_f32_from_float_generic(void *y, const float *x, int64_t n) {
    memcpy(y, x, (size_t)n * sizeof(float));
}

/* products in float, sum in double (as ggml_vec_dot_f32 without SIMD) */
void fr_f32_dot_generic(int64_t n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * y[i]);
    *s = (float)sum;
}

/* ---- F16 ---- */

void fr_f16_to_float_generic(float *y, const void *vx, int64_t n) {
    const fr_f16 *x = vx;
    for (int64_t i = 0; i < n; i++) y[i] = fr_f16_to_f32(x[i]);
}

void fr_f16_from_float_generic(void *vy, const float *x, int64_t n) {
    fr_f16 *y = vy;
    for (int64_t i = 0; i < n; i++) y[i] = fr_f32_to_f16(x[i]);
}

void fr_f16_dot_generic(int64_t n, float *s, const void *vx, const void *vy) {
    const fr_f16 *x = vx, *y = vy;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)(fr_f16_to_f32(x[i]) * fr_f16_to_f32(y[i]));
    *s = (float)sum;
}

/* ---- BF16 ---- */

void fr_bf16_to_float_generic(float *y, const void *vx, int64_t n) {
    const fr_bf16 *x = vx;
    for (int64_t i = 0; i < n; i++) y[i] = fr_bf16_to_f32(x[i]);
}

void fr_bf16_from_float_generic(void *vy, const float *x, int64_t n) {
    fr_bf16 *y = vy;
    for (int64_t i = 0; i < n; i++) y[i] = fr_f32_to_bf16(x[i]);
}

void fr_bf16_dot_generic(int64_t n, float *s, const void *vx, const void *vy) {
    const fr_bf16 *x = vx, *y = vy;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)(fr_bf16_to_f32(x[i]) * fr_bf16_to_f32(y[i]));
    *s = (float)sum;
}

/* ---- Q8_0: d (f16), 32 x int8; value = q * d ---- */

void fr_q8_0_to_float_generic(float *y, const void *vx, int64_t n) {
    const block_q8_0 *x = vx;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        const float d = fr_f16_to_f32(x[i].d);
        for (int j = 0; j < QK8_0; j++) y[i * QK8_0 + j] = x[i].qs[j] * d;
    }
}

/* float -> int8 for |v| <= 127.x as the C cast would give after rounding; NaN -> 0 */
static inline int8_t q8_clamp(float v) {
    if (!(v > -128.f)) return v != v ? 0 : -128;
    if (v > 127.f) return 127;
    return (int8_t)v;
}

static float block_amax(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++) {
        float a = fabsf(x[j]);
        amax = amax > a ? amax : a; /* MAX(amax, a) as llama.cpp: a NaN propagates */
    }
    return amax;
}

void fr_q8_0_from_float_ref(void *vy, const float *x, int64_t n) {
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        const float amax = block_amax(x, QK8_0);
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fr_f32_to_f16(d);
        for (int j = 0; j < QK8_0; j++) y[i].qs[j] = q8_clamp(roundf(x[j] * id));
    }
}

void fr_q8_0_from_float_generic(void *vy, const float *x, int64_t n) {
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        const float amax = block_amax(x, QK8_0);
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[i].d = fr_f32_to_f16(d);
        for (int j = 0; j < QK8_0; j++) {
            int q = fr_nearest_int(x[j] * id);
            y[i].qs[j] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
        }
    }
}

void fr_q8_0_dot_generic(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q8_0 *x = vx, *y = vy;
    float sumf = 0;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int sumi = 0;
        for (int j = 0; j < QK8_0; j++) sumi += x[i].qs[j] * y[i].qs[j];
        sumf += sumi * (fr_f16_to_f32(x[i].d) * fr_f16_to_f32(y[i].d));
    }
    *s = sumf;
}

/* ---- Q4_0: d (f16), 16 bytes; element j is the low nibble of qs[j], element j+16 the
 * high nibble; value = (q - 8) * d ---- */

void fr_q4_0_to_float_generic(float *y, const void *vx, int64_t n) {
    const block_q4_0 *x = vx;
    for (int64_t i = 0; i < n / QK4_0; i++, y += QK4_0) {
        const float d = fr_f16_to_f32(x[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            const int x0 = (x[i].qs[j] & 0x0F) - 8;
            const int x1 = (x[i].qs[j] >> 4) - 8;
            y[j] = x0 * d;
            y[j + QK4_0 / 2] = x1 * d;
        }
    }
}

/* (int8_t)(v) then MIN(15, .) for v = x * id + 8.5 in [0, 16.5]; NaN -> 0 */
static inline uint8_t q4_clamp(float v) {
    if (!(v >= 0.f)) return 0;
    if (v >= 15.f) return 15;
    return (uint8_t)v;
}

void fr_q4_0_from_float_ref(void *vy, const float *x, int64_t n) {
    block_q4_0 *y = vy;
    for (int64_t i = 0; i < n / QK4_0; i++, x += QK4_0) {
        float amax = 0.0f, max = 0.0f; /* max: the signed value of largest magnitude */
        for (int j = 0; j < QK4_0; j++) {
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fr_f32_to_f16(d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            const float x0 = x[j] * id, x1 = x[j + QK4_0 / 2] * id;
            const uint8_t q0 = q4_clamp(x0 + 8.5f), q1 = q4_clamp(x1 + 8.5f);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void fr_q4_0_dot_generic(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q4_0 *x = vx;
    const block_q8_0 *y = vy;
    float sumf = 0;
    for (int64_t i = 0; i < n / QK4_0; i++) {
        int sumi = 0;
        for (int j = 0; j < QK4_0 / 2; j++) {
            sumi += ((x[i].qs[j] & 0x0F) - 8) * y[i].qs[j];
            sumi += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK4_0 / 2];
        }
        sumf += sumi * fr_f16_to_f32(x[i].d) * fr_f16_to_f32(y[i].d);
    }
    *s = sumf;
}

/* ---- Q8_K: float d, 256 x int8, sums of 16-element groups; activations only ---- */

void fr_q8_K_to_float_generic(float *y, const void *vx, int64_t n) {
    const block_q8_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++)
        for (int j = 0; j < QK_K; j++) y[i * QK_K + j] = x[i].d * x[i].qs[j];
}

void fr_q8_K_from_float_ref(void *vy, const float *x, int64_t n) {
    block_q8_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float amax = 0, max = 0;
        for (int j = 0; j < QK_K; j++) {
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < QK_K; j++) {
            int v = fr_nearest_int(iscale * x[j]);
            v = v > 127 ? 127 : v;
            y[i].qs[j] = (int8_t)(v < -128 ? -128 : v); /* -128 only for NaN input */
        }
        for (int g = 0; g < QK_K / 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += y[i].qs[g * 16 + j];
            y[i].bsums[g] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}
