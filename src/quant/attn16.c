/* attn16.c: the generic reference of the 16-lane attention kernels and their dispatch
 * (contract in attn16.h). */
#include "quant/attn16.h"

#include <math.h>

#include "core/fp16.h"

static void scores_generic(float *s, const float *qt, const float *k, int64_t ldk, int n,
                           int64_t d, float scale) {
    for (int j = 0; j < n; j++) {
        float acc[FR_ATTN_LANES] = {0};
        for (int64_t i = 0; i < d; i++)
            for (int l = 0; l < FR_ATTN_LANES; l++) acc[l] += qt[i * FR_ATTN_LANES + l] * k[j * ldk + i];
        for (int l = 0; l < FR_ATTN_LANES; l++) s[j * FR_ATTN_LANES + l] = acc[l] * scale;
    }
}

static void softmax_generic(float *s, int n, const int32_t lim[FR_ATTN_LANES], int round16) {
    for (int l = 0; l < FR_ATTN_LANES; l++) {
        float mx = -INFINITY;
        for (int j = 0; j < lim[l]; j++)
            if (s[j * FR_ATTN_LANES + l] > mx) mx = s[j * FR_ATTN_LANES + l];
        double sum = 0.0;
        for (int j = 0; j < lim[l]; j++) {
            float e = expf(s[j * FR_ATTN_LANES + l] - mx);
            s[j * FR_ATTN_LANES + l] = e;
            sum += e;
        }
        float inv = lim[l] > 0 ? (float)(1.0 / sum) : 0.0f;
        for (int j = 0; j < lim[l]; j++) {
            float p = s[j * FR_ATTN_LANES + l] * inv;
            s[j * FR_ATTN_LANES + l] = round16 ? fr_f16_to_f32(fr_f32_to_f16(p)) : p;
        }
        for (int j = lim[l] > 0 ? lim[l] : 0; j < n; j++) s[j * FR_ATTN_LANES + l] = 0.0f;
    }
}

static void pv_generic(float *o, int64_t ldo, const float *s, const float *v, int64_t ldv, int n,
                       int64_t d, int nl) {
    for (int l = 0; l < nl; l++)
        for (int j = 0; j < n; j++) {
            float p = s[j * FR_ATTN_LANES + l];
            for (int64_t i = 0; i < d; i++) o[l * ldo + i] += p * v[j * ldv + i];
        }
}

const fr_attn16_kernels fr_attn16_generic = {scores_generic, softmax_generic, pv_generic};

const fr_attn16_kernels *fr_attn16_get(fr_cpu_level l) {
    switch (l) {
    case FR_CPU_AVX512: return &fr_attn16_avx512;
    case FR_CPU_AVX2: return &fr_attn16_avx2;
    default: return &fr_attn16_generic;
    }
}
