/* gemm_f16.c: the prefill GEMM for float weights (F16, BF16). Not written yet. */
#include "quant/gemm.h"

const fr_gemm *fr_gemm_get_float(fr_type t, fr_cpu_level l) {
    (void)t, (void)l;
    return NULL;
}
