/* gemm_f16_avx512.c: AVX-512 packer and register-tile kernels of the float-weight (F16,
 * BF16) prefill GEMM (layouts in gemm_f16.h; scalar twins in gemm_f16.c).
 *
 * A tile is 16 weight rows (one zmm lane per row) x T <= 12 tokens. Per column k one panel
 * load widens to 16 f32 weights (vcvtph2ps for F16, zero-extend and shift for BF16) that
 * are multiplied by each token's activation k, broadcast from memory inside the FMA, so a
 * column costs one load + one conversion for T FMAs. Small tiles (T < 8) run U = 2..8
 * columns side by side in separate accumulators so enough FMA chains are in flight.
 * Packing transposes 16 rows x 16 columns of 16-bit words: 8 lane permutes put row i and
 * row i + 8 into each zmm, then three rounds of in-lane unpacks (an 8x8 word transpose per
 * 128-bit lane) leave column k of rows 0..7 and 8..15 side by side. */
#include <immintrin.h>

#include "quant/gemm_f16.h"
#include "quant/quant_impl.h"

#define INLINE static inline __attribute__((always_inline))
#define TMAX 12

_Static_assert(FR_GEMM_F16_PANEL == 32, "one column of 16 rows is one ymm");

static const uint16_t k_zero_row[16];

/* in each 128-bit lane: a[i] = 8 words of row i -> a[e] = word e of rows 0..7 */
INLINE void transpose_8x8_words(__m512i a[8]) {
    __m512i b[8], c[8];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        b[2 * i] = _mm512_unpacklo_epi16(a[2 * i], a[2 * i + 1]);     /* w0..3 of rows 2i, 2i+1 */
        b[2 * i + 1] = _mm512_unpackhi_epi16(a[2 * i], a[2 * i + 1]); /* w4..7 */
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) { /* rows 0..3 (h = 0), 4..7 (h = 1) */
        c[4 * h + 0] = _mm512_unpacklo_epi32(b[4 * h + 0], b[4 * h + 2]); /* w0, w1 */
        c[4 * h + 1] = _mm512_unpackhi_epi32(b[4 * h + 0], b[4 * h + 2]); /* w2, w3 */
        c[4 * h + 2] = _mm512_unpacklo_epi32(b[4 * h + 1], b[4 * h + 3]); /* w4, w5 */
        c[4 * h + 3] = _mm512_unpackhi_epi32(b[4 * h + 1], b[4 * h + 3]); /* w6, w7 */
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        a[2 * j] = _mm512_unpacklo_epi64(c[j], c[j + 4]);
        a[2 * j + 1] = _mm512_unpackhi_epi64(c[j], c[j + 4]);
    }
}

static void f16_pack_avx512(void *panel, const void *w, size_t w_stride, int n_rows,
                            int64_t n_in) {
    const uint16_t *rows[FR_GEMM_ROWS];
    int64_t step[FR_GEMM_ROWS];
    for (int r = 0; r < FR_GEMM_ROWS; r++) {
        rows[r] = r < n_rows ? (const uint16_t *)((const char *)w + (size_t)r * w_stride) : k_zero_row;
        step[r] = r < n_rows ? 1 : 0;
    }
    uint16_t *p = panel; /* [n_in][16] */
    /* lanes [row i w0..7 | row i+8 w0..7 | row i w8..15 | row i+8 w8..15] */
    const __m512i idx = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
    int64_t k = 0;
    for (; k + 16 <= n_in; k += 16) {
        __m512i a[8];
        if ((k & 31) == 0)
            for (int r = 0; r < FR_GEMM_ROWS; r++)
                _mm_prefetch((const char *)(rows[r] + (k + 256) * step[r]), _MM_HINT_T0);
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            const __m256i lo = _mm256_loadu_si256((const __m256i *)(rows[i] + k * step[i]));
            const __m256i hi = _mm256_loadu_si256((const __m256i *)(rows[i + 8] + k * step[i + 8]));
            a[i] = _mm512_permutex2var_epi64(_mm512_castsi256_si512(lo), idx, _mm512_castsi256_si512(hi));
        }
        transpose_8x8_words(a);
#pragma GCC unroll 8
        for (int e = 0; e < 8; e++) {
            _mm256_store_si256((__m256i *)(p + 16 * (k + e)), _mm512_castsi512_si256(a[e]));
            _mm256_store_si256((__m256i *)(p + 16 * (k + e + 8)), _mm512_extracti64x4_epi64(a[e], 1));
        }
    }
    for (; k < n_in; k++)
        for (int r = 0; r < FR_GEMM_ROWS; r++) p[16 * k + r] = rows[r][k * step[r]];
}

static void f16_act_avx512(void *dst, const void *xq, int64_t n_in) {
    fr_f16_to_float_avx512(dst, xq, n_in);
}

static void bf16_act_avx512(void *dst, const void *xq, int64_t n_in) {
    fr_bf16_to_float_avx512(dst, xq, n_in);
}

/* column k of the panel as 16 f32 weights */
INLINE __m512 ld_col(const int bf, const uint16_t *p) {
    const __m256i v = _mm256_load_si256((const __m256i *)p);
    if (bf) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
    return _mm512_cvtph_ps(v);
}

/* 16 rows x T tokens, U columns in flight; act rows are f32 at act + c * as bytes */
INLINE void float_tile(const int bf, const int T, const int U, float *out, int64_t ld,
                       const uint16_t *panel, const char *act, size_t as, int64_t n,
                       __mmask16 m) {
    const float *x[TMAX];
    __m512 tot[TMAX], acc[8][TMAX];
#pragma GCC unroll 12
    for (int c = 0; c < T; c++) {
        x[c] = (const float *)(act + (size_t)c * as);
        tot[c] = _mm512_setzero_ps();
    }
    for (int64_t k0 = 0; k0 < n; k0 += FR_GEMM_F16_KB) {
        const int64_t k1 = n - k0 < FR_GEMM_F16_KB ? n : k0 + FR_GEMM_F16_KB;
#pragma GCC unroll 8
        for (int u = 0; u < U; u++)
#pragma GCC unroll 12
            for (int c = 0; c < T; c++) acc[u][c] = _mm512_setzero_ps();
        int64_t k = k0;
        for (; k + U <= k1; k += U) {
#pragma GCC unroll 8
            for (int u = 0; u < U; u++) {
                const __m512 wv = ld_col(bf, panel + 16 * (k + u));
#pragma GCC unroll 12
                for (int c = 0; c < T; c++)
                    acc[u][c] = _mm512_fmadd_ps(wv, _mm512_set1_ps(x[c][k + u]), acc[u][c]);
            }
        }
        for (; k < k1; k++) {
            const __m512 wv = ld_col(bf, panel + 16 * k);
#pragma GCC unroll 12
            for (int c = 0; c < T; c++) acc[0][c] = _mm512_fmadd_ps(wv, _mm512_set1_ps(x[c][k]), acc[0][c]);
        }
#pragma GCC unroll 12
        for (int c = 0; c < T; c++) {
            __m512 s = acc[0][c];
#pragma GCC unroll 8
            for (int u = 1; u < U; u++) s = _mm512_add_ps(s, acc[u][c]);
            tot[c] = _mm512_add_ps(tot[c], s);
        }
    }
#pragma GCC unroll 12
    for (int c = 0; c < T; c++) _mm512_mask_storeu_ps(out + (size_t)c * ld, m, tot[c]);
}

#define TILE(T, U) float_tile(bf, T, U, out, ld, panel, act, as, n, m)

INLINE void float_tile_n(const int bf, int t, float *out, int64_t ld, const uint16_t *panel,
                         const char *act, size_t as, int64_t n, __mmask16 m) {
    switch (t) {
    case 12: TILE(12, 1); break;
    case 11: TILE(11, 1); break;
    case 10: TILE(10, 1); break;
    case 9: TILE(9, 1); break;
    case 8: TILE(8, 1); break;
    case 7: TILE(7, 2); break;
    case 6: TILE(6, 2); break;
    case 5: TILE(5, 2); break;
    case 4: TILE(4, 2); break;
    case 3: TILE(3, 4); break;
    case 2: TILE(2, 4); break;
    case 1: TILE(1, 8); break;
    default: break;
    }
}
#undef TILE

/* tokens split into ceil(n_tok / TMAX) tiles of near-equal size */
INLINE void float_kernel(const int bf, float *out, int64_t ld, const void *panel, const void *act,
                         size_t as, int n_rows, int n_tok, int64_t n_in) {
    const __mmask16 m = (__mmask16)(n_rows >= 16 ? 0xFFFF : (1u << n_rows) - 1);
    const int nt = (n_tok + TMAX - 1) / TMAX;
    int c = 0;
    for (int i = 0; i < nt; i++) {
        const int t = (n_tok - c) / (nt - i);
        float_tile_n(bf, t, out + (size_t)c * ld, ld, panel, (const char *)act + (size_t)c * as, as,
                     n_in, m);
        c += t;
    }
}

static void f16_kernel_avx512(float *out, int64_t ld, const void *panel, const void *act,
                              size_t as, int n_rows, int n_tok, int64_t n_in) {
    float_kernel(0, out, ld, panel, act, as, n_rows, n_tok, n_in);
}

static void bf16_kernel_avx512(float *out, int64_t ld, const void *panel, const void *act,
                               size_t as, int n_rows, int n_tok, int64_t n_in) {
    float_kernel(1, out, ld, panel, act, as, n_rows, n_tok, n_in);
}

const fr_gemm fr_gemm_f16_avx512 = {FR_TYPE_F16, FR_GEMM_F16_PANEL, sizeof(float),
                                    f16_pack_avx512, f16_kernel_avx512, f16_act_avx512};
const fr_gemm fr_gemm_bf16_avx512 = {FR_TYPE_BF16, FR_GEMM_F16_PANEL, sizeof(float),
                                     f16_pack_avx512, bf16_kernel_avx512, bf16_act_avx512};
