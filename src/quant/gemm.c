/* gemm.c: the GEMM dispatch (fr_gemm_get), the K-quant block unpacker shared by every
 * packer, and the scalar reference twins of the packers and kernels (layouts in gemm.h). */
#include "quant/gemm.h"

#include <string.h>

#include "quant/quant_impl.h"

int fr_gemm_kq_nsub(fr_type t) { return t == FR_TYPE_Q6_K ? 16 : 8; }

void fr_gemm_kq_unpack(fr_gemm_kq_block *b, fr_type t, const void *blk) {
    if (t == FR_TYPE_Q6_K) {
        const block_q6_K *x = blk;
        const uint8_t *ql = x->ql, *qh = x->qh;
        for (int h = 0; h < 2; h++, ql += 64, qh += 32)
            for (int l = 0; l < 32; l++) {
                uint8_t *o = b->lv + 128 * h + l;
                o[0] = (uint8_t)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
                o[32] = (uint8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
                o[64] = (uint8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                o[96] = (uint8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
            }
        for (int g = 0; g < 16; g++) b->sc[g] = x->scales[g];
        for (int p = 0; p < 8; p++) {
            b->corr[p][0] = (int16_t)(32 * x->scales[2 * p]);
            b->corr[p][1] = (int16_t)(32 * x->scales[2 * p + 1]);
        }
        b->d = b->dmin = fr_f16_to_f32(x->d);
        return;
    }
    /* Q4_K and Q5_K share the scales and the nibble layout */
    const block_q4_K *x4 = blk;
    const block_q5_K *x5 = blk;
    const uint8_t *qs = t == FR_TYPE_Q5_K ? x5->qs : x4->qs;
    const uint8_t *sc12 = t == FR_TYPE_Q5_K ? x5->scales : x4->scales;
    uint8_t sm[16];
    fr_k4_unpack_scales(sm, sc12);
    for (int j = 0; j < 4; j++)
        for (int l = 0; l < 32; l++) {
            b->lv[64 * j + l] = qs[32 * j + l] & 0xF;
            b->lv[64 * j + 32 + l] = qs[32 * j + l] >> 4;
            if (t == FR_TYPE_Q5_K) {
                b->lv[64 * j + l] |= (uint8_t)(((x5->qh[l] >> (2 * j)) & 1) << 4);
                b->lv[64 * j + 32 + l] |= (uint8_t)(((x5->qh[l] >> (2 * j + 1)) & 1) << 4);
            }
        }
    for (int j = 0; j < 8; j++) {
        b->sc[j] = sm[j];
        b->corr[j][0] = b->corr[j][1] = sm[8 + j];
    }
    b->d = fr_f16_to_f32(x4->d);
    b->dmin = fr_f16_to_f32(x4->dmin);
}

/* ---- Q8_0, scalar ---- */

static void q8_0_pack_generic(void *panel, const void *w, size_t w_stride, int n_rows,
                              int64_t n_in) {
    uint8_t *p = panel;
    for (int64_t k = 0; k < n_in / QK8_0; k++, p += FR_GEMM_Q8_0_PANEL) {
        float *d = (float *)(p + 512);
        for (int r = 0; r < FR_GEMM_ROWS; r++) {
            const block_q8_0 *b =
                r < n_rows ? (const block_q8_0 *)((const char *)w + (size_t)r * w_stride) + k : NULL;
            for (int j = 0; j < 8; j++)
                for (int i = 0; i < 4; i++)
                    p[64 * j + 4 * r + i] = (uint8_t)((b ? (uint8_t)b->qs[4 * j + i] : 0) ^ 0x80);
            d[r] = b ? fr_f16_to_f32(b->d) : 0.0f;
        }
    }
}

static void q8_0_act_generic(void *dst, const void *xq, int64_t n_in) {
    fr_q8_0s *y = dst;
    const block_q8_0 *x = xq;
    for (int64_t k = 0; k < n_in / QK8_0; k++) {
        int s = 0;
        for (int i = 0; i < QK8_0; i++) s += x[k].qs[i];
        y[k].nsum = -128 * s;
        y[k].d = fr_f16_to_f32(x[k].d);
        memcpy(y[k].qs, x[k].qs, QK8_0);
    }
}

static void q8_0_kernel_generic(float *out, int64_t ld_out, const void *panel, const void *act,
                                size_t act_stride, int n_rows, int n_tok, int64_t n_in) {
    const int64_t nb = n_in / QK8_0;
    for (int c = 0; c < n_tok; c++) {
        const fr_q8_0s *y = (const fr_q8_0s *)((const char *)act + (size_t)c * act_stride);
        for (int r = 0; r < n_rows; r++) {
            float acc = 0.0f;
            const uint8_t *p = panel;
            for (int64_t k = 0; k < nb; k++, p += FR_GEMM_Q8_0_PANEL) {
                int32_t s = y[k].nsum;
                for (int j = 0; j < 8; j++)
                    for (int i = 0; i < 4; i++) s += p[64 * j + 4 * r + i] * y[k].qs[4 * j + i];
                acc += (float)s * (((const float *)(p + 512))[r] * y[k].d);
            }
            out[(size_t)c * ld_out + r] = acc;
        }
    }
}

/* ---- K-quants, scalar ---- */

static void kq_pack_generic(fr_type t, void *panel, const void *w, size_t w_stride, int n_rows,
                            int64_t n_in) {
    const fr_type_traits *tr = fr_type_get(t);
    const int nsub = fr_gemm_kq_nsub(t);
    const size_t psz = FR_GEMM_KQ_PANEL(nsub);
    uint8_t *p = panel;
    fr_gemm_kq_block b;
    for (int64_t i = 0; i < n_in / QK_K; i++, p += psz) {
        int32_t *sc = (int32_t *)(p + 4096);
        int16_t *corr = (int16_t *)(p + 4096 + (size_t)nsub * 64);
        float *d = (float *)(p + 4096 + (size_t)nsub * 64 + 512);
        for (int r = 0; r < FR_GEMM_ROWS; r++) {
            if (r < n_rows)
                fr_gemm_kq_unpack(&b, t, (const char *)w + (size_t)r * w_stride + (size_t)i * tr->type_size);
            else
                memset(&b, 0, sizeof b);
            for (int s = 0; s < 64; s++) memcpy(p + 64 * s + 4 * r, b.lv + 4 * s, 4);
            for (int j = 0; j < nsub; j++) sc[16 * j + r] = b.sc[j];
            for (int q = 0; q < 8; q++) {
                corr[2 * (16 * q + r)] = b.corr[q][0];
                corr[2 * (16 * q + r) + 1] = b.corr[q][1];
            }
            d[r] = b.d;
            d[16 + r] = b.dmin;
        }
    }
}

static void kq_kernel_generic(int nsub, float *out, int64_t ld_out, const void *panel,
                              const void *act, size_t act_stride, int n_rows, int n_tok,
                              int64_t n_in) {
    const size_t psz = FR_GEMM_KQ_PANEL(nsub);
    const int spb = 64 / nsub; /* dword steps per sub-block */
    for (int c = 0; c < n_tok; c++) {
        const block_q8_K *y = (const block_q8_K *)((const char *)act + (size_t)c * act_stride);
        for (int r = 0; r < n_rows; r++) {
            float acc = 0.0f;
            const uint8_t *p = panel;
            for (int64_t i = 0; i < n_in / QK_K; i++, p += psz) {
                const int32_t *sc = (const int32_t *)(p + 4096);
                const int16_t *corr = (const int16_t *)(p + 4096 + (size_t)nsub * 64);
                const float *d = (const float *)(p + 4096 + (size_t)nsub * 64 + 512);
                int32_t isum = 0, icorr = 0;
                for (int j = 0; j < nsub; j++) {
                    int32_t s = 0;
                    for (int st = j * spb; st < (j + 1) * spb; st++)
                        for (int b = 0; b < 4; b++) s += p[64 * st + 4 * r + b] * y[i].qs[4 * st + b];
                    isum += s * sc[16 * j + r];
                }
                for (int q = 0; q < 8; q++)
                    icorr += corr[2 * (16 * q + r)] * y[i].bsums[2 * q] +
                             corr[2 * (16 * q + r) + 1] * y[i].bsums[2 * q + 1];
                acc += (float)isum * (d[r] * y[i].d);
                acc -= (float)icorr * (d[16 + r] * y[i].d);
            }
            out[(size_t)c * ld_out + r] = acc;
        }
    }
}

#define KQ_GENERIC(name, T, NSUB)                                                              \
    static void name##_pack_generic(void *panel, const void *w, size_t ws, int nr, int64_t n) { \
        kq_pack_generic(T, panel, w, ws, nr, n);                                               \
    }                                                                                          \
    static void name##_kernel_generic(float *out, int64_t ld, const void *panel, const void *a, \
                                      size_t as, int nr, int nt, int64_t n) {                  \
        kq_kernel_generic(NSUB, out, ld, panel, a, as, nr, nt, n);                             \
    }                                                                                          \
    const fr_gemm fr_gemm_##name##_generic = {T, FR_GEMM_KQ_PANEL(NSUB), sizeof(block_q8_K),   \
                                              name##_pack_generic, name##_kernel_generic, NULL};
KQ_GENERIC(q4_K, FR_TYPE_Q4_K, 8)
KQ_GENERIC(q5_K, FR_TYPE_Q5_K, 8)
KQ_GENERIC(q6_K, FR_TYPE_Q6_K, 16)

const fr_gemm fr_gemm_q8_0_generic = {FR_TYPE_Q8_0, FR_GEMM_Q8_0_PANEL, sizeof(fr_q8_0s),
                                      q8_0_pack_generic, q8_0_kernel_generic, q8_0_act_generic};

const fr_gemm *fr_gemm_get(fr_type t, fr_cpu_level l) {
    if (t == FR_TYPE_F16 || t == FR_TYPE_BF16) return fr_gemm_get_float(t, l);
    if (l == FR_CPU_AVX2) return fr_gemm_get_avx2(t);
    if (l == FR_CPU_AVX512) {
        switch (t) {
        case FR_TYPE_Q8_0: return &fr_gemm_q8_0_avx512;
        case FR_TYPE_Q4_K: return &fr_gemm_q4_K_avx512;
        case FR_TYPE_Q5_K: return &fr_gemm_q5_K_avx512;
        case FR_TYPE_Q6_K: return &fr_gemm_q6_K_avx512;
        default: return NULL;
        }
    }
    if (l == FR_CPU_GENERIC) {
        switch (t) {
        case FR_TYPE_Q8_0: return &fr_gemm_q8_0_generic;
        case FR_TYPE_Q4_K: return &fr_gemm_q4_K_generic;
        case FR_TYPE_Q5_K: return &fr_gemm_q5_K_generic;
        case FR_TYPE_Q6_K: return &fr_gemm_q6_K_generic;
        default: return NULL;
        }
    }
    return NULL;
}
