/* tok_bpe.c: byte-level BPE merging of one pre-tokenized word, with llama.cpp's merge
 * order (lowest rank first, ties to the leftmost pair) and its fallback for leftovers
 * that are not tokens. Symbols are interned string ids, the merge table maps id pairs to
 * (rank, merged id), and a binary heap of (rank, left) keys with lazy invalidation makes
 * a word of n bytes cost O(n log n) (llama.cpp's string-based queue degrades on huge
 * words). */
#include <string.h>

#include "tok/tok_internal.h"

/* heap of uint64 keys: rank << 32 | left index; smallest first. Grows in scratch slot 4. */
typedef struct u64heap {
    uint64_t *v;
    size_t n, cap;
    tok_scratch *s;
    bool oom;
} u64heap;

static void heap_push(u64heap *h, uint64_t x) {
    if (h->n == h->cap) {
        uint64_t *nv = tok_scratch_get(h->s, 4, h->cap * 2 * sizeof *nv);
        if (!nv) {
            h->oom = true;
            return;
        }
        h->v = nv;
        h->cap *= 2;
    }
    uint64_t *a = h->v;
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (a[p] <= x) break;
        a[i] = a[p];
        i = p;
    }
    a[i] = x;
}

static uint64_t heap_pop(u64heap *h) {
    uint64_t *a = h->v, top = a[0], x = a[--h->n];
    size_t i = 0, m = h->n;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= m) break;
        size_t c = (l + 1 < m && a[l + 1] < a[l]) ? l + 1 : l;
        if (a[c] >= x) break;
        a[i] = a[c];
        i = c;
    }
    if (m) a[i] = x;
    return top;
}

static void emit_sid(const tok_vocab *v, int32_t sid, tok_ids *out) {
    if (sid >= 0 && sid < v->n_vocab) {
        tok_ids_push(out, sid);
        return;
    }
    /* not a token: each byte of its (byte-level) text that is itself a token */
    const char *s = tok_strtab_str(&v->strs, sid);
    uint32_t n = v->strs.len[sid];
    for (uint32_t i = 0; i < n; i++) {
        int32_t t = v->byte_tok[(uint8_t)s[i]];
        if (t >= 0) tok_ids_push(out, t);
    }
}

void tok_bpe_word(const tok_vocab *v, const char *w, size_t n, tok_ids *out, tok_scratch *s) {
    if (n == 0) return;
    if (v->ignore_merges) {
        /* the whole word, in byte-level form, may be a token */
        char *enc = tok_scratch_get(s, 0, n * 2);
        if (!enc) {
            out->oom = true;
            return;
        }
        size_t o = 0;
        for (size_t i = 0; i < n; i++) o += tok_utf8_put(enc + o, tok_byte_to_cpt((uint8_t)w[i]));
        int32_t id = tok_lookup(v, enc, o);
        if (id >= 0) {
            tok_ids_push(out, id);
            return;
        }
    }
    if (n == 1) {
        emit_sid(v, v->byte_sid[(uint8_t)w[0]], out);
        return;
    }
    if (n > INT32_MAX / 4) {
        out->oom = true;
        return;
    }
    /* symbols: sid, prev, next (n each); the heap holds at most about 2n entries */
    int32_t *sid = tok_scratch_get(s, 1, n * sizeof(int32_t));
    int32_t *prev = tok_scratch_get(s, 2, n * sizeof(int32_t));
    int32_t *next = tok_scratch_get(s, 3, n * sizeof(int32_t));
    u64heap h = {tok_scratch_get(s, 4, (n + 16) * sizeof(uint64_t)), 0, n + 16, s, false};
    if (!sid || !prev || !next || !h.v) {
        out->oom = true;
        return;
    }
    const tok_merge_tab *m = &v->merges;
    for (size_t i = 0; i < n; i++) {
        sid[i] = v->byte_sid[(uint8_t)w[i]];
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    int32_t rank, res;
    for (size_t i = 0; i + 1 < n; i++)
        if (tok_merge_find(m, sid[i], sid[i + 1], &rank, &res))
            heap_push(&h, (uint64_t)(uint32_t)rank << 32 | (uint32_t)i);
    while (h.n > 0 && !h.oom) {
        uint64_t top = heap_pop(&h);
        int32_t r = (int32_t)(top >> 32), l = (int32_t)(uint32_t)top;
        if (sid[l] < 0) continue;
        int32_t rt = next[l];
        if (rt < 0) continue;
        /* stale entry: the pair at l changed since it was pushed */
        if (!tok_merge_find(m, sid[l], sid[rt], &rank, &res) || rank != r) continue;
        sid[l] = res;
        sid[rt] = -1;
        next[l] = next[rt];
        if (next[rt] >= 0) prev[next[rt]] = l;
        if (prev[l] >= 0 && tok_merge_find(m, sid[prev[l]], sid[l], &rank, &res))
            heap_push(&h, (uint64_t)(uint32_t)rank << 32 | (uint32_t)prev[l]);
        if (next[l] >= 0 && tok_merge_find(m, sid[l], sid[next[l]], &rank, &res))
            heap_push(&h, (uint64_t)(uint32_t)rank << 32 | (uint32_t)l);
    }
    if (h.oom) {
        out->oom = true;
        return;
    }
    for (int32_t i = 0; i >= 0; i = next[i]) emit_sid(v, sid[i], out);
}
