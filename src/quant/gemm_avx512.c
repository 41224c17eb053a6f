/* gemm_avx512.c: AVX-512 VNNI packers and register-tile kernels of the prefill GEMM
 * (layouts and contract in gemm.h; scalar twins in gemm.c).
 *
 * A tile is 16 weight rows (one zmm lane per row) x T <= 8 tokens. Per step, one packed
 * vector (dword j of the 16 rows, u8) is multiplied by a token's dword j broadcast from
 * memory (vpdpbusd with an embedded {1to16} broadcast), so the step vectors are loaded once
 * and reused by all T tokens. Q8_0 costs 8 vpdpbusd + 3 ops per 16 rows x 32 elements x
 * token; the K-quants add one vpmulld per sub-block and 8 vpdpwssd per super-block for the
 * min / offset corrections. Packing transposes 16 rows x 8 dwords with two 8x8 dword
 * transposes in the 256-bit halves of 8 zmm registers (24 shuffles). The K-quant packers
 * transpose each 32-byte source chunk (qs, ql, qh) of the 16 rows once and cut nibbles and
 * high bits afterwards (byte-wise), and the scales as 16 rows x 4 dwords, so no block goes
 * through fr_gemm_kq_unpack (about 0.5-0.7 us per 16-row panel at n_in 2048, vs 15-30 us). */
#include <immintrin.h>
#include <stddef.h>
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

/* a super-block of zeros: the blocks of missing rows (levels, scales and d all 0) */
static const uint8_t k_zero_blk[256];
_Static_assert(sizeof(block_q4_K) <= sizeof k_zero_blk && sizeof(block_q5_K) <= sizeof k_zero_blk &&
                   sizeof(block_q6_K) <= sizeof k_zero_blk,
               "k_zero_blk size");

/* z[d] = dword d (d < 4) of the 16 bytes at off in each of the 16 blocks blk[r], rows
 * 0..15 in lane order (8 unpacks after the 128-bit loads) */
INLINE void load_t16x4(__m512i z[4], const char *const blk[FR_GEMM_ROWS], size_t off) {
    __m512i x[4], t[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) { /* 128-bit lane l of x[k]: row 4l + k */
        __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(blk[k] + off)));
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(blk[4 + k] + off)), 1);
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(blk[8 + k] + off)), 2);
        x[k] = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(blk[12 + k] + off)), 3);
    }
    t[0] = _mm512_unpacklo_epi32(x[0], x[1]); /* d0 d0 d1 d1 of rows 4l, 4l + 1 */
    t[1] = _mm512_unpackhi_epi32(x[0], x[1]); /* d2 d2 d3 d3 */
    t[2] = _mm512_unpacklo_epi32(x[2], x[3]);
    t[3] = _mm512_unpackhi_epi32(x[2], x[3]);
    z[0] = _mm512_unpacklo_epi64(t[0], t[2]);
    z[1] = _mm512_unpackhi_epi64(t[0], t[2]);
    z[2] = _mm512_unpacklo_epi64(t[1], t[3]);
    z[3] = _mm512_unpackhi_epi64(t[1], t[3]);
}

/* 16 f16 in the low halves of the dwords of x (high halves 0) -> f32, bit-exact with
 * fr_f16_to_f32 also for NaNs (vcvtph2ps would set the quiet bit of a signaling NaN) */
INLINE __m512 f16x16_to_f32(__m512i x) {
    const __m512 f = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(x));
    const __m512i a = _mm512_and_si512(x, _mm512_set1_epi32(0x7FFF));
    const __m512i nan = _mm512_or_si512(
        _mm512_or_si512(_mm512_slli_epi32(_mm512_xor_si512(x, a), 16), _mm512_slli_epi32(a, 13)),
        _mm512_set1_epi32(0x70000000)); /* sign | 0x7f800000 | man << 13 */
    return _mm512_mask_mov_ps(f, _mm512_cmpgt_epi32_mask(a, _mm512_set1_epi32(0x7C00)),
                              _mm512_castsi512_ps(nan));
}

/* the panel's sc, corr, d and dmin of one super-block of the 16 rows blk[r]. Each row's 16
 * scale bytes are transposed as 4 dwords, so byte b of dword vector k is value 4k + b of
 * rows 0..15 in the int32 lanes: a shift (and a mask) per scale vector. */
INLINE void kq_meta(const fr_type t, uint8_t *p, const char *const blk[FR_GEMM_ROWS]) {
    const int nsub = fr_gemm_kq_nsub(t);
    __m512i *sc = (__m512i *)(p + 4096);                       /* [nsub][16] int32 */
    __m512i *corr = (__m512i *)(p + 4096 + (size_t)nsub * 64); /* [8][16] int16 pairs */
    __m512 *d = (__m512 *)(p + 4096 + (size_t)nsub * 64 + 512); /* d[16], dmin[16] */
    __m512i z[4];
    if (t == FR_TYPE_Q6_K) {
        _Alignas(64) int32_t dh[FR_GEMM_ROWS];
        for (int r = 0; r < FR_GEMM_ROWS; r++) dh[r] = ((const block_q6_K *)blk[r])->d;
        load_t16x4(z, blk, offsetof(block_q6_K, scales));
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
#pragma GCC unroll 4
            for (int b = 0; b < 4; b++) /* int8 scale 4k + b, sign-extended */
                sc[4 * k + b] = _mm512_srai_epi32(_mm512_slli_epi32(z[k], 24 - 8 * b), 24);
            /* 16-bit words (s0, s2) and (s1, s3) of the dword's scales s0..s3 */
            const __m512i a = _mm512_srai_epi16(_mm512_slli_epi16(z[k], 8), 8);
            const __m512i c = _mm512_srai_epi16(z[k], 8);
            const __mmask32 hi = 0xAAAAAAAAu;
            const __m512i c01 = _mm512_mask_blend_epi16(hi, a, _mm512_slli_epi32(c, 16));
            const __m512i c23 = _mm512_mask_blend_epi16(hi, _mm512_srli_epi32(a, 16), c);
            corr[2 * k] = _mm512_slli_epi16(c01, 5); /* (32 s0, 32 s1) */
            corr[2 * k + 1] = _mm512_slli_epi16(c23, 5);
        }
        d[0] = d[1] = f16x16_to_f32(_mm512_load_si512(dh));
        return;
    }
    /* Q4_K, Q5_K: bytes 0..15 are d, dmin and the 12 packed scale bytes w0 w1 w2 */
    load_t16x4(z, blk, 0);
    const __m512i m6 = _mm512_set1_epi8(0x3F), m4 = _mm512_set1_epi8(0x0F),
                  m2 = _mm512_set1_epi8(0x30), mb = _mm512_set1_epi32(0xFF);
    __m512i u[4]; /* fr_k4_unpack_scales' u[4]: scales 0..7, mins 0..7 */
    u[0] = _mm512_and_si512(z[1], m6);
    u[1] = _mm512_or_si512(_mm512_and_si512(z[3], m4),
                           _mm512_and_si512(_mm512_srli_epi32(z[1], 2), m2));
    u[2] = _mm512_and_si512(z[2], m6);
    u[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(z[3], 4), m4),
                           _mm512_and_si512(_mm512_srli_epi32(z[2], 2), m2));
#pragma GCC unroll 2
    for (int k = 0; k < 2; k++)
#pragma GCC unroll 4
        for (int b = 0; b < 4; b++) {
            sc[4 * k + b] = _mm512_and_si512(_mm512_srli_epi32(u[k], 8 * b), mb);
            const __m512i m = _mm512_and_si512(_mm512_srli_epi32(u[2 + k], 8 * b), mb);
            corr[4 * k + b] = _mm512_or_si512(m, _mm512_slli_epi32(m, 16)); /* (min, min) */
        }
    d[0] = f16x16_to_f32(_mm512_and_si512(z[0], _mm512_set1_epi32(0xFFFF)));
    d[1] = f16x16_to_f32(_mm512_srli_epi32(z[0], 16));
}

/* o[e] = dword e of the 32 bytes at off in each of the 16 blocks blk[r] (a step vector) */
INLINE void load_t16x8(__m512i o[8], const char *const blk[FR_GEMM_ROWS], size_t off) {
    __m512i z[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) z[i] = pair256(blk[i] + off, blk[i + 8] + off);
    transpose_16x8(o, z);
}

/* bit b of each byte moved to bit 4 (and bit b + 1 to 5): 16-bit shifts move the other
 * byte's bits only into bit positions the caller masks off */
INLINE __m512i bits_to_4(__m512i x, const int b) {
    return b < 4 ? _mm512_slli_epi16(x, 4 - b) : b > 4 ? _mm512_srli_epi16(x, b - 4) : x;
}

/* per byte: bits 0..3 of lo, the other bits of hi (hi's bits 4..7 already masked) */
INLINE __m512i nib_or(__m512i lo, __m512i hi) {
    return _mm512_ternarylogic_epi32(_mm512_set1_epi8(0x0F), lo, hi, 0xCA); /* m ? lo : hi */
}

/* The levels of the 16 rows' super-blocks blk[r] into the panel. The dword transposes move
 * whole bytes, so each 32-byte source chunk (qs, ql, qh) of the 16 rows is transposed once
 * and the nibbles and high bits are cut afterwards: level group g (levels 32g..32g + 31,
 * steps 8g..8g + 7) is built from the transposed chunks' dwords e = 0..7. */
INLINE void kq_levels(const fr_type t, uint8_t *p, const char *const blk[FR_GEMM_ROWS]) {
#define STORE(g, e, v) _mm512_store_si512(p + 64 * (8 * (g) + (e)), v)
    if (t == FR_TYPE_Q6_K) {
        /* group g = 4 hh + mm: ql chunk (hh, mm & 1), nibble mm >> 1, qh bits 2 mm, 2 mm + 1 */
        const __m512i m3 = _mm512_set1_epi8(0x30);
#pragma GCC unroll 2
        for (int hh = 0; hh < 2; hh++) {
            __m512i qh[8];
            load_t16x8(qh, blk, offsetof(block_q6_K, qh) + 32 * (size_t)hh);
#pragma GCC unroll 2
            for (int c = 0; c < 2; c++) {
                __m512i ql[8];
                load_t16x8(ql, blk, offsetof(block_q6_K, ql) + 64 * (size_t)hh + 32 * (size_t)c);
#pragma GCC unroll 8
                for (int e = 0; e < 8; e++) {
                    STORE(4 * hh + c, e,
                          nib_or(ql[e], _mm512_and_si512(bits_to_4(qh[e], 2 * c), m3)));
                    STORE(4 * hh + c + 2, e,
                          nib_or(_mm512_srli_epi16(ql[e], 4),
                                 _mm512_and_si512(bits_to_4(qh[e], 2 * c + 4), m3)));
                }
            }
        }
        return;
    }
    /* Q4_K, Q5_K: group 2j = low nibbles of qs chunk j, 2j + 1 = high; Q5_K: | bit g of qh
     * moved to bit 4 */
    const size_t qs_off = t == FR_TYPE_Q5_K ? offsetof(block_q5_K, qs) : offsetof(block_q4_K, qs);
    const __m512i m4 = _mm512_set1_epi8(0x0F), m5 = _mm512_set1_epi8(0x10);
    __m512i qh[8];
    if (t == FR_TYPE_Q5_K) load_t16x8(qh, blk, offsetof(block_q5_K, qh));
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        __m512i q[8];
        load_t16x8(q, blk, qs_off + 32 * (size_t)j);
#pragma GCC unroll 8
        for (int e = 0; e < 8; e++) {
            const __m512i hi = _mm512_srli_epi16(q[e], 4);
            if (t == FR_TYPE_Q5_K) {
                STORE(2 * j, e, nib_or(q[e], _mm512_and_si512(bits_to_4(qh[e], 2 * j), m5)));
                STORE(2 * j + 1, e, nib_or(hi, _mm512_and_si512(bits_to_4(qh[e], 2 * j + 1), m5)));
            } else {
                STORE(2 * j, e, _mm512_and_si512(q[e], m4));
                STORE(2 * j + 1, e, _mm512_and_si512(hi, m4));
            }
        }
    }
#undef STORE
}

/* the type is a constant in each of the three copies (KQ_AVX512 below) */
INLINE void kq_pack_avx512(const fr_type t, void *panel, const void *w, size_t w_stride,
                           int n_rows, int64_t n_in) {
    const size_t ts = fr_type_get(t)->type_size;
    const size_t psz = FR_GEMM_KQ_PANEL(fr_gemm_kq_nsub(t));
    uint8_t *p = panel;
    for (int64_t i = 0; i < n_in / QK_K; i++, p += psz) {
        const char *blk[FR_GEMM_ROWS];
        for (int r = 0; r < FR_GEMM_ROWS; r++)
            blk[r] = r < n_rows ? (const char *)w + (size_t)r * w_stride + (size_t)i * ts
                                : (const char *)k_zero_blk;
        kq_meta(t, p, blk);
        kq_levels(t, p, blk);
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
