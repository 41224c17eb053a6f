/* kv_cache.c: block allocation, sequence block tables and prefix sharing (hash table of
 * registered blocks, LRU of cached unreferenced blocks, copy-on-write) for the paged KV
 * cache. */
#include "model/kv_cache.h"

#include "quant/vec.h"

#include <stdlib.h>
#include <string.h>

int fr_kv_init(fr_kv_cache *kv, fr_type type, int n_layer, int64_t width_k, int64_t width_v,
               int32_t n_ctx_cells, int32_t block_size, int n_seq, fr_err *err) {
    memset(kv, 0, sizeof *kv);
    FR_ASSERT(type == FR_TYPE_F16 || type == FR_TYPE_F32);
    FR_ASSERT(block_size > 0 && n_seq > 0 && n_layer > 0);
    kv->type = type;
    kv->n_layer = n_layer;
    kv->width_k = width_k;
    kv->width_v = width_v;
    size_t es = type == FR_TYPE_F16 ? 2 : 4;
    kv->row_k = (size_t)width_k * es;
    kv->row_v = (size_t)width_v * es;
    kv->block_size = block_size;
    kv->n_blocks = (n_ctx_cells + block_size - 1) / block_size;
    if (kv->n_blocks < 1) kv->n_blocks = 1;
    size_t cells = (size_t)kv->n_blocks * block_size;
    kv->k = fr_xcalloc((size_t)n_layer, sizeof *kv->k);
    kv->v = fr_xcalloc((size_t)n_layer, sizeof *kv->v);
    for (int l = 0; l < n_layer; l++) {
        kv->k[l] = calloc(cells, kv->row_k);
        kv->v[l] = kv->row_v ? calloc(cells, kv->row_v) : NULL;
        if (!kv->k[l] || (kv->row_v && !kv->v[l])) {
            fr_kv_free(kv);
            return fr_fail(err, FR_ENOMEM, "cannot allocate the KV cache (%zu cells x %d layers)",
                           cells, n_layer);
        }
    }
    kv->bytes = cells * (kv->row_k + kv->row_v) * (size_t)n_layer;
    int32_t nb = kv->n_blocks;
    kv->free_list = fr_xmalloc(sizeof(int32_t) * (size_t)nb);
    kv->refs = fr_xcalloc((size_t)nb, sizeof(int32_t));
    kv->n_free = nb;
    for (int32_t i = 0; i < nb; i++) kv->free_list[i] = nb - 1 - i;
    kv->n_seq = n_seq;
    kv->seqs = fr_xcalloc((size_t)n_seq, sizeof *kv->seqs);
    kv->reg = fr_xcalloc((size_t)nb, 1);
    kv->hash = fr_xcalloc((size_t)nb, sizeof(uint64_t));
    kv->cell_tok = fr_xmalloc(sizeof(int32_t) * cells);
    kv->n_buckets = 16;
    while (kv->n_buckets < 2 * nb) kv->n_buckets *= 2;
    kv->bucket = fr_xmalloc(sizeof(int32_t) * (size_t)kv->n_buckets);
    for (int32_t i = 0; i < kv->n_buckets; i++) kv->bucket[i] = -1;
    kv->bnext = fr_xmalloc(sizeof(int32_t) * (size_t)nb);
    kv->lru_prev = fr_xmalloc(sizeof(int32_t) * (size_t)nb);
    kv->lru_next = fr_xmalloc(sizeof(int32_t) * (size_t)nb);
    kv->lru_head = kv->lru_tail = -1;
    return 0;
}

void fr_kv_free(fr_kv_cache *kv) {
    if (kv->k)
        for (int l = 0; l < kv->n_layer; l++) free(kv->k[l]);
    if (kv->v)
        for (int l = 0; l < kv->n_layer; l++) free(kv->v[l]);
    free(kv->k);
    free(kv->v);
    free(kv->free_list);
    free(kv->refs);
    if (kv->seqs)
        for (int s = 0; s < kv->n_seq; s++) free(kv->seqs[s].blocks);
    free(kv->seqs);
    void *pf[] = {kv->reg,   kv->hash,     kv->cell_tok, kv->bucket,
                  kv->bnext, kv->lru_prev, kv->lru_next};
    for (size_t i = 0; i < sizeof pf / sizeof *pf; i++) free(pf[i]);
    memset(kv, 0, sizeof *kv);
}

/* ---- the LRU list of cached blocks nobody references ---- */

static void lru_remove(fr_kv_cache *kv, int32_t b) {
    int32_t p = kv->lru_prev[b], n = kv->lru_next[b];
    if (p >= 0)
        kv->lru_next[p] = n;
    else
        kv->lru_head = n;
    if (n >= 0)
        kv->lru_prev[n] = p;
    else
        kv->lru_tail = p;
    kv->n_lru--;
}

static void lru_push(fr_kv_cache *kv, int32_t b) { /* most recently used at the tail */
    kv->lru_prev[b] = kv->lru_tail;
    kv->lru_next[b] = -1;
    if (kv->lru_tail >= 0)
        kv->lru_next[kv->lru_tail] = b;
    else
        kv->lru_head = b;
    kv->lru_tail = b;
    kv->n_lru++;
}

/* ---- the prefix table ---- */

static int32_t bucket_of(const fr_kv_cache *kv, uint64_t h) {
    return (int32_t)(h & (uint64_t)(kv->n_buckets - 1));
}

static void unregister(fr_kv_cache *kv, int32_t b) {
    int32_t *pp = &kv->bucket[bucket_of(kv, kv->hash[b])];
    while (*pp != b) {
        FR_ASSERT(*pp >= 0);
        pp = &kv->bnext[*pp];
    }
    *pp = kv->bnext[b];
    kv->reg[b] = 0;
    kv->n_reg--;
}

/* the registered block holding prefix hash h whose own tokens are toks[0..block_size) */
static int32_t lookup(const fr_kv_cache *kv, uint64_t h, const int32_t *toks) {
    for (int32_t b = kv->bucket[bucket_of(kv, h)]; b >= 0; b = kv->bnext[b])
        if (kv->hash[b] == h && !memcmp(kv->cell_tok + (size_t)b * kv->block_size, toks,
                                        sizeof(int32_t) * (size_t)kv->block_size))
            return b;
    return -1;
}

uint64_t fr_kv_prefix_hash(uint64_t parent, const int32_t *tokens, int32_t n) {
    uint64_t h = parent ^ 0x6a09e667f3bcc908ull;
    for (int32_t i = 0; i < n; i++) {
        h ^= (uint32_t)tokens[i];
        h *= 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    h ^= (uint64_t)n; /* splitmix64 finalizer */
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

/* ---- allocation ---- */

static int32_t block_alloc(fr_kv_cache *kv) {
    int32_t b;
    if (kv->n_free) {
        b = kv->free_list[--kv->n_free];
    } else {
        b = kv->lru_head;
        FR_ASSERT(b >= 0);
        lru_remove(kv, b);
        unregister(kv, b);
        kv->n_evictions++;
    }
    kv->refs[b] = 1;
    return b;
}

static void block_release(fr_kv_cache *kv, int32_t b) {
    FR_ASSERT(kv->refs[b] > 0);
    if (--kv->refs[b]) return;
    if (kv->reg[b])
        lru_push(kv, b);
    else
        kv->free_list[kv->n_free++] = b;
}

static void seq_grow(fr_kv_seq *s, int64_t need_blocks) {
    if (need_blocks > s->cap_blocks) {
        s->cap_blocks = (int32_t)(need_blocks * 2);
        s->blocks = fr_xrealloc(s->blocks, sizeof(int32_t) * (size_t)s->cap_blocks);
    }
}

int fr_kv_reserve(fr_kv_cache *kv, int seq, int32_t n, fr_err *err) {
    FR_ASSERT(seq >= 0 && seq < kv->n_seq && n >= 0);
    fr_kv_seq *s = &kv->seqs[seq];
    int64_t need_pos = (int64_t)s->n_pos + n;
    int64_t need_blocks = (need_pos + kv->block_size - 1) / kv->block_size;
    /* the last block gets written when it is partial: copy it if shared */
    int32_t last = n > 0 && s->n_pos % kv->block_size ? s->blocks[s->n_pos / kv->block_size] : -1;
    int cow = last >= 0 && kv->refs[last] > 1;
    if (need_blocks - s->n_blocks + cow > kv->n_free + kv->n_lru)
        return fr_fail(err, FR_ERANGE,
                       "context full: sequence %d needs %lld positions, the KV cache holds %lld",
                       seq, (long long)need_pos, (long long)kv->n_blocks * kv->block_size);
    seq_grow(s, need_blocks);
    if (cow) {
        int32_t nb = block_alloc(kv);
        size_t used = (size_t)(s->n_pos % kv->block_size), bs = (size_t)kv->block_size;
        for (int l = 0; l < kv->n_layer; l++) {
            memcpy((char *)kv->k[l] + nb * bs * kv->row_k, (char *)kv->k[l] + last * bs * kv->row_k,
                   used * kv->row_k);
            if (kv->row_v)
                memcpy((char *)kv->v[l] + nb * bs * kv->row_v,
                       (char *)kv->v[l] + last * bs * kv->row_v, used * kv->row_v);
        }
        block_release(kv, last);
        s->blocks[s->n_pos / kv->block_size] = nb;
        kv->n_cow++;
    } else if (last >= 0 && kv->reg[last]) {
        unregister(kv, last); /* our own registered block: its contents are about to change */
    }
    while (s->n_blocks < need_blocks) s->blocks[s->n_blocks++] = block_alloc(kv);
    return 0;
}

void fr_kv_truncate(fr_kv_cache *kv, int seq, int32_t p0) {
    FR_ASSERT(seq >= 0 && seq < kv->n_seq && p0 >= 0);
    fr_kv_seq *s = &kv->seqs[seq];
    if (p0 > s->n_pos) p0 = s->n_pos;
    s->n_pos = p0;
    int32_t keep = (p0 + kv->block_size - 1) / kv->block_size;
    while (s->n_blocks > keep) block_release(kv, s->blocks[--s->n_blocks]);
}

void fr_kv_store(fr_kv_cache *kv, int layer, int seq, int32_t pos, const float *k, const float *v) {
    int64_t cell = fr_kv_cell(kv, seq, pos);
    if (kv->type == FR_TYPE_F16) {
        fr_f16_row_from_f32(fr_kv_k(kv, layer, cell), k, kv->width_k);
        if (kv->row_v) fr_f16_row_from_f32(fr_kv_v(kv, layer, cell), v, kv->width_v);
    } else {
        memcpy(fr_kv_k(kv, layer, cell), k, kv->row_k);
        if (kv->row_v) memcpy(fr_kv_v(kv, layer, cell), v, kv->row_v);
    }
}

size_t fr_kv_bytes_per_token(const fr_kv_cache *kv) {
    return (kv->row_k + kv->row_v) * (size_t)kv->n_layer;
}

/* ---- prefix sharing ---- */

int32_t fr_kv_prefix_attach(fr_kv_cache *kv, int seq, const int32_t *tokens, int32_t n) {
    FR_ASSERT(seq >= 0 && seq < kv->n_seq && n >= 0);
    fr_kv_seq *s = &kv->seqs[seq];
    FR_ASSERT(s->n_pos == 0 && s->n_blocks == 0);
    int32_t bs = kv->block_size, nfull = n / bs;
    uint64_t h = 0;
    for (int32_t i = 0; i < nfull; i++) {
        h = fr_kv_prefix_hash(h, tokens + (size_t)i * bs, bs);
        int32_t b = lookup(kv, h, tokens + (size_t)i * bs);
        if (b < 0) break;
        if (kv->refs[b] == 0) lru_remove(kv, b);
        kv->refs[b]++;
        seq_grow(s, s->n_blocks + 1);
        s->blocks[s->n_blocks++] = b;
        kv->n_prefix_hits++;
    }
    s->n_pos = s->n_blocks * bs;
    return s->n_pos;
}

void fr_kv_prefix_publish(fr_kv_cache *kv, int seq, const int32_t *tokens, int32_t n) {
    FR_ASSERT(seq >= 0 && seq < kv->n_seq && n >= 0);
    fr_kv_seq *s = &kv->seqs[seq];
    if (n > s->n_pos) n = s->n_pos;
    int32_t bs = kv->block_size, nfull = n / bs;
    uint64_t h = 0;
    for (int32_t i = 0; i < nfull; i++) {
        const int32_t *toks = tokens + (size_t)i * bs;
        h = fr_kv_prefix_hash(h, toks, bs);
        int32_t b = s->blocks[i];
        if (kv->reg[b]) continue;               /* attached or published before */
        if (lookup(kv, h, toks) >= 0) continue; /* another block holds this prefix */
        kv->reg[b] = 1;
        kv->hash[b] = h;
        memcpy(kv->cell_tok + (size_t)b * bs, toks, sizeof(int32_t) * (size_t)bs);
        int32_t *head = &kv->bucket[bucket_of(kv, h)];
        kv->bnext[b] = *head;
        *head = b;
        kv->n_reg++;
    }
}

int32_t fr_kv_blocks_in_use(const fr_kv_cache *kv) {
    return kv->n_blocks - kv->n_free - kv->n_lru;
}

int32_t fr_kv_blocks_available(const fr_kv_cache *kv) {
    return kv->n_free + kv->n_lru;
}
