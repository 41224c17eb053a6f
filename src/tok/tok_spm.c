/* tok_spm.c: SentencePiece-style BPE as llama.cpp's llm_tokenizer_spm does it: the text
 * (already space-prefixed and with ' ' escaped to U+2581) is cut into UTF-8 characters,
 * then the adjacent pair whose concatenation is a token with the highest score is merged
 * (ties: leftmost), until no pair forms a token. Leftover symbols that are not tokens
 * become byte tokens (<0xXX>), or the unknown token when the vocab has no byte tokens. */
#include <string.h>

#include "tok/tok_internal.h"

typedef struct spm_sym { int32_t prev, next; uint32_t off, n; } spm_sym;
typedef struct spm_bigram { float score; int32_t left, right; uint32_t size; } spm_bigram;

/* max-heap: higher score first, then smaller left */
static bool bg_before(const spm_bigram *a, const spm_bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void bg_push(spm_bigram *h, size_t *n, spm_bigram x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bg_before(&x, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static spm_bigram bg_pop(spm_bigram *h, size_t *n) {
    spm_bigram top = h[0], x = h[--(*n)];
    size_t i = 0, m = *n;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= m) break;
        size_t c = (l + 1 < m && bg_before(&h[l + 1], &h[l])) ? l + 1 : l;
        if (!bg_before(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = x;
    return top;
}

static void try_bigram(const tok_vocab *v, const char *t, const spm_sym *sy, int32_t l, int32_t r,
                       spm_bigram *h, size_t *hn) {
    if (l < 0 || r < 0) return;
    uint32_t size = sy[l].n + sy[r].n;
    int32_t id = tok_lookup(v, t + sy[l].off, size);
    if (id < 0) return;
    spm_bigram b = {v->scores[id], l, r, size};
    bg_push(h, hn, b);
}

void tok_spm_text(const tok_vocab *v, const char *t, size_t n, tok_ids *out, tok_scratch *s) {
    if (n == 0) return;
    if (n > INT32_MAX / 4) { out->oom = true; return; }
    spm_sym *sy = tok_scratch_get(s, 5, n * sizeof *sy);
    spm_bigram *h = tok_scratch_get(s, 6, (3 * n + 4) * sizeof *h);
    if (!sy || !h) { out->oom = true; return; }
    size_t ns = 0, hn = 0;
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
    for (size_t i = 1; i < ns; i++) try_bigram(v, t, sy, (int32_t)i - 1, (int32_t)i, h, &hn);
    while (hn > 0) {
        spm_bigram b = bg_pop(h, &hn);
        spm_sym *L = &sy[b.left], *R = &sy[b.right];
        if (L->n == 0 || R->n == 0 || L->n + R->n != b.size) continue;
        L->n += R->n;
        R->n = 0;
        L->next = R->next;
        if (R->next >= 0) sy[R->next].prev = b.left;
        try_bigram(v, t, sy, L->prev, b.left, h, &hn);
        try_bigram(v, t, sy, b.left, L->next, h, &hn);
    }
    for (int32_t i = 0; i >= 0; i = sy[i].next) {
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
