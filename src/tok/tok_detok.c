/* tok_detok.c: token ids back to bytes with llama_token_to_piece / llama_detokenize
 * semantics: per-token pieces (byte-level decoding for BPE, U+2581 -> ' ' and <0xXX> byte
 * tokens for SPM, control/unknown tokens only when rendering specials), a cache of all
 * pieces built at load, the streaming decoder that holds back an incomplete UTF-8
 * sequence, and whole-sequence detokenization with llama.cpp's space cleanup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok_internal.h"

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n) nc *= 2;
        char *p = realloc(b->p, nc);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* llama.cpp's token_to_byte: strtol of the two characters after "<0x" */
static uint8_t byte_of_token(const char *t, size_t n) {
    int v = 0;
    for (size_t i = 3; i < 5 && i < n; i++) {
        int h = hexval(t[i]);
        if (h < 0) break;
        v = v * 16 + h;
    }
    return (uint8_t)v;
}

/* the piece of id when rendering specials (the cached form) */
static void piece_of(const tok_vocab *v, int32_t id, sbuf *b) {
    const char *t = tok_strtab_str(&v->strs, id);
    size_t n = v->strs.len[id];
    uint32_t a = v->attr[id];
    if (a & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED)) {
        sb_put(b, t, n);
    } else if (a & TOK_ATTR_NORMAL) {
        if (v->model == TOK_MODEL_SPM) {
            for (size_t i = 0; i < n;) {
                if (i + 3 <= n && !memcmp(t + i, "\xe2\x96\x81", 3)) {
                    sb_put(b, " ", 1);
                    i += 3;
                } else {
                    sb_put(b, t + i, 1);
                    i++;
                }
            }
        } else { /* byte-level decode */
            uint32_t stackc[64];
            uint32_t *c = n <= 64 ? stackc : malloc(n * sizeof *c);
            if (!c) {
                b->oom = true;
                return;
            }
            size_t nc = tok_utf8_decode(c, t, n);
            for (size_t i = 0; i < nc; i++) {
                int byte = tok_cpt_to_byte(c[i]);
                if (byte >= 0) {
                    char ch = (char)byte;
                    sb_put(b, &ch, 1);
                } else {
                    char u[4], hex[8];
                    size_t ul = tok_utf8_put(u, c[i]);
                    sb_put(b, "[UNK_BYTE_0x", 12);
                    for (size_t k = 0; k < ul; k++) {
                        snprintf(hex, sizeof hex, "%02x", (uint8_t)u[k]);
                        sb_put(b, hex, 2);
                    }
                    sb_put(b, t, n);
                    sb_put(b, "]", 1);
                }
            }
            if (c != stackc) free(c);
        }
    } else if (a & TOK_ATTR_BYTE) {
        char ch = (char)byte_of_token(t, n);
        sb_put(b, &ch, 1);
    }
    /* unused / undefined tokens produce nothing */
}

int tok_build_pieces(tok_vocab *v, fr_err *err) {
    sbuf b = {0};
    v->piece_off = malloc(sizeof *v->piece_off * ((size_t)v->n_vocab + 1));
    if (!v->piece_off) return fr_fail(err, FR_ENOMEM, "out of memory");
    for (int32_t id = 0; id < v->n_vocab; id++) {
        v->piece_off[id] = b.n;
        piece_of(v, id, &b);
    }
    v->piece_off[v->n_vocab] = b.n;
    if (b.oom) {
        free(b.p);
        return fr_fail(err, FR_ENOMEM, "out of memory");
    }
    v->piece_cache = b.p ? b.p : malloc(1);
    return 0;
}

/* the piece's bytes (NULL/0 when it renders as nothing) */
static const char *piece_ref(const tok_vocab *v, int32_t id, bool render_special, size_t *n) {
    *n = 0;
    if (id < 0 || id >= v->n_vocab) return NULL;
    if (!render_special && (v->attr[id] & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL))) return NULL;
    *n = v->piece_off[id + 1] - v->piece_off[id];
    return v->piece_cache + v->piece_off[id];
}

size_t tok_piece(const tok_vocab *v, int32_t id, bool render_special, char *buf, size_t cap) {
    size_t n;
    const char *p = piece_ref(v, id, render_special, &n);
    if (p && buf) memcpy(buf, p, n < cap ? n : cap);
    return n;
}

/* ---- streaming ---- */

/* length of the incomplete UTF-8 sequence at the end of b[0..n) (0 when complete or
 * when the tail can never complete) */
static size_t incomplete_tail(const uint8_t *b, size_t n) {
    size_t k = 0; /* continuation bytes at the end */
    while (k < n && k < 3 && (b[n - 1 - k] & 0xC0) == 0x80) k++;
    if (k == n) return 0;
    uint8_t lead = b[n - 1 - k];
    size_t need;
    if (lead >= 0xC2 && lead <= 0xDF)
        need = 2;
    else if (lead >= 0xE0 && lead <= 0xEF)
        need = 3;
    else if (lead >= 0xF0 && lead <= 0xF4)
        need = 4;
    else
        return 0;
    return k + 1 < need ? k + 1 : 0;
}

size_t tok_stream_push(tok_stream *s, const tok_vocab *v, int32_t id, char *out, size_t cap) {
    size_t n;
    const char *p = piece_ref(v, id, s->render_special, &n);
    if (n == 0) return 0;
    /* pending bytes + piece, held back tail kept in s->pend */
    size_t total = (size_t)s->n_pend + n;
    uint8_t tail[8];
    size_t keep;
    {
        /* the tail is at most 3 bytes and lies in pend + piece */
        uint8_t last[8];
        size_t m = total < 7 ? total : 7, j = 0;
        for (size_t i = total - m; i < total; i++)
            last[j++] =
                i < (size_t)s->n_pend ? (uint8_t)s->pend[i] : (uint8_t)p[i - (size_t)s->n_pend];
        keep = incomplete_tail(last, m);
        memcpy(tail, last + m - keep, keep);
    }
    size_t emit = total - keep, w = 0;
    for (size_t i = 0; i < emit; i++) {
        char c = i < (size_t)s->n_pend ? s->pend[i] : p[i - (size_t)s->n_pend];
        if (w < cap) out[w] = c;
        w++;
    }
    memcpy(s->pend, tail, keep);
    s->n_pend = (int)keep;
    return w;
}

size_t tok_stream_flush(tok_stream *s, char *out, size_t cap) {
    size_t n = (size_t)s->n_pend;
    memcpy(out, s->pend, n < cap ? n : cap);
    s->n_pend = 0;
    return n;
}

/* ---- whole sequences ---- */

int tok_detokenize(const tok_vocab *v, const int32_t *ids, size_t n, bool remove_special,
                   bool unparse_special, char **out, size_t *out_len, fr_err *err) {
    *out = NULL;
    *out_len = 0;
    sbuf b = {0};
    bool remove_space = v->add_space_prefix;
    if (remove_special && v->add_bos && n > 0 && ids[0] == v->bos) {
        remove_space = false;
        ids++;
        n--;
    }
    if (remove_special && v->add_eos && n > 0 && ids[n - 1] == v->eos) n--;
    for (size_t i = 0; i < n; i++) {
        size_t pn;
        const char *p = piece_ref(v, ids[i], unparse_special, &pn);
        if (remove_space && pn > 0 && p[0] == ' ') {
            p++;
            pn--;
        }
        remove_space = false;
        if (pn) sb_put(&b, p, pn);
    }
    if (b.oom) {
        free(b.p);
        return fr_fail(err, FR_ENOMEM, "out of memory");
    }
    char *t = b.p;
    size_t total = b.n;
    if (v->clean_spaces && total > 0) {
        /* 1: " ?", " !", " .", " ," lose the space */
        size_t t1 = total, k = 1;
        for (size_t i = 1; i < t1; i++) {
            char x = t[i];
            if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) k--;
            t[k++] = x;
        }
        total = k;
        /* 2: a single apostrophe between spaces loses both */
        size_t t2 = total;
        k = 1;
        for (size_t i = 1; i < t2; i++) {
            char x = t[i];
            if (x == '\'' && i + 1 < t2 && t[i - 1] == ' ' && t[i + 1] == ' ') {
                k--;
                t[++i] = 0;
            }
            t[k++] = x;
        }
        total = k;
        /* 3: " 's", " 'm", " 're", " 've" lose the space */
        size_t t3 = total;
        k = 1;
        for (size_t i = 1; i < t3; i++) {
            char x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < t3) {
                char x1 = t[i + 1];
                if (x1 == 's' || x1 == 'm')
                    k--;
                else if (x1 != 't' && x1 != 'd' && i + 2 < t3) {
                    char x2 = t[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) k--;
                }
            }
            t[k++] = x;
        }
        total = k;
    }
    if (!t) t = malloc(1);
    if (!t) return fr_fail(err, FR_ENOMEM, "out of memory");
    *out = t;
    *out_len = total;
    return 0;
}
