/* tok_special.c: splitting a text into raw fragments and special tokens, with the result
 * of llama.cpp's tokenizer_st_partition: special tokens (control, user-defined, unknown;
 * control and unknown only when parse_special) are taken longest first, each one at all
 * its leftmost non-overlapping occurrences in the text not yet taken, honouring the
 * LSTRIP/RSTRIP attributes. Instead of one scan of the text per special token (too slow
 * with thousands of user-defined tokens) one pass over a trie collects every occurrence,
 * then the occurrences are accepted in that priority order against a byte map. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok_internal.h"

struct tok_trie {
    uint64_t *keys; /* [n_slots] node << 8 | byte, UINT64_MAX empty */
    int32_t *child; /* [n_slots] */
    uint32_t n_slots;
    int32_t *term; /* [n_nodes] rank in v->special of the token ending here, or -1 */
    int32_t n_nodes, cap_nodes;
    bool first[256]; /* bytes that start some special token */
};

static int32_t trie_get(const struct tok_trie *t, int32_t node, uint8_t b) {
    uint64_t key = (uint64_t)(uint32_t)node << 8 | b;
    uint32_t mask = t->n_slots - 1, i = tok_hash64(key) & mask;
    for (;;) {
        if (t->keys[i] == key) return t->child[i];
        if (t->keys[i] == UINT64_MAX) return -1;
        i = (i + 1) & mask;
    }
}

static int32_t trie_new_node(struct tok_trie *t) {
    if (t->n_nodes == t->cap_nodes) {
        t->cap_nodes = t->cap_nodes ? t->cap_nodes * 2 : 256;
        t->term = fr_xrealloc(t->term, sizeof *t->term * (size_t)t->cap_nodes);
    }
    t->term[t->n_nodes] = -1;
    return t->n_nodes++;
}

void tok_trie_free(struct tok_trie *t) {
    if (!t) return;
    free(t->keys);
    free(t->child);
    free(t->term);
    free(t);
}

int tok_special_build(tok_vocab *v) {
    struct tok_trie *t = fr_xcalloc(1, sizeof *t);
    size_t total = 1;
    for (int i = 0; i < v->n_special; i++) total += v->strs.len[v->special[i]];
    t->n_slots = 16;
    while (t->n_slots < total * 2) t->n_slots *= 2;
    t->keys = fr_xmalloc(sizeof *t->keys * t->n_slots);
    t->child = fr_xmalloc(sizeof *t->child * t->n_slots);
    memset(t->keys, 0xFF, sizeof *t->keys * t->n_slots);
    trie_new_node(t); /* root */
    for (int r = 0; r < v->n_special; r++) {
        int32_t id = v->special[r];
        const uint8_t *s = (const uint8_t *)tok_strtab_str(&v->strs, id);
        uint32_t n = v->strs.len[id];
        if (n == 0) continue;
        t->first[s[0]] = true;
        int32_t node = 0;
        for (uint32_t k = 0; k < n; k++) {
            int32_t c = trie_get(t, node, s[k]);
            if (c < 0) {
                c = trie_new_node(t);
                uint64_t key = (uint64_t)(uint32_t)node << 8 | s[k];
                uint32_t mask = t->n_slots - 1, i = tok_hash64(key) & mask;
                while (t->keys[i] != UINT64_MAX) i = (i + 1) & mask;
                t->keys[i] = key;
                t->child[i] = c;
            }
            node = c;
        }
        t->term[node] = r;
    }
    v->trie = t;
    return 0;
}

typedef struct occ {
    uint32_t rank;
    uint32_t pos;
} occ; /* pos < 4 GiB */
typedef struct acc {
    size_t pos, len;
    int32_t id;
} acc;

static int occ_cmp(const void *a, const void *b) {
    const occ *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int acc_cmp(const void *a, const void *b) {
    const acc *x = a, *y = b;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static bool push_frag(tok_frag **f, size_t *n, size_t *cap, size_t off, size_t len, int32_t id) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        tok_frag *p = realloc(*f, nc * sizeof *p);
        if (!p) return false;
        *f = p;
        *cap = nc;
    }
    (*f)[(*n)++] = (tok_frag){off, len, id};
    return true;
}

int tok_partition(const tok_vocab *v, const char *text, size_t len, bool parse_special,
                  tok_frag **frags, size_t *n_frags, fr_err *err) {
    *frags = NULL;
    *n_frags = 0;
    size_t nf = 0, capf = 0;
    tok_frag *f = NULL;
    if (len == 0) return 0;
    const struct tok_trie *t = v->trie;
    const uint8_t *s = (const uint8_t *)text;
    uint32_t skip = parse_special ? 0 : (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN);
    /* 1. every occurrence of every eligible special token */
    occ *oc = NULL;
    size_t no = 0, capo = 0;
    if (t && v->n_special > 0 && len < UINT32_MAX) {
        for (size_t p = 0; p < len; p++) {
            if (!t->first[s[p]]) continue;
            int32_t node = 0;
            for (size_t q = p; q < len; q++) {
                node = trie_get(t, node, s[q]);
                if (node < 0) break;
                int32_t r = t->term[node];
                if (r >= 0 && !(v->attr[v->special[r]] & skip)) {
                    if (no == capo) {
                        capo = capo ? capo * 2 : 64;
                        occ *np = realloc(oc, capo * sizeof *np);
                        if (!np) {
                            free(oc);
                            return fr_fail(err, FR_ENOMEM, "out of memory");
                        }
                        oc = np;
                    }
                    oc[no++] = (occ){(uint32_t)r, (uint32_t)p};
                }
            }
        }
    }
    if (no == 0) {
        free(oc);
        if (!push_frag(&f, &nf, &capf, 0, len, -1)) return fr_fail(err, FR_ENOMEM, "out of memory");
        *frags = f;
        *n_frags = nf;
        return 0;
    }
    /* 2. accept them in priority order against the map of taken bytes */
    qsort(oc, no, sizeof *oc, occ_cmp);
    uint8_t *taken = calloc(len, 1); /* 0 free, 1 token, 2 stripped */
    acc *ac = malloc(no * sizeof *ac);
    if (!taken || !ac) {
        free(oc);
        free(taken);
        free(ac);
        return fr_fail(err, FR_ENOMEM, "out of memory");
    }
    size_t na = 0;
    for (size_t i = 0; i < no; i++) {
        int32_t id = v->special[oc[i].rank];
        size_t p = oc[i].pos, l = v->strs.len[id];
        bool free_run = true;
        for (size_t k = 0; k < l && free_run; k++) free_run = taken[p + k] == 0;
        if (!free_run) continue;
        memset(taken + p, 1, l);
        ac[na++] = (acc){p, l, id};
        if (v->attr[id] & TOK_ATTR_LSTRIP)
            for (size_t k = p; k > 0 && taken[k - 1] == 0 && isspace(s[k - 1]); k--)
                taken[k - 1] = 2;
        if (v->attr[id] & TOK_ATTR_RSTRIP)
            for (size_t k = p + l; k < len && taken[k] == 0 && isspace(s[k]); k++) taken[k] = 2;
    }
    free(oc);
    /* 3. fragments in text order */
    qsort(ac, na, sizeof *ac, acc_cmp);
    size_t cur = 0;
    bool ok = true;
    for (size_t i = 0; i <= na && ok; i++) {
        size_t end = i < na ? ac[i].pos : len;
        while (cur < end && ok) {
            while (cur < end && taken[cur] == 2) cur++;
            size_t st = cur;
            while (cur < end && taken[cur] == 0) cur++;
            if (cur > st) ok = push_frag(&f, &nf, &capf, st, cur - st, -1);
        }
        if (i < na && ok) {
            ok = push_frag(&f, &nf, &capf, ac[i].pos, ac[i].len, ac[i].id);
            cur = ac[i].pos + ac[i].len;
        }
    }
    free(taken);
    free(ac);
    if (!ok) {
        free(f);
        return fr_fail(err, FR_ENOMEM, "out of memory");
    }
    *frags = f;
    *n_frags = nf;
    return 0;
}
