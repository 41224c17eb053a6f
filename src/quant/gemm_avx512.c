/* gemm_avx512.c: AVX-512 VNNI packers and register-tile kernels of the prefill GEMM
 * (layouts and contract in gemm.h; scalar twins in gemm.c).
 *
 * A tile is 16 weight rows (one zmm lane per row) x T <= 8 tokens. Per step, one packed
 * vector (dword j of the 16 rows, u8) is multiplied by a token's dword j broadcast from
 * memory (vpdpbusd with an embedded {1to16} broadcast), so the step vectors are loaded once
 * and reused by all T tokens. Q8_0 costs 8 vpdpbusd + 3 ops per 16 rows x 32 elements x
 * token; the K-quants add one vpmulld per sub-block and 8 vpdpwssd per super-block for the
 * min / offset corrections. Packing transposes 16 rows x 8 dwords with two 8x8 dword
 * transposes in the 256-bit halves of 8 zmm registers (24 shuffles). */
#include <immintrin.h>
#include <string.h>

#include "quant/gemm.h"
#include "quant/quant_impl.h"

#define INLINE static inline __attribute__((always_inline))

INLINE int32_t ld32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

INLINE __mmask16 row_mask(int n_rows) {
    return (__mmask16)(n_rows >= 16 ? 0xFFFF : (1u << n_rows) - 1);
}

/* z[i] = [row i | row i + 8] (8 dwords each) -> out[e] = dword e of rows 0..15 */
INLINE void transpose_16x8(__m512i out[8], const __m512i z[8]) {
    __m512i t[8], u[8];
#pragma GCC unroll 8
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(z[2 * i], z[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(z[2 * i], z[2 * i + 1]);
    }
#pragma GCC unroll 8
    for (int h = 0; h < 2; h++) { /* rows 0..3 (h = 0) and 4..7 (h = 1) of each half */
        const __m512i *tt = t + 4 * h;
        u[4 * h + 0] = _mm512_unpacklo_epi64(tt[0], tt[2]); /* e0 | e4 */
        u[4 * h + 1] = _mm512_unpackhi_epi64(tt[0], tt[2]); /* e1 | e5 */
        u[4 * h + 2] = _mm512_unpacklo_epi64(tt[1], tt[3]); /* e2 | e6 */
        u[4 * h + 3] = _mm512_unpackhi_epi64(tt[1], tt[3]); /* e3 | e7 */
    }
    const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    const __m512i hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
#pragma GCC unroll 8
    for (int e = 0; e < 4; e++) {
        out[e] = _mm512_permutex2var_epi64(u[e], lo, u[e + 4]);
        out[e + 4] = _mm512_permutex2var_epi64(u[e], hi, u[e + 4]);
    }
}

INLINE __m512i pair256(const void *a, const void *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

/* ---- Q8_0 ---- */

static const block_q8_0 k_zero_q8_0[1];

static void q8_0_pack_avx512(void *panel, const void *w, size_t w_stride, int n_rows,
                             int64_t n_in) {
    const block_q8_0 *rows[FR_GEMM_ROWS];
    size_t step[FR_GEMM_ROWS];
    for (int r = 0; r < FR_GEMM_ROWS; r++) {
        rows[r] = r < n_rows ? (const block_q8_0 *)((const char *)w + (size_t)r * w_stride) : k_zero_q8_0;
        step[r] = r < n_rows ? 1 : 0;
    }
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    uint8_t *p = panel;
    for (int64_t k = 0; k < n_in / QK8_0; k++, p += FR_GEMM_Q8_0_PANEL) {
        __m512i z[8], o[8];
        if ((k & 1) == 0)
            for (int r = 0; r < FR_GEMM_ROWS; r++)
                _mm_prefetch((const char *)&rows[r][(k + 12) * step[r]], _MM_HINT_T0);
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            z[i] = pair256(rows[i][k * step[i]].qs, rows[i + 8][k * step[i + 8]].qs);
        transpose_16x8(o, z);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) _mm512_store_si512(p + 64 * j, _mm512_xor_si512(o[j], flip));
        float *d = (float *)(p + 512);
        for (int r = 0; r < FR_GEMM_ROWS; r++) d[r] = _cvtsh_ss(rows[r][k * step[r]].d);
    }
}

static void q8_0_act_avx512(void *dst, const void *xq, int64_t n_in) {
    fr_q8_0s *y = dst;
    const block_q8_0 *x = xq;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    for (int64_t k = 0; k < n_in / QK8_0; k++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)x[k].qs);
        /* sum(q + 128) over 32 bytes by sad against zero */
        const __m256i s4 = _mm256_sad_epu8(_mm256_xor_si256(q, flip), _mm256_setzero_si256());
        const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
        const int32_t s = (int32_t)(_mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1)) - 32 * 128;
        y[k].nsum = -128 * s;
        y[k].d = _cvtsh_ss(x[k].d);
        _mm256_storeu_si256((__m256i *)y[k].qs, q);
    }
}

INLINE void q8_0_tile(const int T, float *out, int64_t ld, const uint8_t *panel, const char *act,
                      size_t as, int64_t nb, __mmask16 m) {
    __m512 acc[8];
#pragma GCC unroll 8
    for (int c = 0; c < T; c++) acc[c] = _mm512_setzero_ps();
    for (int64_t k = 0; k < nb; k++) {
        const uint8_t *p = panel + k * FR_GEMM_Q8_0_PANEL;
        __m512i w[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) w[j] = _mm512_load_si512(p + 64 * j);
        const __m512 dx = _mm512_load_ps(p + 512);
#pragma GCC unroll 8
        for (int c = 0; c < T; c++) {
            const fr_q8_0s *y = (const fr_q8_0s *)(act + (size_t)c * as) + k;
            __m512i s = _mm512_set1_epi32(y->nsum);
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++)
                s = _mm512_dpbusd_epi32(s, w[j], _mm512_set1_epi32(ld32(y->qs + 4 * j)));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dx, _mm512_set1_ps(y->d)),
                                     acc[c]);
        }
    }
#pragma GCC unroll 8
    for (int c = 0; c < T; c++) _mm512_mask_storeu_ps(out + (size_t)c * ld, m, acc[c]);
}

static void q8_0_kernel_avx512(float *out, int64_t ld, const void *panel, const void *act,
                               size_t as, int n_rows, int n_tok, int64_t n_in) {
    const __mmask16 m = row_mask(n_rows);
    const int64_t nb = n_in / QK8_0;
    const char *a = act;
    int c = 0;
    for (; c + 8 <= n_tok; c += 8) q8_0_tile(8, out + (size_t)c * ld, ld, panel, a + c * as, as, nb, m);
    out += (size_t)c * ld, a += c * as;
    switch (n_tok - c) {
    case 7: q8_0_tile(7, out, ld, panel, a, as, nb, m); break;
    case 6: q8_0_tile(6, out, ld, panel, a, as, nb, m); break;
    case 5: q8_0_tile(5, out, ld, panel, a, as, nb, m); break;
    case 4: q8_0_tile(4, out, ld, panel, a, as, nb, m); break;
    case 3: q8_0_tile(3, out, ld, panel, a, as, nb, m); break;
    case 2: q8_0_tile(2, out, ld, panel, a, as, nb, m); break;
    case 1: q8_0_tile(1, out, ld, panel, a, as, nb, m); break;
    default: break;
    }
}

const fr_gemm fr_gemm_q8_0_avx512 = {FR_TYPE_Q8_0, FR_GEMM_Q8_0_PANEL, sizeof(fr_q8_0s),
                                     q8_0_pack_avx512, q8_0_kernel_avx512, q8_0_act_avx512};

/* ---- K-quants ---- */

/* the 256 levels of a Q4_K block: 64-element chunk j = 32 low nibbles, 32 high nibbles */
INLINE void q4_K_levels(uint8_t lv[QK_K], const block_q4_K *x) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int j = 0; j < 4; j++) {
        const __m256i b = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * j));
        const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(b), _mm256_srli_epi16(b, 4), 1);
        _mm512_storeu_si512(lv + 64 * j, _mm512_and_si512(v, m4));
    }
}

static void kq_pack_avx512(fr_type t, void *panel, const void *w, size_t w_stride, int n_rows,
                           int64_t n_in) {
    const size_t ts = fr_type_get(t)->type_size;
    const int nsub = fr_gemm_kq_nsub(t);
    const size_t psz = FR_GEMM_KQ_PANEL(nsub);
    _Alignas(64) uint8_t lv[FR_GEMM_ROWS][QK_K];
    fr_gemm_kq_block b;
    uint8_t *p = panel;
    for (int64_t i = 0; i < n_in / QK_K; i++, p += psz) {
        int32_t *sc = (int32_t *)(p + 4096);
        int32_t *corr = (int32_t *)(p + 4096 + (size_t)nsub * 64); /* int16 pairs */
        float *d = (float *)(p + 4096 + (size_t)nsub * 64 + 512);
        for (int r = 0; r < FR_GEMM_ROWS; r++) {
            if (r >= n_rows) {
                memset(lv[r], 0, QK_K);
                for (int j = 0; j < nsub; j++) sc[16 * j + r] = 0;
                for (int q = 0; q < 8; q++) corr[16 * q + r] = 0;
                d[r] = d[16 + r] = 0.0f;
                continue;
            }
            const void *blk = (const char *)w + (size_t)r * w_stride + (size_t)i * ts;
            if (t == FR_TYPE_Q4_K) {
                const block_q4_K *x = blk;
                uint8_t sm[16];
                q4_K_levels(lv[r], x);
                fr_k4_unpack_scales(sm, x->scales);
                for (int j = 0; j < 8; j++) {
                    sc[16 * j + r] = sm[j];
                    corr[16 * j + r] = sm[8 + j] | (int32_t)sm[8 + j] << 16;
                }
                d[r] = _cvtsh_ss(x->d);
                d[16 + r] = _cvtsh_ss(x->dmin);
                continue;
            }
            fr_gemm_kq_unpack(&b, t, blk);
            memcpy(lv[r], b.lv, QK_K);
            for (int j = 0; j < nsub; j++) sc[16 * j + r] = b.sc[j];
            for (int q = 0; q < 8; q++)
                corr[16 * q + r] = (uint16_t)b.corr[q][0] | (int32_t)((uint32_t)(uint16_t)b.corr[q][1] << 16);
            d[r] = b.d;
            d[16 + r] = b.dmin;
        }
        for (int s8 = 0; s8 < 8; s8++) {
            __m512i z[8], o[8];
            for (int r = 0; r < 8; r++) z[r] = pair256(lv[r] + 32 * s8, lv[r + 8] + 32 * s8);
            transpose_16x8(o, z);
            for (int e = 0; e < 8; e++) _mm512_store_si512(p + 64 * (8 * s8 + e), o[e]);
        }
    }
}

INLINE void kq_tile(const int T, const int NSUB, float *out, int64_t ld, const uint8_t *panel,
                    const char *act, size_t as, int64_t nsb, __mmask16 m) {
    const int SPB = 64 / NSUB;
    const size_t psz = FR_GEMM_KQ_PANEL(NSUB);
    __m512 acc[8];
#pragma GCC unroll 8
    for (int c = 0; c < T; c++) acc[c] = _mm512_setzero_ps();
    for (int64_t i = 0; i < nsb; i++) {
        const uint8_t *p = panel + i * psz;
        __m512i isum[8];
#pragma GCC unroll 8
        for (int c = 0; c < T; c++) isum[c] = _mm512_setzero_si512();
        for (int j = 0; j < NSUB; j++) {
            __m512i w[8];
#pragma GCC unroll 8
            for (int s = 0; s < SPB; s++) w[s] = _mm512_load_si512(p + 64 * (j * SPB + s));
            const __m512i sc = _mm512_load_si512(p + 4096 + 64 * j);
#pragma GCC unroll 8
            for (int c = 0; c < T; c++) {
                const int8_t *q = ((const block_q8_K *)(act + (size_t)c * as))[i].qs + 4 * SPB * j;
                __m512i dp = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[0], _mm512_set1_epi32(ld32(q)));
#pragma GCC unroll 8
                for (int s = 1; s < SPB; s++)
                    dp = _mm512_dpbusd_epi32(dp, w[s], _mm512_set1_epi32(ld32(q + 4 * s)));
                isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(dp, sc));
            }
        }
        const uint8_t *pc = p + 4096 + (size_t)NSUB * 64;
        const __m512 d = _mm512_load_ps(pc + 512), dmin = _mm512_load_ps(pc + 576);
#pragma GCC unroll 8
        for (int c = 0; c < T; c++) {
            const block_q8_K *y = (const block_q8_K *)(act + (size_t)c * as) + i;
            __m512i ic = _mm512_setzero_si512();
#pragma GCC unroll 8
            for (int q = 0; q < 8; q++)
                ic = _mm512_dpwssd_epi32(ic, _mm512_load_si512(pc + 64 * q),
                                         _mm512_set1_epi32(ld32(y->bsums + 2 * q)));
            const __m512 dy = _mm512_set1_ps(y->d);
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]), _mm512_mul_ps(d, dy), acc[c]);
            acc[c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(ic), _mm512_mul_ps(dmin, dy), acc[c]);
        }
    }
#pragma GCC unroll 8
    for (int c = 0; c < T; c++) _mm512_mask_storeu_ps(out + (size_t)c * ld, m, acc[c]);
}

INLINE void kq_kernel(const int NSUB, float *out, int64_t ld, const void *panel, const void *act,
                      size_t as, int n_rows, int n_tok, int64_t n_in) {
    const __mmask16 m = row_mask(n_rows);
    const int64_t nsb = n_in / QK_K;
    const char *a = act;
    int c = 0;
    for (; c + 8 <= n_tok; c += 8) kq_tile(8, NSUB, out + (size_t)c * ld, ld, panel, a + c * as, as, nsb, m);
    out += (size_t)c * ld, a += c * as;
    switch (n_tok - c) {
    case 7: kq_tile(7, NSUB, out, ld, panel, a, as, nsb, m); break;
    case 6: kq_tile(6, NSUB, out, ld, panel, a, as, nsb, m); break;
    case 5: kq_tile(5, NSUB, out, ld, panel, a, as, nsb, m); break;
    case 4: kq_tile(4, NSUB, out, ld, panel, a, as, nsb, m); break;
    case 3: kq_tile(3, NSUB, out, ld, panel, a, as, nsb, m); break;
    case 2: kq_tile(2, NSUB, out, ld, panel, a, as, nsb, m); break;
    case 1: kq_tile(1, NSUB, out, ld, panel, a, as, nsb, m); break;
    default: break;
    }
}

#define KQ_AVX512(name, T, NSUB)                                                               \
    static void name##_pack_avx512(void *panel, const void *w, size_t ws, int nr, int64_t n) { \
        kq_pack_avx512(T, panel, w, ws, nr, n);                                                \
    }                                                                                          \
    static void name##_kernel_avx512(float *out, int64_t ld, const void *panel, const void *a,  \
                                     size_t as, int nr, int nt, int64_t n) {                   \
        kq_kernel(NSUB, out, ld, panel, a, as, nr, nt, n);                                     \
    }                                                                                          \
    const fr_gemm fr_gemm_##name##_avx512 = {T, FR_GEMM_KQ_PANEL(NSUB), sizeof(block_q8_K),    \
                                             name##_pack_avx512, name##_kernel_avx512, NULL};
KQ_AVX512(q4_K, FR_TYPE_Q4_K, 8)
KQ_AVX512(q5_K, FR_TYPE_Q5_K, 8)
KQ_AVX512(q6_K, FR_TYPE_Q6_K, 16)
