/* gemm_avx2.c: AVX2 (no AVX-512, no VNNI) packers and register-tile kernels of the prefill
 * GEMM, on exactly the scalar twins' packed panel and activation layouts (gemm.h, gemm.c).
 *
 * A tile is one 8-row half of the 16-row panel (one ymm lane per row: the half's 32 bytes of
 * each 64-byte step vector) x T <= 4 tokens. Per dword step, the half's step vector is
 * loaded once and multiplied by each token's dword broadcast with vpmaddubsw (u8 x s8 ->
 * s16 pairs, saturating), so the weights are reused by all T tokens. (Measured on Zen 5:
 * tiles of 3..8 tokens, or both halves at once, run at the same speed; the kernels are
 * bound by vector ALU throughput.)
 *  - K-quants: the u8 levels are <= 63 and |activation| <= 128, so one vpmaddubsw lane is at
 *    most 2 * 63 * 128 = 16128 and never saturates; the s16 lanes of G steps are summed
 *    before one vpmaddwd against the sub-block scale pair (sc, sc) widens them to int32
 *    (G = 8 steps for Q4_K: 8 * 2 * 15 * 128 = 30720; 4 for Q5_K: 31744; 2 for Q6_K:
 *    32256, all <= 32767). Exact for any weight file and any q8_K activations.
 *  - Q8_0: the panel's u8 x + 128 against s8 activations would saturate vpmaddubsw, so the
 *    kernel flips the panel back to s8 weights w and uses the sign trick: u8 |w| against
 *    s8 sign(y, w), then vpmaddwd with ones; the activation block's nsum is not needed
 *    (the sum is the exact integer w . y, which is what the twin's nsum correction yields).
 *    |w| <= 128 (w = -128 gives u8 128, still exact) and |y| <= 127 (the Q8_0 quantizer's
 *    range) keep each lane <= 2 * 128 * 127 = 32512: exact for any weight file. Only an
 *    activation of -128 against a negative weight would be wrong (sign(-128) wraps); the
 *    Q8_0 activation quantizer never writes -128.
 * Packing: Q8_0 transposes 8 rows x 8 dwords per half (24 shuffles). The K-quant packers
 * transpose each 32-byte source chunk (qs, ql, qh) of 8 rows once and cut the nibbles and
 * high bits afterwards (all byte-wise), and the per-row scales with one 16 x 16 byte
 * transpose, so no block goes through fr_gemm_kq_unpack. */
#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "quant/gemm.h"
#include "quant/quant_impl.h"

#define INLINE static inline __attribute__((always_inline))
#define TILE_T 4 /* tokens per register tile */
/* the last n < TILE_T tokens: TAIL(k) runs the tile for k tokens */
#define TILE_TAIL(n, TAIL) ((n) == 3 ? TAIL(3) : (n) == 2 ? TAIL(2) : (n) == 1 ? TAIL(1) : (void)0)

INLINE int32_t ld32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* v, made opaque to the optimizer: GCC otherwise reassociates a tile's chains of integer
 * adds into trees that compute every product first and spill them */
INLINE __m256i opaque(__m256i v) {
    __asm__("" : "+x"(v));
    return v;
}

/* lanes [0, n) all ones: the rows of a half that exist */
INLINE __m256i lane_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* v[r] = 8 dwords of row r -> o[e] = dword e of rows 0..7 */
INLINE void transpose_8x8(__m256i o[8], const __m256i v[8]) {
    __m256i t[8], u[8];
#pragma GCC unroll 8
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]);     /* e0 e1 | e4 e5 of 2 rows */
        t[2 * i + 1] = _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]); /* e2 e3 | e6 e7 */
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) { /* rows 0..3 (h = 0) and 4..7 (h = 1) */
        const __m256i *tt = t + 4 * h;
        u[4 * h + 0] = _mm256_unpacklo_epi64(tt[0], tt[2]); /* e0 | e4 */
        u[4 * h + 1] = _mm256_unpackhi_epi64(tt[0], tt[2]); /* e1 | e5 */
        u[4 * h + 2] = _mm256_unpacklo_epi64(tt[1], tt[3]); /* e2 | e6 */
        u[4 * h + 3] = _mm256_unpackhi_epi64(tt[1], tt[3]); /* e3 | e7 */
    }
#pragma GCC unroll 8
    for (int e = 0; e < 4; e++) {
        o[e] = _mm256_permute2x128_si256(u[e], u[e + 4], 0x20);
        o[e + 4] = _mm256_permute2x128_si256(u[e], u[e + 4], 0x31);
    }
}

/* 16 f16 -> 16 f32 at d (rows 0..15) */
INLINE void store_d16(float *d, const uint16_t h[16]) {
    _mm256_store_ps(d, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h)));
    _mm256_store_ps(d + 8, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + 8))));
}

/* ---- Q8_0 ---- */

static void q8_0_pack_avx2(void *panel, const void *w, size_t w_stride, int n_rows, int64_t n_in) {
    const block_q8_0 *rows[FR_GEMM_ROWS];
    for (int r = 0; r < FR_GEMM_ROWS; r++)
        rows[r] = r < n_rows ? (const block_q8_0 *)((const char *)w + (size_t)r * w_stride) : NULL;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    uint8_t *p = panel;
    for (int64_t k = 0; k < n_in / QK8_0; k++, p += FR_GEMM_Q8_0_PANEL) {
        uint16_t dh[FR_GEMM_ROWS];
        for (int h = 0; h < 2; h++) {
            __m256i v[8], o[8];
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++) {
                const block_q8_0 *b = rows[8 * h + i];
                v[i] = b ? _mm256_loadu_si256((const __m256i *)b[k].qs) : _mm256_setzero_si256();
                dh[8 * h + i] = b ? b[k].d : 0;
            }
            transpose_8x8(o, v);
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++)
                _mm256_store_si256((__m256i *)(p + 64 * j + 32 * h), _mm256_xor_si256(o[j], flip));
        }
        store_d16((float *)(p + 512), dh);
    }
}

static void q8_0_act_avx2(void *dst, const void *xq, int64_t n_in) {
    fr_q8_0s *y = dst;
    const block_q8_0 *x = xq;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    for (int64_t k = 0; k < n_in / QK8_0; k++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)x[k].qs);
        /* sum(q + 128) over 32 bytes by sad against zero */
        const __m256i s4 = _mm256_sad_epu8(_mm256_xor_si256(q, flip), _mm256_setzero_si256());
        const __m128i s2 =
            _mm_add_epi64(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
        const int32_t s = (int32_t)(_mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1)) - 32 * 128;
        y[k].nsum = -128 * s;
        y[k].d = _cvtsh_ss(x[k].d);
        _mm256_storeu_si256((__m256i *)y[k].qs, q);
    }
}

/* rows 8h..8h+7 (lanes < m) x T tokens */
INLINE void q8_0_tile(const int T, float *out, int64_t ld, const uint8_t *panel, const char *act,
                      size_t as, int64_t nb, int h, __m256i m) {
    const __m256i flip = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
    __m256 acc[TILE_T];
#pragma GCC unroll 8
    for (int c = 0; c < T; c++) acc[c] = _mm256_setzero_ps();
    for (int64_t k = 0; k < nb; k++) {
        const uint8_t *p = panel + k * FR_GEMM_Q8_0_PANEL + 32 * h;
        __m256i isum[TILE_T];
#pragma GCC unroll 8
        for (int c = 0; c < T; c++) isum[c] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            const __m256i ws =
                _mm256_xor_si256(_mm256_load_si256((const __m256i *)(p + 64 * j)), flip);
            const __m256i wa = _mm256_abs_epi8(ws);
#pragma GCC unroll 8
            for (int c = 0; c < T; c++) {
                const fr_q8_0s *y = (const fr_q8_0s *)(act + (size_t)c * as) + k;
                const __m256i yb = _mm256_set1_epi32(ld32(y->qs + 4 * j));
                const __m256i s16 = _mm256_maddubs_epi16(wa, _mm256_sign_epi8(yb, ws));
                isum[c] = opaque(_mm256_add_epi32(isum[c], _mm256_madd_epi16(s16, ones)));
            }
        }
        const __m256 dx = _mm256_load_ps((const float *)(p + 512));
#pragma GCC unroll 8
        for (int c = 0; c < T; c++) {
            const fr_q8_0s *y = (const fr_q8_0s *)(act + (size_t)c * as) + k;
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]),
                                     _mm256_mul_ps(dx, _mm256_set1_ps(y->d)), acc[c]);
        }
    }
#pragma GCC unroll 8
    for (int c = 0; c < T; c++) _mm256_maskstore_ps(out + (size_t)c * ld + 8 * h, m, acc[c]);
}

static void q8_0_kernel_avx2(float *out, int64_t ld, const void *panel, const void *act, size_t as,
                             int n_rows, int n_tok, int64_t n_in) {
    const int64_t nb = n_in / QK8_0;
    for (int h = 0; h < 2 && 8 * h < n_rows; h++) {
        const __m256i m = lane_mask(n_rows - 8 * h);
        const char *a = act;
        float *o = out;
        int c = 0;
        for (; c + TILE_T <= n_tok; c += TILE_T, o += TILE_T * ld, a += TILE_T * as)
            q8_0_tile(TILE_T, o, ld, panel, a, as, nb, h, m);
#define TAIL(k) q8_0_tile(k, o, ld, panel, a, as, nb, h, m)
        TILE_TAIL(n_tok - c, TAIL);
#undef TAIL
    }
}

static const fr_gemm fr_gemm_q8_0_avx2 = {FR_TYPE_Q8_0,   FR_GEMM_Q8_0_PANEL, sizeof(fr_q8_0s),
                                          q8_0_pack_avx2, q8_0_kernel_avx2,   q8_0_act_avx2};

/* ---- K-quants ---- */

/* m[r] = 16 bytes of row r -> o[j] = byte j of rows 0..15 (64 unpacks) */
INLINE void transpose_16x16_u8(__m128i o[16], const __m128i m[16]) {
    __m128i a[8][2], b[4][4], c[2][8];
#pragma GCC unroll 8
    for (int p = 0; p < 8; p++) { /* rows 2p, 2p + 1: columns 0..7, 8..15 as byte pairs */
        a[p][0] = _mm_unpacklo_epi8(m[2 * p], m[2 * p + 1]);
        a[p][1] = _mm_unpackhi_epi8(m[2 * p], m[2 * p + 1]);
    }
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) /* rows 4q..4q + 3: b[q][g] = columns 4g..4g + 3 */
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            b[q][2 * h] = _mm_unpacklo_epi16(a[2 * q][h], a[2 * q + 1][h]);
            b[q][2 * h + 1] = _mm_unpackhi_epi16(a[2 * q][h], a[2 * q + 1][h]);
        }
#pragma GCC unroll 2
    for (int s8 = 0; s8 < 2; s8++) /* rows 8 s8..8 s8 + 7: c[s8][k] = columns 2k, 2k + 1 */
#pragma GCC unroll 4
        for (int g = 0; g < 4; g++) {
            c[s8][2 * g] = _mm_unpacklo_epi32(b[2 * s8][g], b[2 * s8 + 1][g]);
            c[s8][2 * g + 1] = _mm_unpackhi_epi32(b[2 * s8][g], b[2 * s8 + 1][g]);
        }
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        o[2 * k] = _mm_unpacklo_epi64(c[0][k], c[1][k]);
        o[2 * k + 1] = _mm_unpackhi_epi64(c[0][k], c[1][k]);
    }
}

/* fr_k4_unpack_scales in a vector: the 12 packed bytes (w0 w1 w2 as dwords; the 4 bytes
 * after them are read and ignored) -> 8 scales, 8 mins (6 bits each). Every step is byte-wise. */
INLINE __m128i k4_scales(const uint8_t *sc12) {
    const __m128i v = _mm_loadu_si128((const __m128i *)sc12);
    const __m128i a =
        _mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0)), _mm_setr_epi32(0, 0, 0, 4));
    const __m128i b =
        _mm_srli_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0)), 2); /* bits 6, 7 -> 4, 5 */
    const __m128i lo =
        _mm_and_si128(a, _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
    return _mm_or_si128(lo, _mm_and_si128(b, _mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
}

/* a super-block of zeros: the blocks of missing rows (levels, scales and d all 0) */
static const uint8_t k_zero_blk[256];
_Static_assert(sizeof(block_q5_K) <= sizeof k_zero_blk && sizeof(block_q6_K) <= sizeof k_zero_blk,
               "k_zero_blk size");

/* the panel's sc, corr, d and dmin of one super-block of the 16 rows blk[r]: each row's 16
 * scale bytes (Q4_K, Q5_K: 8 scales, 8 mins; Q6_K: 16 int8 scales) transposed to rows */
INLINE void kq_meta(const fr_type t, uint8_t *p, const char *const blk[FR_GEMM_ROWS]) {
    const int nsub = fr_gemm_kq_nsub(t);
    __m256i *sc = (__m256i *)(p + 4096);                       /* [nsub][16] int32 */
    __m256i *corr = (__m256i *)(p + 4096 + (size_t)nsub * 64); /* [8][16] int16 pairs */
    float *d = (float *)(p + 4096 + (size_t)nsub * 64 + 512);  /* d[16], dmin[16] */
    uint16_t dh[FR_GEMM_ROWS], dmh[FR_GEMM_ROWS];
    __m128i m[16], o[16];
#pragma GCC unroll 16
    for (int r = 0; r < FR_GEMM_ROWS; r++) {
        if (t == FR_TYPE_Q6_K) {
            const block_q6_K *x = (const block_q6_K *)blk[r];
            m[r] = _mm_loadu_si128((const __m128i *)x->scales);
            dh[r] = dmh[r] = x->d;
        } else { /* Q5_K: the same d, dmin, scales prefix */
            const block_q4_K *x = (const block_q4_K *)blk[r];
            m[r] = k4_scales(x->scales);
            dh[r] = x->d;
            dmh[r] = x->dmin;
        }
    }
    transpose_16x16_u8(o, m);
    if (t == FR_TYPE_Q6_K) {
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) {
            sc[2 * j] = _mm256_cvtepi8_epi32(o[j]);
            sc[2 * j + 1] = _mm256_cvtepi8_epi32(_mm_srli_si128(o[j], 8));
        }
#pragma GCC unroll 8
        for (int q = 0; q < 8; q++) { /* (32 sc_2q, 32 sc_2q+1) */
            const __m256i lo = _mm256_slli_epi16(_mm256_cvtepi8_epi16(o[2 * q]), 5);
            const __m256i hi = _mm256_slli_epi16(_mm256_cvtepi8_epi16(o[2 * q + 1]), 5);
            const __m256i u0 = _mm256_unpacklo_epi16(lo, hi), u1 = _mm256_unpackhi_epi16(lo, hi);
            corr[2 * q] = _mm256_permute2x128_si256(u0, u1, 0x20);
            corr[2 * q + 1] = _mm256_permute2x128_si256(u0, u1, 0x31);
        }
    } else {
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            sc[2 * j] = _mm256_cvtepu8_epi32(o[j]);
            sc[2 * j + 1] = _mm256_cvtepu8_epi32(_mm_srli_si128(o[j], 8));
            const __m256i m0 = _mm256_cvtepu8_epi32(o[8 + j]);
            const __m256i m1 = _mm256_cvtepu8_epi32(_mm_srli_si128(o[8 + j], 8));
            corr[2 * j] = _mm256_or_si256(m0, _mm256_slli_epi32(m0, 16)); /* (min, min) */
            corr[2 * j + 1] = _mm256_or_si256(m1, _mm256_slli_epi32(m1, 16));
        }
    }
    store_d16(d, dh);
    store_d16(d + 16, dmh);
}

/* o[e] = dword e of the 32 bytes at off in each of the 8 blocks blk[0..7] */
INLINE void load_t8(__m256i o[8], const char *const *blk, size_t off) {
    __m256i v[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++) v[r] = _mm256_loadu_si256((const __m256i *)(blk[r] + off));
    transpose_8x8(o, v);
}

/* bits b, b + 1 of each byte moved to bits 4, 5 (b even <= 6; 16-bit shifts never move the
 * two kept bits across a byte) */
INLINE __m256i bits_to_4(__m256i x, const int b) {
    return b < 4 ? _mm256_slli_epi16(x, 4 - b) : b > 4 ? _mm256_srli_epi16(x, b - 4) : x;
}

/* The levels of the 16 rows' super-blocks blk[r] into the panel. Levels are byte fields of
 * the blocks and the dword transposes move whole bytes, so each 32-byte source chunk (qs,
 * ql, qh) is transposed once and the nibbles and high bits are taken afterwards: level group
 * g (levels 32g..32g + 31) of step e of a half is built from the transposed chunks' dword e. */
INLINE void kq_levels(const fr_type t, uint8_t *p, const char *const blk[FR_GEMM_ROWS]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const char *const *b8 = blk + 8 * h;
        uint8_t *ph = p + 32 * h;
#define STORE(g, e, v) _mm256_store_si256((__m256i *)(ph + 64 * (8 * (g) + (e))), v)
        /* Q6_K: group g = 4 hh + mm is ql chunk (hh, mm & 1), nibble mm >> 1, qh bits 2 mm */
        if (t == FR_TYPE_Q6_K) {
#pragma GCC unroll 2
            for (int hh = 0; hh < 2; hh++) {
                __m256i qh[8];
                load_t8(qh, b8, offsetof(block_q6_K, qh) + 32 * (size_t)hh);
#pragma GCC unroll 2
                for (int c = 0; c < 2; c++) {
                    __m256i ql[8];
                    load_t8(ql, b8, offsetof(block_q6_K, ql) + 64 * (size_t)hh + 32 * (size_t)c);
                    const __m256i m3 = _mm256_set1_epi8(0x30);
#pragma GCC unroll 8
                    for (int e = 0; e < 8; e++) {
                        STORE(4 * hh + c, e,
                              _mm256_or_si256(_mm256_and_si256(ql[e], m4),
                                              _mm256_and_si256(bits_to_4(qh[e], 2 * c), m3)));
                        STORE(4 * hh + c + 2, e,
                              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql[e], 4), m4),
                                              _mm256_and_si256(bits_to_4(qh[e], 2 * c + 4), m3)));
                    }
                }
            }
            continue;
        }
        /* Q4_K, Q5_K: group 2j = low nibbles of qs chunk j, 2j + 1 = high; Q5_K: | bit g of
         * qh, moved to bit 4 */
        const size_t qs_off =
            t == FR_TYPE_Q5_K ? offsetof(block_q5_K, qs) : offsetof(block_q4_K, qs);
        __m256i qh[8];
        if (t == FR_TYPE_Q5_K) load_t8(qh, b8, offsetof(block_q5_K, qh));
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            __m256i q[8];
            load_t8(q, b8, qs_off + 32 * (size_t)j);
#pragma GCC unroll 8
            for (int e = 0; e < 8; e++) {
                __m256i lo = _mm256_and_si256(q[e], m4),
                        hi = _mm256_and_si256(_mm256_srli_epi16(q[e], 4), m4);
                if (t == FR_TYPE_Q5_K) {
                    const __m256i m5 = _mm256_set1_epi8(0x10); /* bit g -> bit 4 */
                    lo = _mm256_or_si256(lo, _mm256_and_si256(bits_to_4(qh[e], 2 * j), m5));
                    hi = _mm256_or_si256(
                        hi, _mm256_and_si256(_mm256_srli_epi16(bits_to_4(qh[e], 2 * j), 1), m5));
                }
                STORE(2 * j, e, lo);
                STORE(2 * j + 1, e, hi);
            }
        }
#undef STORE
    }
}

INLINE void kq_pack(const fr_type t, void *panel, const void *w, size_t w_stride, int n_rows,
                    int64_t n_in) {
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

/* rows 8h..8h+7 (lanes < m) x T tokens; G = dword steps summed in s16 before widening */
INLINE void kq_tile(const int T, const int NSUB, const int G, float *out, int64_t ld,
                    const uint8_t *panel, const char *act, size_t as, int64_t nsb, int h,
                    __m256i m) {
    const int SPB = 64 / NSUB;
    const size_t psz = FR_GEMM_KQ_PANEL(NSUB);
    __m256 acc[TILE_T];
#pragma GCC unroll 8
    for (int c = 0; c < T; c++) acc[c] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nsb; i++) {
        const uint8_t *p = panel + i * psz + 32 * h;
        const int8_t *q[TILE_T];
        __m256i isum[TILE_T];
#pragma GCC unroll 8
        for (int c = 0; c < T; c++) {
            q[c] = ((const block_q8_K *)(act + (size_t)c * as))[i].qs;
            isum[c] = _mm256_setzero_si256();
        }
        for (int j = 0; j < NSUB; j++) {
            const __m256i sc = _mm256_load_si256((const __m256i *)(p + 4096 + 64 * j));
            const __m256i sc2 =
                _mm256_blend_epi16(sc, _mm256_slli_epi32(sc, 16), 0xAA); /* (sc, sc) */
#pragma GCC unroll 8
            for (int s0 = 0; s0 < SPB; s0 += G) {
                __m256i s16[TILE_T];
#pragma GCC unroll 8
                for (int s = s0; s < s0 + G; s++) {
                    const int st = j * SPB + s;
                    const __m256i wv = _mm256_load_si256((const __m256i *)(p + 64 * st));
#pragma GCC unroll 8
                    for (int c = 0; c < T; c++) {
                        const __m256i pr =
                            _mm256_maddubs_epi16(wv, _mm256_set1_epi32(ld32(q[c] + 4 * st)));
                        /* saturating add: never saturates (bounds above), and GCC does not
                         * reassociate it into a tree of spilled products as it does vpaddw */
                        s16[c] = s == s0 ? pr : _mm256_adds_epi16(s16[c], pr);
                    }
                }
#pragma GCC unroll 8
                for (int c = 0; c < T; c++)
                    isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(s16[c], sc2));
            }
        }
        const uint8_t *pc = p + 4096 + (size_t)NSUB * 64;
        const __m256 d = _mm256_load_ps((const float *)(pc + 512));
        const __m256 dmin = _mm256_load_ps((const float *)(pc + 576));
#pragma GCC unroll 8
        for (int c = 0; c < T; c++) {
            const block_q8_K *y = (const block_q8_K *)(act + (size_t)c * as) + i;
            __m256i ic = _mm256_madd_epi16(_mm256_load_si256((const __m256i *)pc),
                                           _mm256_set1_epi32(ld32(y->bsums)));
#pragma GCC unroll 8
            for (int k = 1; k < 8; k++)
                ic = _mm256_add_epi32(
                    ic, _mm256_madd_epi16(_mm256_load_si256((const __m256i *)(pc + 64 * k)),
                                          _mm256_set1_epi32(ld32(y->bsums + 2 * k))));
            const __m256 dy = _mm256_set1_ps(y->d);
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(d, dy), acc[c]);
            acc[c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(ic), _mm256_mul_ps(dmin, dy), acc[c]);
        }
    }
#pragma GCC unroll 8
    for (int c = 0; c < T; c++) _mm256_maskstore_ps(out + (size_t)c * ld + 8 * h, m, acc[c]);
}

INLINE void kq_kernel(const int NSUB, const int G, float *out, int64_t ld, const void *panel,
                      const void *act, size_t as, int n_rows, int n_tok, int64_t n_in) {
    const int64_t nsb = n_in / QK_K;
    for (int h = 0; h < 2 && 8 * h < n_rows; h++) {
        const __m256i m = lane_mask(n_rows - 8 * h);
        const char *a = act;
        float *o = out;
        int c = 0;
        for (; c + TILE_T <= n_tok; c += TILE_T, o += TILE_T * ld, a += TILE_T * as)
            kq_tile(TILE_T, NSUB, G, o, ld, panel, a, as, nsb, h, m);
#define TAIL(k) kq_tile(k, NSUB, G, o, ld, panel, a, as, nsb, h, m)
        TILE_TAIL(n_tok - c, TAIL);
#undef TAIL
    }
}

#define KQ_AVX2(name, T, NSUB, G)                                                                  \
    static void name##_pack_avx2(void *panel, const void *w, size_t ws, int nr, int64_t n) {       \
        kq_pack(T, panel, w, ws, nr, n);                                                           \
    }                                                                                              \
    static void name##_kernel_avx2(float *out, int64_t ld, const void *panel, const void *a,       \
                                   size_t as, int nr, int nt, int64_t n) {                         \
        kq_kernel(NSUB, G, out, ld, panel, a, as, nr, nt, n);                                      \
    }                                                                                              \
    static const fr_gemm fr_gemm_##name##_avx2 = {T,                                               \
                                                  FR_GEMM_KQ_PANEL(NSUB),                          \
                                                  sizeof(block_q8_K),                              \
                                                  name##_pack_avx2,                                \
                                                  name##_kernel_avx2,                              \
                                                  NULL};
KQ_AVX2(q4_K, FR_TYPE_Q4_K, 8, 8)
KQ_AVX2(q5_K, FR_TYPE_Q5_K, 8, 4)
KQ_AVX2(q6_K, FR_TYPE_Q6_K, 16, 2)

const fr_gemm *fr_gemm_get_avx2(fr_type t) {
    switch (t) {
    case FR_TYPE_Q8_0:
        return &fr_gemm_q8_0_avx2;
    case FR_TYPE_Q4_K:
        return &fr_gemm_q4_K_avx2;
    case FR_TYPE_Q5_K:
        return &fr_gemm_q5_K_avx2;
    case FR_TYPE_Q6_K:
        return &fr_gemm_q6_K_avx2;
    default:
        return NULL;
    }
}
