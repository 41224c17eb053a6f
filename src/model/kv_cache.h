/* kv_cache.h: the paged KV cache. Memory is split into blocks of block_size token cells;
 * each sequence owns a block table (its cells in position order), so sequences grow,
 * shrink and share prefix blocks without moving data. Each layer stores per cell a K row
 * and a V row of fixed widths: for GQA n_head_kv*head_dim, for MLA the latent plus rope
 * part as the K row and no V row (width_v = 0). Rows are f16 or f32.
 *
 * Prefix sharing: a full block can be registered ("published") under the hash of the whole
 * token prefix it ends (tokens 0 .. its last cell), so equal hashes mean equal prefixes and
 * equal cache contents. A new sequence attaches the registered blocks of its longest
 * matching prefix (fr_kv_prefix_attach) instead of recomputing them; each holder counts in
 * the block's refcount. Registered blocks nobody references stay cached on an LRU list and
 * are evicted (oldest first) only when no free block is left. Only a sequence's last,
 * partial block is ever written; if that block is shared it is copied first
 * (copy-on-write), if it is registered it is unregistered. */
#ifndef FR_KV_CACHE_H
#define FR_KV_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "quant/qtypes.h"

typedef struct fr_kv_seq {
    int32_t n_pos;    /* tokens stored: positions 0..n_pos-1 */
    int32_t n_blocks; /* blocks in the table */
    int32_t cap_blocks;
    int32_t *blocks; /* [cap_blocks] block ids in position order */
} fr_kv_seq;

typedef struct fr_kv_cache {
    fr_type type; /* FR_TYPE_F16 or FR_TYPE_F32 */
    int n_layer;
    int64_t width_k, width_v; /* elements per cell per layer */
    size_t row_k, row_v;      /* bytes per cell per layer */
    int32_t block_size, n_blocks;
    int32_t n_free, *free_list; /* [n_blocks] stack of free (unregistered, unused) block ids */
    int32_t *refs;              /* [n_blocks] owners per block */
    void **k, **v;              /* [n_layer] -> [n_blocks*block_size, width] */
    int n_seq;
    fr_kv_seq *seqs; /* [n_seq] */
    size_t bytes;    /* total bytes of K/V storage */
    /* prefix sharing */
    uint8_t *reg;                 /* [n_blocks] 1: registered under hash[b] */
    uint64_t *hash;               /* [n_blocks] prefix hash of a registered block */
    int32_t *cell_tok;            /* [n_blocks*block_size] tokens of registered blocks */
    int32_t n_buckets;            /* power of two */
    int32_t *bucket;              /* [n_buckets] first registered block per bucket, -1 */
    int32_t *bnext;               /* [n_blocks] next block in the same bucket */
    int32_t *lru_prev, *lru_next; /* [n_blocks] registered blocks with refs 0, oldest first */
    int32_t lru_head, lru_tail, n_lru;
    int32_t n_reg;          /* registered blocks (in use or cached) */
    uint64_t n_prefix_hits; /* blocks attached from the prefix table, ever */
    uint64_t n_evictions;   /* cached blocks reused for other data, ever */
    uint64_t n_cow;         /* shared blocks copied before a write, ever */
} fr_kv_cache;

int fr_kv_init(fr_kv_cache *kv, fr_type type, int n_layer, int64_t width_k, int64_t width_v,
               int32_t n_ctx_cells, int32_t block_size, int n_seq, fr_err *err);
void fr_kv_free(fr_kv_cache *kv);
/* Makes room for positions [n_pos, n_pos + n) of seq; fails when the cache is full.
 * Copies the last block first when it is shared and would be written. */
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
/* Writes one token's rows for `layer` at (seq, pos), converting from f32 to the cache type:
 * k[width_k] and, when the cache has a V row, v[width_v]. The only place cells are written. */
void fr_kv_store(fr_kv_cache *kv, int layer, int seq, int32_t pos, const float *k, const float *v);
/* Bytes one token occupies across all layers. */
size_t fr_kv_bytes_per_token(const fr_kv_cache *kv);

/* ---- prefix sharing ---- */
/* Hash of a prefix that extends the prefix hashed `parent` (0 for the empty prefix) by
 * tokens[0..n). Chaining one block at a time gives the hash of the whole prefix. */
uint64_t fr_kv_prefix_hash(uint64_t parent, const int32_t *tokens, int32_t n);
/* For an empty sequence: attaches the registered blocks that hold the longest prefix of
 * tokens[0..n) made of whole blocks, sets n_pos to it and returns it (0 if none). */
int32_t fr_kv_prefix_attach(fr_kv_cache *kv, int seq, const int32_t *tokens, int32_t n);
/* Registers seq's full blocks within positions [0, n) (n <= n_pos; tokens[i] is the token
 * at position i) so later sequences can share them. Blocks already registered, or whose
 * prefix another block already holds, are left as they are. */
void fr_kv_prefix_publish(fr_kv_cache *kv, int seq, const int32_t *tokens, int32_t n);
/* Blocks referenced by at least one sequence. */
int32_t fr_kv_blocks_in_use(const fr_kv_cache *kv);
/* Blocks a reserve can take now: free ones plus cached ones nobody references. */
int32_t fr_kv_blocks_available(const fr_kv_cache *kv);

#endif
