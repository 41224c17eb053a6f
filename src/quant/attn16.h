/* attn16.h: attention kernels over a tile of 16 query lanes that share their key/value rows
 * (the heads of one token under MLA, or (token, head) pairs of one sequence and one KV group
 * under GQA). Lanes sit side by side in memory ("lane-major" [.][16]) so one 16-wide vector
 * holds a value of every lane: a key row is read once for all 16 lanes instead of once per
 * head, and the softmax runs down the lanes in parallel.
 *   qt [d][16]        the queries, transposed: qt[i * 16 + l] = q_l[i]
 *   k  [n][ldk]       n key rows (f32, converted from the cache by the caller)
 *   s  [n][16]        scores, then probabilities, per key j and lane l
 *   v  [n][ldv]       n value rows (f32)
 *   o  [nl][ldo]      per-lane outputs, accumulated
 * Each kernel has a generic reference and AVX2 / AVX-512 versions (attn16_avx2.c,
 * attn16_avx512.c) tested against it; they differ only in the order of f32 additions and
 * in exp (a polynomial within 2 ulp of expf in the SIMD versions). */
#ifndef FR_ATTN16_H
#define FR_ATTN16_H

#include <stdint.h>

#include "core/cpu.h"

#define FR_ATTN_LANES 16

typedef struct fr_attn16_kernels {
    /* s[j * 16 + l] = scale * sum_{i < d} qt[i * 16 + l] * k[j * ldk + i], j < n */
    void (*scores)(float *s, const float *qt, const float *k, int64_t ldk, int n, int64_t d,
                   float scale);
    /* per lane l, over j < lim[l] (lim[l] <= n): s = exp(s - max) / sum, the sum taken in
     * double as llama.cpp does; rounded through f16 when round16; s = 0 for j >= lim[l] */
    void (*softmax)(float *s, int n, const int32_t lim[FR_ATTN_LANES], int round16);
    /* o[l * ldo + i] += sum_{j < n} s[j * 16 + l] * v[j * ldv + i], for l < nl, i < d,
     * j in order; d a multiple of 16; o has round_up(nl, 4) rows, and rows nl and up are
     * scratch (SIMD versions update them from their lanes of s) */
    void (*pv)(float *o, int64_t ldo, const float *s, const float *v, int64_t ldv, int n,
               int64_t d, int nl);
} fr_attn16_kernels;

/* the kernels of level l (FR_CPU_GENERIC: the reference) */
const fr_attn16_kernels *fr_attn16_get(fr_cpu_level l);

extern const fr_attn16_kernels fr_attn16_generic, fr_attn16_avx2, fr_attn16_avx512;

#endif
