/* gemm_avx2.c: AVX2 packers and register-tile kernels of the prefill GEMM (layouts and
 * contract in gemm.h; scalar twins in gemm.c). Not written yet: no AVX2 GEMM. */
#include "quant/gemm.h"

const fr_gemm *fr_gemm_get_avx2(fr_type t) {
    (void)t;
    return NULL;
}
