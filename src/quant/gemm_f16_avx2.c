/* gemm_f16_avx2.c: AVX2 (+FMA, F16C) packer and register-tile kernels of the float-weight
 * (F16, BF16) prefill GEMM (layouts in gemm_f16.h; scalar twins in gemm_f16.c).
 *
 * A tile is 16 weight rows (two ymm of 8 rows) x T <= 6 tokens: per column k two panel
 * loads widen to f32 (vcvtph2ps, or zero-extend and shift for BF16) and each token's
 * activation k is broadcast once for two FMAs. Small tiles (T < 4) run U = 2 or 4 columns
 * side by side in separate accumulators. The per-block partial sums are added into a small
 * stack array, since 16 ymm registers cannot hold a second set. Packing transposes
 * 16 rows x 8 columns of 16-bit words: row i and row i + 8 share a ymm, then three rounds of
 * in-lane unpacks leave column k of rows 0..7 | 8..15 in one ymm. */
#include <immintrin.h>
#include <string.h>

#include "quant/gemm_f16.h"
#include "quant/quant_impl.h"

#define INLINE static inline __attribute__((always_inline))
#define TMAX 6

static const uint16_t k_zero_row[8];

/* in each 128-bit lane: a[i] = 8 words of row i -> a[e] = word e of rows 0..7 */
INLINE void transpose_8x8_words(__m256i a[8]) {
    __m256i b[8], c[8];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        b[2 * i] = _mm256_unpacklo_epi16(a[2 * i], a[2 * i + 1]);
        b[2 * i + 1] = _mm256_unpackhi_epi16(a[2 * i], a[2 * i + 1]);
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        c[4 * h + 0] = _mm256_unpacklo_epi32(b[4 * h + 0], b[4 * h + 2]);
        c[4 * h + 1] = _mm256_unpackhi_epi32(b[4 * h + 0], b[4 * h + 2]);
        c[4 * h + 2] = _mm256_unpacklo_epi32(b[4 * h + 1], b[4 * h + 3]);
        c[4 * h + 3] = _mm256_unpackhi_epi32(b[4 * h + 1], b[4 * h + 3]);
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        a[2 * j] = _mm256_unpacklo_epi64(c[j], c[j + 4]);
        a[2 * j + 1] = _mm256_unpackhi_epi64(c[j], c[j + 4]);
    }
}

static void f16_pack_avx2(void *panel, const void *w, size_t w_stride, int n_rows, int64_t n_in) {
    const uint16_t *rows[FR_GEMM_ROWS];
    int64_t step[FR_GEMM_ROWS];
    for (int r = 0; r < FR_GEMM_ROWS; r++) {
        rows[r] = r < n_rows ? (const uint16_t *)((const char *)w + (size_t)r * w_stride) : k_zero_row;
        step[r] = r < n_rows ? 1 : 0;
    }
    uint16_t *p = panel; /* [n_in][16] */
    int64_t k = 0;
    for (; k + 8 <= n_in; k += 8) {
        __m256i a[8];
        if ((k & 31) == 0)
            for (int r = 0; r < FR_GEMM_ROWS; r++)
                _mm_prefetch((const char *)(rows[r] + (k + 256) * step[r]), _MM_HINT_T0);
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) /* [row i w0..7 | row i+8 w0..7] */
            a[i] = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(rows[i] + k * step[i]))),
                _mm_loadu_si128((const __m128i *)(rows[i + 8] + k * step[i + 8])), 1);
        transpose_8x8_words(a);
#pragma GCC unroll 8
        for (int e = 0; e < 8; e++) _mm256_store_si256((__m256i *)(p + 16 * (k + e)), a[e]);
    }
    for (; k < n_in; k++)
        for (int r = 0; r < FR_GEMM_ROWS; r++) p[16 * k + r] = rows[r][k * step[r]];
}

static void f16_act_avx2(void *dst, const void *xq, int64_t n_in) {
    fr_f16_to_float_avx2(dst, xq, n_in);
}

static void bf16_act_avx2(void *dst, const void *xq, int64_t n_in) {
    fr_bf16_to_float_avx2(dst, xq, n_in);
}

/* 8 rows of column k (p points at them) as f32 */
INLINE __m256 ld_half(const int bf, const uint16_t *p) {
    const __m128i v = _mm_load_si128((const __m128i *)p);
    if (bf) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
    return _mm256_cvtph_ps(v);
}

/* 16 rows x T tokens, U columns in flight; act rows are f32 at act + c * as bytes */
INLINE void float_tile(const int bf, const int T, const int U, float *out, int64_t ld,
                       const uint16_t *panel, const char *act, size_t as, int n_rows, int64_t n) {
    const float *x[TMAX];
    _Alignas(32) float tot[TMAX][16];
    __m256 acc[4][TMAX][2];
#pragma GCC unroll 6
    for (int c = 0; c < T; c++) x[c] = (const float *)(act + (size_t)c * as);
    memset(tot, 0, sizeof tot);
    for (int64_t k0 = 0; k0 < n; k0 += FR_GEMM_F16_KB) {
        const int64_t k1 = n - k0 < FR_GEMM_F16_KB ? n : k0 + FR_GEMM_F16_KB;
#pragma GCC unroll 4
        for (int u = 0; u < U; u++)
#pragma GCC unroll 6
            for (int c = 0; c < T; c++) acc[u][c][0] = acc[u][c][1] = _mm256_setzero_ps();
        int64_t k = k0;
        for (; k + U <= k1; k += U) {
#pragma GCC unroll 4
            for (int u = 0; u < U; u++) {
                const __m256 w0 = ld_half(bf, panel + 16 * (k + u)), w1 = ld_half(bf, panel + 16 * (k + u) + 8);
#pragma GCC unroll 6
                for (int c = 0; c < T; c++) {
                    const __m256 xv = _mm256_broadcast_ss(x[c] + k + u);
                    acc[u][c][0] = _mm256_fmadd_ps(w0, xv, acc[u][c][0]);
                    acc[u][c][1] = _mm256_fmadd_ps(w1, xv, acc[u][c][1]);
                }
            }
        }
        for (; k < k1; k++) {
            const __m256 w0 = ld_half(bf, panel + 16 * k), w1 = ld_half(bf, panel + 16 * k + 8);
#pragma GCC unroll 6
            for (int c = 0; c < T; c++) {
                const __m256 xv = _mm256_broadcast_ss(x[c] + k);
                acc[0][c][0] = _mm256_fmadd_ps(w0, xv, acc[0][c][0]);
                acc[0][c][1] = _mm256_fmadd_ps(w1, xv, acc[0][c][1]);
            }
        }
#pragma GCC unroll 6
        for (int c = 0; c < T; c++)
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                __m256 s = acc[0][c][h];
#pragma GCC unroll 4
                for (int u = 1; u < U; u++) s = _mm256_add_ps(s, acc[u][c][h]);
                _mm256_store_ps(tot[c] + 8 * h, _mm256_add_ps(_mm256_load_ps(tot[c] + 8 * h), s));
            }
    }
    for (int c = 0; c < T; c++) memcpy(out + (size_t)c * ld, tot[c], sizeof(float) * (size_t)n_rows);
}

#define TILE(T, U) float_tile(bf, T, U, out, ld, panel, act, as, n_rows, n)

INLINE void float_tile_n(const int bf, int t, float *out, int64_t ld, const uint16_t *panel,
                         const char *act, size_t as, int n_rows, int64_t n) {
    switch (t) {
    case 6: TILE(6, 1); break;
    case 5: TILE(5, 1); break;
    case 4: TILE(4, 1); break;
    case 3: TILE(3, 2); break;
    case 2: TILE(2, 2); break;
    case 1: TILE(1, 4); break;
    default: break;
    }
}
#undef TILE

/* tokens split into ceil(n_tok / TMAX) tiles of near-equal size */
INLINE void float_kernel(const int bf, float *out, int64_t ld, const void *panel, const void *act,
                         size_t as, int n_rows, int n_tok, int64_t n_in) {
    const int nt = (n_tok + TMAX - 1) / TMAX;
    int c = 0;
    for (int i = 0; i < nt; i++) {
        const int t = (n_tok - c) / (nt - i);
        float_tile_n(bf, t, out + (size_t)c * ld, ld, panel, (const char *)act + (size_t)c * as, as,
                     n_rows, n_in);
        c += t;
    }
}

static void f16_kernel_avx2(float *out, int64_t ld, const void *panel, const void *act, size_t as,
                            int n_rows, int n_tok, int64_t n_in) {
    float_kernel(0, out, ld, panel, act, as, n_rows, n_tok, n_in);
}

static void bf16_kernel_avx2(float *out, int64_t ld, const void *panel, const void *act,
                             size_t as, int n_rows, int n_tok, int64_t n_in) {
    float_kernel(1, out, ld, panel, act, as, n_rows, n_tok, n_in);
}

const fr_gemm fr_gemm_f16_avx2 = {FR_TYPE_F16, FR_GEMM_F16_PANEL, sizeof(float), f16_pack_avx2,
                                  f16_kernel_avx2, f16_act_avx2};
const fr_gemm fr_gemm_bf16_avx2 = {FR_TYPE_BF16, FR_GEMM_F16_PANEL, sizeof(float), f16_pack_avx2,
                                   bf16_kernel_avx2, bf16_act_avx2};
