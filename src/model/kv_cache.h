/* kv_cache.h: the paged KV cache. Memory is split into blocks of block_size token cells;
 * each sequence owns a block table (its cells in position order), so sequences grow,
 * shrink and (later) share prefix blocks without moving data. Each layer stores per cell a
 * K row and a V row of fixed widths: for GQA n_head_kv*head_dim, for MLA the latent plus
 * rope part as the K row and no V row (width_v = 0). Rows are f16 or f32. */
#ifndef FR_KV_CACHE_H
#define FR_KV_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "quant/qtypes.h"

typedef struct fr_kv_seq {
    int32_t n_pos;       /* tokens stored: positions 0..n_pos-1 */
    int32_t n_blocks;    /* blocks in the table */
    int32_t cap_blocks;
    int32_t *blocks;     /* [cap_blocks] block ids in position order */
} fr_kv_seq;

typedef struct fr_kv_cache {
    fr_type type;        /* FR_TYPE_F16 or FR_TYPE_F32 */
    int n_layer;
    int64_t width_k, width_v; /* elements per cell per layer */
    size_t row_k, row_v;      /* bytes per cell per layer */
    int32_t block_size, n_blocks;
    int32_t n_free, *free_list; /* [n_blocks] stack of free block ids */
    int32_t *refs;              /* [n_blocks] owners per block */
    void **k, **v;              /* [n_layer] -> [n_blocks*block_size, width] */
    int n_seq;
    fr_kv_seq *seqs;            /* [n_seq] */
    size_t bytes;               /* total bytes of K/V storage */
} fr_kv_cache;

int fr_kv_init(fr_kv_cache *kv, fr_type type, int n_layer, int64_t width_k, int64_t width_v,
               int32_t n_ctx_cells, int32_t block_size, int n_seq, fr_err *err);
void fr_kv_free(fr_kv_cache *kv);
/* Makes room for positions [n_pos, n_pos + n) of seq; fails when the cache is full. */
int fr_kv_reserve(fr_kv_cache *kv, int seq, int32_t n, fr_err *err);
/* Drops positions >= p0 of seq (p0 = 0 clears it), releasing whole blocks. */
void fr_kv_truncate(fr_kv_cache *kv, int seq, int32_t p0);
/* Cell index of (seq, pos); pos must be < the reserved length. */
static inline int64_t fr_kv_cell(const fr_kv_cache *kv, int seq, int32_t pos) {
    const fr_kv_seq *s = &kv->seqs[seq];
    return (int64_t)s->blocks[pos / kv->block_size] * kv->block_size + pos % kv->block_size;
}
static inline void *fr_kv_k(const fr_kv_cache *kv, int layer, int64_t cell) {
    return (char *)kv->k[layer] + (size_t)cell * kv->row_k;
}
static inline void *fr_kv_v(const fr_kv_cache *kv, int layer, int64_t cell) {
    return (char *)kv->v[layer] + (size_t)cell * kv->row_v;
}
/* Bytes one token occupies across all layers. */
size_t fr_kv_bytes_per_token(const fr_kv_cache *kv);

#endif
