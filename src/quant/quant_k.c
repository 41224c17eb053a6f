/* quant_k.c: scalar reference kernels for the 256-element "K" block types Q4_K, Q5_K and
 * Q6_K: reference quantizers equivalent to llama.cpp's quantize_row_q{4,5,6}_K_ref (same
 * search for scales and mins, same float operation order), dequantizers matching
 * dequantize_row_q{4,5,6}_K bit for bit, and dot products against Q8_K activations done
 * in exact integer arithmetic per block.
 *
 * Layouts (256 elements per block):
 *   Q4_K: 8 sub-blocks of 32; value = d*sc[j]*q - dmin*m[j], q in 0..15. qs byte l of
 *         chunk c (c = 0..3, 32 bytes each) holds element 64c+l (low nibble) and 64c+32+l.
 *   Q5_K: as Q4_K with q in 0..31; bit 4 of element 64c+l is bit 2c of qh[l], of element
 *         64c+32+l bit 2c+1.
 *   Q6_K: 16 groups of 16 with int8 scales; value = d*sc[g]*(q-32), q in 0..63. Per half
 *         h (128 elements): ql[64h+l] holds elements l (low) and l+64 (high nibble),
 *         ql[64h+32+l] elements l+32 and l+96; qh[32h+l] holds bits 4..5 of elements
 *         l, l+32, l+64, l+96 in bit pairs 0, 2, 4, 6. */
#include <math.h>

#include "quant/quant_impl.h"

#define GROUP_MAX_EPS 1e-15f

/* Fits x[i] ~ scale * L[i] - the_min with L in 0..nmax by weighted least squares,
 * trying nstep+1 candidate inverse scales (llama.cpp's make_qkx2_quants, use_mad off). */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                              float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep) {
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        int l = fr_nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)(l < 0 ? 0 : l > nmax ? nmax : l);
        float diff = scale * L[i] + min - x[i];
        diff = diff * diff;
        best_error += weights[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = fr_nearest_int(iscale * (x[i] - min));
            l = l < 0 ? 0 : l > nmax ? nmax : l;
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                for (int i = 0; i < n; i++) L[i] = Laux[i];
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* Fits x[i] ~ scale * (L[i] - nmax), L in 0..2*nmax-1, weights x^2, searching 19 inverse
 * scales around -nmax/max (llama.cpp's make_qx_quants with rmse_type 1, no qw). */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = fr_nearest_int(iscale * x[i]);
        l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = fr_nearest_int(iscale * x[i]);
            l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) {
                int l = fr_nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + (l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Shared by Q4_K and Q5_K: fits the 8 sub-blocks of one 256-element block, packs the
 * 6-bit scales/mins into sc12, sets d/dmin, and writes the final levels L[256]. */
static void quantize_k4_block(const float *x, int nmax, float rmin, int nstep, uint8_t *L,
                              uint8_t sc12[K_SCALE_SIZE], fr_f16 *d_out, fr_f16 *dmin_out) {
    uint8_t Laux[32];
    float weights[32], mins[QK_K / 32], scales[QK_K / 32];
    float max_scale = 0, max_min = 0; /* scales are positive once the min is taken out */
    for (int j = 0; j < QK_K / 32; j++) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                                     rmin, 0.1f, nstep);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < QK_K / 32; j++) {
        uint8_t ls = (uint8_t)fr_nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)fr_nearest_int(inv_min * mins[j]);
        ls = ls < 63 ? ls : 63;
        lm = lm < 63 ? lm : 63;
        if (j < 4) {
            sc12[j] = ls;
            sc12[j + 4] = lm;
        } else {
            sc12[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            sc12[j - 4] |= (uint8_t)((ls >> 4) << 6);
            sc12[j] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    *d_out = fr_f32_to_f16(max_scale / 63.f);
    *dmin_out = fr_f32_to_f16(max_min / 63.f);
    for (int j = 0; j < QK_K / 32; j++) {
        uint8_t sc, m;
        fr_k4_scale_min(j, sc12, &sc, &m);
        const float d = fr_f16_to_f32(*d_out) * sc;
        if (!d) continue;
        const float dm = fr_f16_to_f32(*dmin_out) * m;
        for (int ii = 0; ii < 32; ii++) {
            int l = fr_nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = (uint8_t)(l < 0 ? 0 : l > nmax ? nmax : l);
        }
    }
}

/* ---- Q4_K ---- */

void fr_q4_K_from_float_ref(void *vy, const float *x, int64_t n) {
    block_q4_K *y = vy;
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        memset(y[i].scales, 0, K_SCALE_SIZE);
        quantize_k4_block(x, 15, -1.f, 20, L, y[i].scales, &y[i].d, &y[i].dmin);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void fr_q4_K_to_float_generic(float *y, const void *vx, int64_t n) {
    const block_q4_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *q = x[i].qs;
        const float d = fr_f16_to_f32(x[i].d), min = fr_f16_to_f32(x[i].dmin);
        for (int j = 0; j < QK_K / 64; j++, q += 32) {
            uint8_t sc, m;
            fr_k4_scale_min(2 * j, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            fr_k4_scale_min(2 * j + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

/* sum over sub-blocks of mins[j] * (sum of the 32 activations of sub-block j) */
static int k4_min_sum(const uint8_t sm[16], const int16_t bsums[16]) {
    int s = 0;
    for (int j = 0; j < 8; j++) s += sm[8 + j] * (bsums[2 * j] + bsums[2 * j + 1]);
    return s;
}

void fr_q4_K_dot_generic(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q4_K *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sm[16];
        fr_k4_unpack_scales(sm, x[i].scales);
        const uint8_t *q = x[i].qs;
        const int8_t *a = y[i].qs;
        int sumi = 0;
        for (int j = 0; j < QK_K / 64; j++, q += 32, a += 64) {
            int s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                s1 += (q[l] & 0xF) * a[l];
                s2 += (q[l] >> 4) * a[l + 32];
            }
            sumi += sm[2 * j] * s1 + sm[2 * j + 1] * s2;
        }
        const float d = fr_f16_to_f32(x[i].d) * y[i].d;
        const float dmin = fr_f16_to_f32(x[i].dmin) * y[i].d;
        sumf += d * (float)sumi - dmin * (float)k4_min_sum(sm, y[i].bsums);
    }
    *s = sumf;
}

/* ---- Q5_K ---- */

void fr_q5_K_from_float_ref(void *vy, const float *x, int64_t n) {
    block_q5_K *y = vy;
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        memset(y[i].scales, 0, K_SCALE_SIZE);
        quantize_k4_block(x, 31, -0.5f, 15, L, y[i].scales, &y[i].d, &y[i].dmin);
        uint8_t *qh = y[i].qh, *ql = y[i].qs;
        memset(qh, 0, QK_K / 8);
        uint8_t m1 = 1, m2 = 2;
        for (int j = 0; j < QK_K; j += 64, ql += 32) {
            for (int l = 0; l < 32; l++) {
                int l1 = L[j + l], l2 = L[j + l + 32];
                if (l1 > 15) {
                    l1 -= 16;
                    qh[l] |= m1;
                }
                if (l2 > 15) {
                    l2 -= 16;
                    qh[l] |= m2;
                }
                ql[l] = (uint8_t)(l1 | (l2 << 4));
            }
            m1 = (uint8_t)(m1 << 2);
            m2 = (uint8_t)(m2 << 2);
        }
    }
}

void fr_q5_K_to_float_generic(float *y, const void *vx, int64_t n) {
    const block_q5_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *ql = x[i].qs, *qh = x[i].qh;
        const float d = fr_f16_to_f32(x[i].d), min = fr_f16_to_f32(x[i].dmin);
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < QK_K / 64; j++, ql += 32) {
            uint8_t sc, m;
            fr_k4_scale_min(2 * j, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            fr_k4_scale_min(2 * j + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            u1 = (uint8_t)(u1 << 2);
            u2 = (uint8_t)(u2 << 2);
        }
    }
}

void fr_q5_K_dot_generic(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q5_K *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sm[16];
        fr_k4_unpack_scales(sm, x[i].scales);
        const uint8_t *ql = x[i].qs, *qh = x[i].qh;
        const int8_t *a = y[i].qs;
        int sumi = 0;
        for (int j = 0; j < QK_K / 64; j++, ql += 32, a += 64) {
            int s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                s1 += ((ql[l] & 0xF) | (((qh[l] >> (2 * j)) & 1) << 4)) * a[l];
                s2 += ((ql[l] >> 4) | (((qh[l] >> (2 * j + 1)) & 1) << 4)) * a[l + 32];
            }
            sumi += sm[2 * j] * s1 + sm[2 * j + 1] * s2;
        }
        const float d = fr_f16_to_f32(x[i].d) * y[i].d;
        const float dmin = fr_f16_to_f32(x[i].dmin) * y[i].d;
        sumf += d * (float)sumi - dmin * (float)k4_min_sum(sm, y[i].bsums);
    }
    *s = sumf;
}

/* ---- Q6_K ---- */

void fr_q6_K_from_float_ref(void *vy, const float *x, int64_t n) {
    block_q6_K *y = vy;
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, max_abs_scale = 0;
        for (int g = 0; g < QK_K / 16; g++) {
            scales[g] = make_qx_quants(16, 32, x + 16 * g, L + 16 * g);
            if (fabsf(scales[g]) > max_abs_scale) {
                max_abs_scale = fabsf(scales[g]);
                max_scale = scales[g];
            }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float iscale = -128.f / max_scale;
        y[i].d = fr_f32_to_f16(1 / iscale);
        for (int g = 0; g < QK_K / 16; g++) {
            int v = fr_nearest_int(iscale * scales[g]);
            y[i].scales[g] = (int8_t)(v < 127 ? v : 127);
        }
        for (int g = 0; g < QK_K / 16; g++) {
            const float d = fr_f16_to_f32(y[i].d) * y[i].scales[g];
            if (!d) continue;
            for (int ii = 0; ii < 16; ii++) {
                int l = fr_nearest_int(x[16 * g + ii] / d);
                l = l < -32 ? -32 : l > 31 ? 31 : l;
                L[16 * g + ii] = (int8_t)(l + 32);
            }
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; l++) {
                const uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF;
                const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                  ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
        }
    }
}

/* the four 6-bit values (0..63) stored at position l of one 128-element half */
static inline void q6_quad(int q[4], const uint8_t *ql, const uint8_t *qh, int l) {
    q[0] = (ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4);
    q[1] = (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4);
    q[2] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
    q[3] = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
}

void fr_q6_K_to_float_generic(float *y, const void *vx, int64_t n) {
    const block_q6_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = fr_f16_to_f32(x[i].d);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        for (int h = 0; h < QK_K / 128; h++, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int q[4], is = l / 16;
                q6_quad(q, ql, qh, l);
                y[l + 0] = d * sc[is + 0] * (q[0] - 32);
                y[l + 32] = d * sc[is + 2] * (q[1] - 32);
                y[l + 64] = d * sc[is + 4] * (q[2] - 32);
                y[l + 96] = d * sc[is + 6] * (q[3] - 32);
            }
        }
    }
}

void fr_q6_K_dot_generic(int64_t n, float *s, const void *vx, const void *vy) {
    const block_q6_K *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int gsum[QK_K / 16] = {0}; /* per 16-element group: sum of (q - 32) * a */
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        for (int h = 0; h < QK_K / 128; h++, ql += 64, qh += 32) {
            const int8_t *a = y[i].qs + 128 * h;
            for (int l = 0; l < 32; l++) {
                int q[4];
                q6_quad(q, ql, qh, l);
                for (int k = 0; k < 4; k++)
                    gsum[8 * h + 2 * k + l / 16] += (q[k] - 32) * a[32 * k + l];
            }
        }
        int sumi = 0;
        for (int g = 0; g < QK_K / 16; g++) sumi += x[i].scales[g] * gsum[g];
        sumf += fr_f16_to_f32(x[i].d) * y[i].d * (float)sumi;
    }
    *s = sumf;
}
