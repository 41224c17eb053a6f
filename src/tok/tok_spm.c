/* tok_spm.c: SentencePiece-style BPE as llama.cpp's llm_tokenizer_spm does it: the text
 * (already space-prefixed and with ' ' escaped to U+2581) is cut into UTF-8 characters,
 * then the adjacent pair whose concatenation is a token with the highest score is merged
 * (ties: leftmost), until no pair forms a token. Leftover symbols that are not tokens
 * become byte tokens (<0xXX>), or the unknown token when the vocab has no byte tokens.
 * For speed the text is cut at "hard" boundaries first: between two characters that are
 * adjacent inside no token, no merge can ever happen, so the pieces on either side are
 * merged independently with small heaps (same result as one global queue). */
#include <stdlib.h>
#include <string.h>

#include "tok/tok_internal.h"

typedef struct spm_sym {
    int32_t prev, next;
    uint32_t off, n;
} spm_sym;
/* the right symbol of a bigram is always left's current next while both are intact */
typedef struct spm_bigram {
    float score;
    int32_t left;
    uint32_t size;
} spm_bigram;
typedef struct bgheap {
    spm_bigram *v;
    size_t n, cap;
    tok_scratch *s;
    bool oom;
} bgheap;

/* max-heap: higher score first, then smaller left */
static bool bg_before(const spm_bigram *a, const spm_bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void bg_push(bgheap *h, spm_bigram x) {
    if (h->n == h->cap) {
        spm_bigram *nv = tok_scratch_get(h->s, 6, h->cap * 2 * sizeof *nv);
        if (!nv) {
            h->oom = true;
            return;
        }
        h->v = nv;
        h->cap *= 2;
    }
    spm_bigram *a = h->v;
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bg_before(&x, &a[p])) break;
        a[i] = a[p];
        i = p;
    }
    a[i] = x;
}

static spm_bigram bg_pop(bgheap *h) {
    spm_bigram *a = h->v, top = a[0], x = a[--h->n];
    size_t i = 0, m = h->n;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= m) break;
        size_t c = (l + 1 < m && bg_before(&a[l + 1], &a[l])) ? l + 1 : l;
        if (!bg_before(&a[c], &x)) break;
        a[i] = a[c];
        i = c;
    }
    if (m) a[i] = x;
    return top;
}

static void try_bigram(const tok_vocab *v, const char *t, const spm_sym *sy, int32_t l, int32_t r,
                       bgheap *h) {
    if (l < 0 || r < 0) return;
    uint32_t size = sy[l].n + sy[r].n;
    int32_t id = tok_lookup(v, t + sy[l].off, size);
    if (id < 0) return;
    spm_bigram b = {v->scores[id], l, size};
    bg_push(h, b);
}

/* a character unit (up to 4 bytes, as the lead byte announces) packed into 32 bits */
static inline uint32_t unit_code(const uint8_t *p, uint32_t n) {
    uint32_t c = 0;
    for (uint32_t i = 0; i < n && i < 4; i++) c |= (uint32_t)p[i] << (8 * i);
    return c;
}

static inline uint64_t pair_key(uint32_t a, uint32_t b) {
    uint64_t k = (uint64_t)a << 32 | b;
    return k == UINT64_MAX ? UINT64_MAX - 1 : k;
}

int tok_spm_build(tok_vocab *v, fr_err *err) {
    size_t total = 0;
    for (int32_t id = 0; id < v->n_vocab; id++) total += v->strs.len[id];
    uint32_t ns = 1024;
    while (ns < total * 2 && ns < (1u << 30)) ns *= 2;
    uint64_t *t = malloc(ns * sizeof *t);
    if (!t) return fr_fail(err, FR_ENOMEM, "out of memory");
    memset(t, 0xFF, ns * sizeof *t);
    uint32_t used = 0;
    for (int32_t id = 0; id < v->n_vocab && used < ns / 2; id++) {
        const uint8_t *s = (const uint8_t *)tok_strtab_str(&v->strs, id);
        uint32_t n = v->strs.len[id], off = 0, prev = 0;
        bool have_prev = false;
        while (off < n) {
            uint32_t l = (uint32_t)tok_utf8_len(s[off]);
            if (l > n - off) l = n - off;
            uint32_t u = unit_code(s + off, l);
            if (have_prev) {
                uint64_t k = pair_key(prev, u);
                uint32_t i = tok_hash64(k) & (ns - 1);
                while (t[i] != UINT64_MAX && t[i] != k) i = (i + 1) & (ns - 1);
                if (t[i] == UINT64_MAX) {
                    t[i] = k;
                    used++;
                }
            }
            prev = u;
            have_prev = true;
            off += l;
        }
    }
    if (used >= ns / 2) {
        free(t);
        return 0;
    } /* degenerate: no boundaries are hard */
    v->spm_pairs = t;
    v->spm_pairs_slots = ns;
    return 0;
}

static bool pair_possible(const tok_vocab *v, uint32_t a, uint32_t b) {
    if (!v->spm_pairs) return true;
    uint64_t k = pair_key(a, b);
    uint32_t mask = v->spm_pairs_slots - 1, i = tok_hash64(k) & mask;
    for (;;) {
        if (v->spm_pairs[i] == k) return true;
        if (v->spm_pairs[i] == UINT64_MAX) return false;
        i = (i + 1) & mask;
    }
}

/* merges the symbols sy[first .. first + count) (a chain) and emits them */
static void spm_chunk(const tok_vocab *v, const char *t, spm_sym *sy, int32_t first, int32_t count,
                      bgheap *h, tok_ids *out) {
    h->n = 0;
    sy[first].prev = -1;
    sy[first + count - 1].next = -1;
    for (int32_t i = first + 1; i < first + count; i++) try_bigram(v, t, sy, i - 1, i, h);
    while (h->n > 0 && !h->oom) {
        spm_bigram b = bg_pop(h);
        spm_sym *L = &sy[b.left];
        if (L->n == 0 || L->next < 0) continue;
        spm_sym *R = &sy[L->next];
        if (R->n == 0 || L->n + R->n != b.size) continue;
        L->n += R->n;
        R->n = 0;
        L->next = R->next;
        if (R->next >= 0) sy[R->next].prev = b.left;
        try_bigram(v, t, sy, L->prev, b.left, h);
        try_bigram(v, t, sy, b.left, L->next, h);
    }
    if (h->oom) {
        out->oom = true;
        return;
    }
    for (int32_t i = first; i >= 0; i = sy[i].next) {
        int32_t id = tok_lookup(v, t + sy[i].off, sy[i].n);
        if (id >= 0) {
            tok_ids_push(out, id);
            continue;
        }
        /* a symbol that is not a token is always a single character here, so llama.cpp's
         * rev_merge lookup never applies: emit its bytes */
        for (uint32_t k = 0; k < sy[i].n; k++) {
            int32_t bt = v->byte_tok[(uint8_t)t[sy[i].off + k]];
            if (bt < 0) bt = v->unk; /* llama.cpp would throw here */
            if (bt >= 0) tok_ids_push(out, bt);
        }
    }
}

void tok_spm_text(const tok_vocab *v, const char *t, size_t n, tok_ids *out, tok_scratch *s) {
    if (n == 0) return;
    if (n > INT32_MAX / 4) {
        out->oom = true;
        return;
    }
    spm_sym *sy = tok_scratch_get(s, 5, n * sizeof *sy);
    bgheap h = {tok_scratch_get(s, 6, 1024 * sizeof(spm_bigram)), 0, 1024, s, false};
    if (!sy || !h.v) {
        out->oom = true;
        return;
    }
    size_t ns = 0;
    for (size_t off = 0; off < n;) {
        size_t l = tok_utf8_len((uint8_t)t[off]);
        if (l > n - off) l = n - off;
        sy[ns].off = (uint32_t)off;
        sy[ns].n = (uint32_t)l;
        sy[ns].prev = (int32_t)ns - 1;
        off += l;
        sy[ns].next = off == n ? -1 : (int32_t)ns + 1;
        ns++;
    }
    /* independent chunks between hard boundaries */
    int32_t first = 0;
    uint32_t prev_code = unit_code((const uint8_t *)t, sy[0].n);
    for (size_t i = 1; i <= ns; i++) {
        uint32_t code = 0;
        bool cut = i == ns;
        if (!cut) {
            code = unit_code((const uint8_t *)t + sy[i].off, sy[i].n);
            cut = !pair_possible(v, prev_code, code);
        }
        if (cut) {
            spm_chunk(v, t, sy, first, (int32_t)i - first, &h, out);
            first = (int32_t)i;
        }
        prev_code = code;
    }
}
