/* kv_cache.c: block allocation and sequence block tables for the paged KV cache. */
#include "model/kv_cache.h"

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
    kv->free_list = fr_xmalloc(sizeof(int32_t) * (size_t)kv->n_blocks);
    kv->refs = fr_xcalloc((size_t)kv->n_blocks, sizeof(int32_t));
    kv->n_free = kv->n_blocks;
    for (int32_t i = 0; i < kv->n_blocks; i++) kv->free_list[i] = kv->n_blocks - 1 - i;
    kv->n_seq = n_seq;
    kv->seqs = fr_xcalloc((size_t)n_seq, sizeof *kv->seqs);
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
    memset(kv, 0, sizeof *kv);
}

int fr_kv_reserve(fr_kv_cache *kv, int seq, int32_t n, fr_err *err) {
    FR_ASSERT(seq >= 0 && seq < kv->n_seq && n >= 0);
    fr_kv_seq *s = &kv->seqs[seq];
    int64_t need_pos = (int64_t)s->n_pos + n;
    int64_t need_blocks = (need_pos + kv->block_size - 1) / kv->block_size;
    if (need_blocks - s->n_blocks > kv->n_free)
        return fr_fail(err, FR_ERANGE,
                       "context full: sequence %d needs %lld positions, the KV cache holds %lld",
                       seq, (long long)need_pos, (long long)kv->n_blocks * kv->block_size);
    if (need_blocks > s->cap_blocks) {
        s->cap_blocks = (int32_t)(need_blocks * 2);
        s->blocks = fr_xrealloc(s->blocks, sizeof(int32_t) * (size_t)s->cap_blocks);
    }
    while (s->n_blocks < need_blocks) {
        int32_t b = kv->free_list[--kv->n_free];
        kv->refs[b] = 1;
        s->blocks[s->n_blocks++] = b;
    }
    return 0;
}

void fr_kv_truncate(fr_kv_cache *kv, int seq, int32_t p0) {
    FR_ASSERT(seq >= 0 && seq < kv->n_seq && p0 >= 0);
    fr_kv_seq *s = &kv->seqs[seq];
    if (p0 > s->n_pos) p0 = s->n_pos;
    s->n_pos = p0;
    int32_t keep = (p0 + kv->block_size - 1) / kv->block_size;
    while (s->n_blocks > keep) {
        int32_t b = s->blocks[--s->n_blocks];
        if (--kv->refs[b] == 0) kv->free_list[kv->n_free++] = b;
    }
}

size_t fr_kv_bytes_per_token(const fr_kv_cache *kv) {
    return (kv->row_k + kv->row_v) * (size_t)kv->n_layer;
}
