/* gemm_f16.c: the prefill GEMM for float weights (F16, BF16): dispatch (fr_gemm_get_float)
 * and the scalar twins of the packer, the activation conversions and the kernels (layouts
 * in gemm_f16.h). The twin kernel sums the f32 products in double, as the generic vec_dot
 * does, so at FR_CPU_GENERIC the two give the same floats. */
#include "quant/gemm_f16.h"

#include "quant/quant_impl.h"

/* shared by F16 and BF16: the packer only moves 16-bit words */
static void f16_pack_generic(void *panel, const void *w, size_t w_stride, int n_rows,
                             int64_t n_in) {
    uint16_t *p = panel; /* [n_in][16] */
    for (int r = 0; r < FR_GEMM_ROWS; r++) {
        const uint16_t *row = (const uint16_t *)((const char *)w + (size_t)r * w_stride);
        for (int64_t k = 0; k < n_in; k++) p[16 * k + r] = r < n_rows ? row[k] : 0;
    }
}

static void f16_act_generic(void *dst, const void *xq, int64_t n_in) {
    fr_f16_to_float_generic(dst, xq, n_in);
}

static void bf16_act_generic(void *dst, const void *xq, int64_t n_in) {
    fr_bf16_to_float_generic(dst, xq, n_in);
}

static void float_kernel_generic(int bf, float *out, int64_t ld_out, const void *panel,
                                 const void *act, size_t act_stride, int n_rows, int n_tok,
                                 int64_t n_in) {
    const uint16_t *p = panel;
    for (int c = 0; c < n_tok; c++) {
        const float *x = (const float *)((const char *)act + (size_t)c * act_stride);
        for (int r = 0; r < n_rows; r++) {
            double s = 0;
            for (int64_t k = 0; k < n_in; k++) {
                const uint16_t h = p[16 * k + r];
                s += (double)((bf ? fr_bf16_to_f32(h) : fr_f16_to_f32(h)) * x[k]);
            }
            out[(size_t)c * ld_out + r] = (float)s;
        }
    }
}

static void f16_kernel_generic(float *out, int64_t ld, const void *panel, const void *act,
                               size_t as, int n_rows, int n_tok, int64_t n_in) {
    float_kernel_generic(0, out, ld, panel, act, as, n_rows, n_tok, n_in);
}

static void bf16_kernel_generic(float *out, int64_t ld, const void *panel, const void *act,
                                size_t as, int n_rows, int n_tok, int64_t n_in) {
    float_kernel_generic(1, out, ld, panel, act, as, n_rows, n_tok, n_in);
}

static const fr_gemm k_f16_generic = {FR_TYPE_F16, FR_GEMM_F16_PANEL, sizeof(float),
                                      f16_pack_generic, f16_kernel_generic, f16_act_generic};
static const fr_gemm k_bf16_generic = {FR_TYPE_BF16, FR_GEMM_F16_PANEL, sizeof(float),
                                       f16_pack_generic, bf16_kernel_generic, bf16_act_generic};

const fr_gemm *fr_gemm_get_float(fr_type t, fr_cpu_level l) {
    const int bf = t == FR_TYPE_BF16;
    if (t != FR_TYPE_F16 && !bf) return NULL;
    switch (l) {
    case FR_CPU_GENERIC: return bf ? &k_bf16_generic : &k_f16_generic;
    case FR_CPU_AVX2: return bf ? &fr_gemm_bf16_avx2 : &fr_gemm_f16_avx2;
    case FR_CPU_AVX512: return bf ? &fr_gemm_bf16_avx512 : &fr_gemm_f16_avx512;
    }
    return NULL;
}
