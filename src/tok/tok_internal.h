/* tok_internal.h: what the tokenizer files share: the vocab structure, token attributes,
 * the string interning table, Unicode helpers (llama.cpp's lenient UTF-8 and codepoint
 * categories), the pre-tokenizer and the BPE / SPM word encoders. Not a public API. */
#ifndef FR_TOK_INTERNAL_H
#define FR_TOK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "tok/tok.h"

/* ---- token attributes (llama.cpp's llama_token_attr bits) ---- */
enum {
    TOK_ATTR_UNDEFINED = 0,
    TOK_ATTR_UNKNOWN = 1 << 0,
    TOK_ATTR_UNUSED = 1 << 1,
    TOK_ATTR_NORMAL = 1 << 2,
    TOK_ATTR_CONTROL = 1 << 3,
    TOK_ATTR_USER_DEFINED = 1 << 4,
    TOK_ATTR_BYTE = 1 << 5,
    TOK_ATTR_NORMALIZED = 1 << 6,
    TOK_ATTR_LSTRIP = 1 << 7,
    TOK_ATTR_RSTRIP = 1 << 8,
    TOK_ATTR_SINGLE_WORD = 1 << 9,
};

/* ---- Unicode (tok_unicode.c) ---- */
/* codepoint category flags, as llama.cpp's unicode_cpt_flags (low byte) */
enum {
    TOK_CF_UNDEF = 0x01,  /* unassigned (Cn) or out of range */
    TOK_CF_NUMBER = 0x02, /* \p{N} */
    TOK_CF_LETTER = 0x04, /* \p{L} */
    TOK_CF_SEP = 0x08,    /* \p{Z} */
    TOK_CF_MARK = 0x10,   /* \p{M} */
    TOK_CF_PUNCT = 0x20,  /* \p{P} */
    TOK_CF_SYMBOL = 0x40, /* \p{S} */
    TOK_CF_CONTROL = 0x80 /* \p{C} other than Cn */
};
#define TOK_MAX_CPT 0x110000u

/* The category table (TOK_MAX_CPT bytes), built once from PCRE2's Unicode tables. */
const uint8_t *tok_cpt_table(void);
static inline uint8_t tok_cpt_flags(const uint8_t *tab, uint32_t c) {
    return c < TOK_MAX_CPT ? tab[c] : TOK_CF_UNDEF;
}
/* llama.cpp's whitespace set (Unicode White_Space, 25 codepoints) */
static inline bool tok_cpt_is_ws(uint32_t c) {
    if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D);
    if (c < 0x85) return false;
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
/* Number of bytes of the UTF-8 sequence a lead byte announces (llama.cpp's table: 1 for
 * continuation bytes, 4 for F8..FF). */
static inline size_t tok_utf8_len(uint8_t c) {
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
}
/* Decodes s[0..n) into codepoints the way llama.cpp's unicode_cpts_from_utf8 does (an
 * undecodable byte becomes U+FFFD and is skipped alone). out holds at least n entries;
 * returns the count. */
size_t tok_utf8_decode(uint32_t *out, const char *s, size_t n);
/* Encodes one codepoint (values above 0x10FFFF are written with a 4-byte pattern);
 * returns the byte count (1..4). */
size_t tok_utf8_put(char *out, uint32_t c);
/* GPT-2 byte-to-unicode mapping: bytes '!'..'~', 0xA1..0xAC, 0xAE..0xFF stand for
 * themselves; the other 68 bytes get codepoints 256, 257, ... in byte order. */
static inline uint32_t tok_byte_to_cpt(uint8_t b) {
    if (b <= 0x20) return 256u + b;
    if (b >= 0x7F && b <= 0xA0) return 289u + (b - 0x7Fu);
    if (b == 0xAD) return 323u;
    return b;
}
/* inverse: the byte a codepoint stands for, -1 when it is not in the mapping */
static inline int tok_cpt_to_byte(uint32_t c) {
    if (c < 256) return (c <= 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD) ? -1 : (int)c;
    if (c <= 288) return (int)(c - 256);
    if (c <= 322) return (int)(c - 289 + 0x7F);
    if (c == 323) return 0xAD;
    return -1;
}

/* ---- string interning (tok_vocab.c) ---- */
typedef struct tok_strtab {
    char *arena; /* all strings, back to back */
    size_t arena_len, arena_cap;
    uint64_t *off; /* [n] start of string i in arena */
    uint32_t *len; /* [n] */
    uint32_t n, cap;
    int32_t *slots;   /* [n_slots] open addressing: string index or -1 */
    uint32_t n_slots; /* power of two */
} tok_strtab;

void tok_strtab_init(tok_strtab *t, uint32_t expect);
void tok_strtab_free(tok_strtab *t);
/* index of s, or -1 */
int32_t tok_strtab_find(const tok_strtab *t, const char *s, size_t n);
/* index of s, adding it if absent; *added tells which */
int32_t tok_strtab_intern(tok_strtab *t, const char *s, size_t n, bool *added);
static inline const char *tok_strtab_str(const tok_strtab *t, int32_t i) {
    return t->arena + t->off[i];
}

/* ---- pre-tokenizer (tok_pre.c) ---- */
typedef struct tok_pre tok_pre;
typedef struct tok_pre_info {
    const char *name;   /* canonical llama.cpp pre-type name */
    bool clean_spaces;  /* llama_detokenize's space cleanup */
    bool ignore_merges; /* a word that is a whole token skips the merges */
    int add_bos;        /* -1 keep the model default, else forced 0/1 (before the GGUF key) */
    bool no_bos;        /* the pre-type clears the BOS id (chatglm) */
} tok_pre_info;

/* Creates the pre-tokenizer for tokenizer.ggml.pre (NULL or "" means llama.cpp's
 * 'default'). Unknown names fail with FR_EUNSUP naming the value. */
int tok_pre_create(tok_pre **out, const char *name, fr_err *err);
void tok_pre_free(tok_pre *p);
const tok_pre_info *tok_pre_get_info(const tok_pre *p);
/* Splits cpts[0..n) into words. *lens gets the word lengths in codepoints (malloc'd,
 * caller frees; an old *lens is freed first). Returns 0 or FR_ENOMEM/FR_ERANGE. */
int tok_pre_split(const tok_pre *p, const uint32_t *cpts, size_t n, uint32_t **lens, size_t *n_lens,
                  fr_err *err);
/* Comma-separated list of the accepted names (for messages and --help). */
const char *tok_pre_names(void);

/* custom splitters (tok_pre_custom.c), mirroring llama.cpp's hand-written ones. Each
 * takes the segments (lengths) in seg and appends the word lengths to out. */
typedef struct tok_lens {
    uint32_t *v;
    size_t n, cap;
} tok_lens;
void tok_lens_push(tok_lens *l, uint32_t x);
enum {
    TOK_CUSTOM_GPT2 = 1,
    TOK_CUSTOM_LLAMA3,
    TOK_CUSTOM_QWEN2,
    TOK_CUSTOM_QWEN35,
    TOK_CUSTOM_KIMI_K2,
    TOK_CUSTOM_DIGITS3,
    TOK_CUSTOM_NEWLINES
};
void tok_split_custom(int kind, const uint32_t *cpts, const uint32_t *seg, size_t n_seg,
                      tok_lens *out);

/* ---- the vocabulary ---- */
typedef enum { TOK_MODEL_SPM = 1, TOK_MODEL_BPE = 2 } tok_model;

typedef struct tok_merge_tab {
    uint64_t *keys;   /* [n_slots] (left_sid << 32 | right_sid), UINT64_MAX empty */
    int32_t *rank;    /* [n_slots] */
    int32_t *result;  /* [n_slots] sid of left+right */
    uint32_t n_slots; /* power of two */
    uint32_t n;
} tok_merge_tab;

struct tok_vocab {
    tok_model model;
    char model_name[32]; /* tokenizer.ggml.model */
    char pre_name[64];   /* tokenizer.ggml.pre as given ("" when absent) */
    int32_t n_vocab;
    /* strings: ids 0..n_vocab-1 are the tokens; further ids are merge parts that are not
     * tokens (BPE) */
    tok_strtab strs;
    float *scores;  /* [n_vocab] */
    uint32_t *attr; /* [n_vocab] TOK_ATTR_* */
    int32_t max_token_len;

    /* special ids (-1 none) */
    int32_t bos, eos, eot, eom, unk, sep, pad, mask, nl;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    int32_t *eog;
    int n_eog;
    bool add_bos, add_eos, add_sep, add_space_prefix, remove_extra_ws;
    bool clean_spaces, ignore_merges;

    /* special tokens for partitioning, longest text first */
    int32_t *special;
    int n_special;
    struct tok_trie *trie; /* over the special tokens' texts (tok_special.c) */

    /* BPE */
    tok_pre *pre;
    tok_merge_tab merges;
    int32_t byte_sid[256]; /* sid of the byte-level form of each byte */
    int32_t byte_tok[256]; /* BPE: token of the single-byte string b (fallback), or -1;
                              SPM: byte_to_token(b) (<0xXX> or the raw byte), or -1 */
    /* SPM: adjacent character pairs that occur inside some token (a text boundary between
     * a pair not in this set can never be merged across) */
    uint64_t *spm_pairs;
    uint32_t spm_pairs_slots;
    char *piece_cache;   /* pieces (render_special form) back to back */
    uint64_t *piece_off; /* [n_vocab + 1] */
};

/* merges */
static inline uint32_t tok_hash64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return (uint32_t)k;
}
static inline bool tok_merge_find(const tok_merge_tab *m, int32_t a, int32_t b, int32_t *rank,
                                  int32_t *result) {
    if (!m->n_slots) return false;
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    uint32_t mask = m->n_slots - 1, i = tok_hash64(key) & mask;
    for (;;) {
        uint64_t k = m->keys[i];
        if (k == key) {
            *rank = m->rank[i];
            *result = m->result[i];
            return true;
        }
        if (k == UINT64_MAX) return false;
        i = (i + 1) & mask;
    }
}

/* token id of an exact byte string, -1 if absent */
static inline int32_t tok_lookup(const tok_vocab *v, const char *s, size_t n) {
    int32_t id = tok_strtab_find(&v->strs, s, n);
    return id < v->n_vocab ? id : -1;
}

/* growable id list */
typedef struct tok_ids {
    int32_t *v;
    size_t n, cap;
    bool oom;
} tok_ids;
void tok_ids_push(tok_ids *o, int32_t id);

/* Scratch memory reused across the words of one tok_encode call. */
typedef struct tok_scratch {
    void *buf[8];
    size_t cap[8];
    void *re_ctx; /* pre-tokenizer match state (tok_pre.c) */
} tok_scratch;
/* ensures scratch slot i holds at least n bytes; NULL on OOM */
void *tok_scratch_get(tok_scratch *s, int i, size_t n);
void tok_scratch_free(tok_scratch *s);

/* BPE (tok_bpe.c): encodes one pre-tokenized word given as raw UTF-8 bytes. */
void tok_bpe_word(const tok_vocab *v, const char *w, size_t n, tok_ids *out, tok_scratch *s);
/* SPM (tok_spm.c): builds v->spm_pairs; encodes one text fragment (already prefixed
 * and ▁-escaped). */
int tok_spm_build(tok_vocab *v, fr_err *err);
void tok_spm_text(const tok_vocab *v, const char *t, size_t n, tok_ids *out, tok_scratch *s);

/* special-token partitioning (tok_special.c) */
typedef struct tok_frag {
    size_t off, len;
    int32_t id; /* -1: raw text */
} tok_frag;
int tok_special_build(tok_vocab *v);
void tok_trie_free(struct tok_trie *t);
int tok_partition(const tok_vocab *v, const char *text, size_t len, bool parse_special,
                  tok_frag **frags, size_t *n_frags, fr_err *err);

/* pieces (tok_detok.c): builds v->piece_cache */
int tok_build_pieces(tok_vocab *v, fr_err *err);

#endif
