/* tok_pre_custom.c: the hand-written word splitters llama.cpp uses instead of a regex for
 * its most common pre-tokenizer patterns (gpt2, llama3, qwen2, qwen35, kimi-k2, digit
 * grouping, newline runs). They differ from a textbook regex engine in corner cases
 * (e.g. \s+(?!\S) with non-ASCII whitespace, a lone space before an unassigned
 * codepoint), so the rules below follow llama.cpp's behaviour step by step. */
#include "tok/tok_internal.h"

enum { F_WS = 0x100 };

typedef struct seg_ctx {
    const uint32_t *cpts;
    const uint8_t *cat;
    size_t ini, end, prev_end;
    tok_lens *out;
} seg_ctx;

#define OUT_OF_RANGE 0xFFFFFFFFu

static inline uint32_t get_cpt(const seg_ctx *c, size_t pos) {
    return (pos >= c->ini && pos < c->end) ? c->cpts[pos] : OUT_OF_RANGE;
}

/* category flags plus F_WS; 0 outside the segment (llama.cpp's empty flags) */
static inline unsigned get_flags(const seg_ctx *c, size_t pos) {
    if (pos < c->ini || pos >= c->end) return 0;
    uint32_t cp = c->cpts[pos];
    return tok_cpt_flags(c->cat, cp) | (tok_cpt_is_ws(cp) ? F_WS : 0);
}

static inline size_t add_token(seg_ctx *c, size_t end) {
    size_t len = end - c->prev_end;
    if (len > 0) tok_lens_push(c->out, (uint32_t)len);
    c->prev_end = end;
    return len;
}

static inline uint32_t lower_ascii(uint32_t c) {
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

#define IS_L(f) ((f)&TOK_CF_LETTER)
#define IS_N(f) ((f)&TOK_CF_NUMBER)
#define IS_M(f) ((f)&TOK_CF_MARK)
#define IS_WS(f) ((f)&F_WS)

/* 's|'t|'re|'ve|'m|'ll|'d (case-insensitive when ci); returns the length matched */
static size_t contraction(const seg_ctx *c, size_t pos, bool ci) {
    if (get_cpt(c, pos) != '\'' || pos + 1 >= c->end) return 0;
    uint32_t n1 = get_cpt(c, pos + 1);
    if (ci) n1 = lower_ascii(n1);
    if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') return 2;
    if (pos + 2 < c->end) {
        uint32_t n2 = get_cpt(c, pos + 2);
        if (ci) n2 = lower_ascii(n2);
        if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l'))
            return 3;
    }
    return 0;
}

/* \s*[\r\n]+ | \s+(?!\S) | \s+ ; returns false when nothing matched */
static bool whitespace_tail(seg_ctx *c, size_t *ppos, bool with_newlines) {
    size_t pos = *ppos, nws = 0, last_rn = 0;
    while (IS_WS(get_flags(c, pos + nws))) {
        uint32_t c2 = get_cpt(c, pos + nws);
        if (with_newlines && (c2 == '\r' || c2 == '\n')) last_rn = pos + nws + 1;
        nws++;
    }
    if (last_rn > 0) {
        *ppos = last_rn;
        add_token(c, *ppos);
        return true;
    }
    if (nws > 1 && get_cpt(c, pos + nws) != OUT_OF_RANGE) {
        *ppos = pos + nws - 1;
        add_token(c, *ppos);
        return true;
    }
    if (nws > 0) {
        *ppos = pos + nws;
        add_token(c, *ppos);
        return true;
    }
    return false;
}

static void split_gpt2(seg_ctx *c) {
    for (size_t pos = c->ini; pos < c->end;) {
        uint32_t cpt = get_cpt(c, pos);
        unsigned flags = get_flags(c, pos);
        size_t k = contraction(c, pos, false);
        if (k) {
            pos += add_token(c, pos + k);
            continue;
        }
        unsigned f2 = cpt == ' ' ? get_flags(c, pos + 1) : flags;
        if (IS_L(f2)) { /* ' ?\p{L}+' */
            pos += cpt == ' ';
            while (IS_L(f2)) f2 = get_flags(c, ++pos);
            add_token(c, pos);
            continue;
        }
        if (IS_N(f2)) { /* ' ?\p{N}+' */
            pos += cpt == ' ';
            while (IS_N(f2)) f2 = get_flags(c, ++pos);
            add_token(c, pos);
            continue;
        }
        if (!(IS_WS(f2) || IS_L(f2) || IS_N(f2)) && f2) { /* ' ?[^\s\p{L}\p{N}]+' */
            pos += cpt == ' ';
            while (!(IS_WS(f2) || IS_L(f2) || IS_N(f2)) && f2) f2 = get_flags(c, ++pos);
            add_token(c, pos);
            continue;
        }
        if (whitespace_tail(c, &pos, false)) continue;
        add_token(c, ++pos); /* no match */
    }
}

/* llama3 (digits = 3), qwen2 (digits = 1), qwen35 (digits = 1, marks count as letters) */
static void split_llama3(seg_ctx *c, int digits, bool marks) {
    for (size_t pos = c->ini; pos < c->end;) {
        uint32_t cpt = get_cpt(c, pos);
        unsigned flags = get_flags(c, pos);
        size_t k = contraction(c, pos, true);
        if (k) {
            pos += add_token(c, pos + k);
            continue;
        }
        /* [^\r\n\p{L}\p{N}]?\p{L}+  (qwen35: [\p{L}\p{M}]+) */
        if (!(cpt == '\r' || cpt == '\n' || IS_N(flags))) {
            unsigned fn = get_flags(c, pos + 1);
            bool start = IS_L(flags) || IS_L(fn) || (marks && (IS_M(flags) || IS_M(fn)));
            if (start) {
                pos++;
                for (;;) {
                    unsigned f = get_flags(c, pos);
                    if (!(IS_L(f) || (marks && IS_M(f)))) break;
                    pos++;
                }
                add_token(c, pos);
                continue;
            }
        }
        if (IS_N(flags)) { /* \p{N}{1,digits} */
            if (digits == 1) {
                pos++;
                add_token(c, pos);
                continue;
            }
            size_t ini = pos;
            while (IS_N(get_flags(c, pos))) {
                if (++pos - ini >= (size_t)digits) {
                    add_token(c, pos);
                    ini = pos;
                }
            }
            add_token(c, pos);
            continue;
        }
        /* ' ?[^\s\p{L}\p{N}]+[\r\n]*'; note the first test uses the flags of pos itself */
        unsigned f2 = cpt == ' ' ? get_flags(c, pos + 1) : flags;
        bool other = !(IS_WS(f2) || IS_L(f2) || IS_N(f2) || (marks && IS_M(f2)));
        if (other && flags) {
            pos += cpt == ' ';
            while (!(IS_WS(f2) || IS_L(f2) || IS_N(f2) || (marks && IS_M(f2))) && f2)
                f2 = get_flags(c, ++pos);
            uint32_t c2 = get_cpt(c, pos);
            while (c2 == '\r' || c2 == '\n') c2 = get_cpt(c, ++pos);
            add_token(c, pos);
            continue;
        }
        if (whitespace_tail(c, &pos, true)) continue;
        add_token(c, ++pos);
    }
}

static bool is_han(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0x2CEB0 && c <= 0x2EBEF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x2F800 && c <= 0x2FA1F);
}

static void split_kimi(seg_ctx *c) {
    for (size_t pos = c->ini; pos < c->end;) {
        uint32_t cpt = get_cpt(c, pos);
        unsigned flags = get_flags(c, pos);
        if (is_han(cpt)) { /* [\p{Han}]+ */
            while (is_han(get_cpt(c, pos))) pos++;
            add_token(c, pos);
            continue;
        }
        bool lead_ok = !(cpt == '\r' || cpt == '\n' || IS_L(flags) || IS_N(flags));
        bool letter_pat = (IS_L(flags) && !is_han(cpt)) ||
                          (lead_ok && IS_L(get_flags(c, pos + 1)) && !is_han(get_cpt(c, pos + 1)));
        if (letter_pat) {
            bool has_lead = false, has_letters = false;
            if (lead_ok) {
                has_lead = true;
                pos++;
            }
            while (IS_L(get_flags(c, pos)) && !is_han(get_cpt(c, pos))) {
                has_letters = true;
                pos++;
            }
            if (has_letters || (!has_lead && IS_L(get_flags(c, pos)) && !is_han(get_cpt(c, pos)))) {
                if (!has_letters) pos++;
                while (IS_L(get_flags(c, pos)) && !is_han(get_cpt(c, pos))) pos++;
                pos += contraction(c, pos, true);
                add_token(c, pos);
                continue;
            } else if (has_lead) {
                pos--;
            }
        }
        if (IS_N(flags)) {
            size_t ini = pos;
            while (IS_N(get_flags(c, pos))) {
                if (++pos - ini >= 3) {
                    add_token(c, pos);
                    ini = pos;
                }
            }
            add_token(c, pos);
            continue;
        }
        unsigned f2 = cpt == ' ' ? get_flags(c, pos + 1) : flags;
        if (!(IS_WS(f2) || IS_L(f2) || IS_N(f2)) && f2) {
            pos += cpt == ' ';
            while (!(IS_WS(f2) || IS_L(f2) || IS_N(f2)) && f2) f2 = get_flags(c, ++pos);
            uint32_t c2 = get_cpt(c, pos);
            while (c2 == '\r' || c2 == '\n') c2 = get_cpt(c, ++pos);
            add_token(c, pos);
            continue;
        }
        if (whitespace_tail(c, &pos, true)) continue;
        add_token(c, ++pos);
    }
}

/* digit runs split into a leading 1-2 digits then groups of 3 (afmoe, tiny_aya) */
static void split_digits3(seg_ctx *c) {
    for (size_t pos = c->ini; pos < c->end;) {
        if (IS_N(get_flags(c, pos))) {
            size_t start = pos, count = 0;
            while (pos < c->end && IS_N(get_flags(c, pos))) {
                count++;
                pos++;
            }
            size_t rem = count % 3, cur = start;
            if (rem) {
                add_token(c, cur + rem);
                cur += rem;
            }
            while (cur < start + count) {
                add_token(c, cur + 3);
                cur += 3;
            }
            continue;
        }
        pos++;
    }
    if (c->prev_end < c->end) add_token(c, c->end);
}

static void split_newlines(seg_ctx *c) {
    size_t pos = c->ini;
    while (pos < c->end) {
        bool nl = c->cpts[pos] == '\n';
        size_t start = pos;
        while (pos < c->end && (c->cpts[pos] == '\n') == nl) pos++;
        tok_lens_push(c->out, (uint32_t)(pos - start));
        c->prev_end = pos;
    }
}

void tok_split_custom(int kind, const uint32_t *cpts, const uint32_t *seg, size_t n_seg,
                      tok_lens *out) {
    seg_ctx c = {cpts, tok_cpt_table(), 0, 0, 0, out};
    size_t start = 0;
    for (size_t i = 0; i < n_seg; i++) {
        c.ini = c.prev_end = start;
        c.end = start + seg[i];
        start = c.end;
        switch (kind) {
        case TOK_CUSTOM_GPT2:
            split_gpt2(&c);
            break;
        case TOK_CUSTOM_LLAMA3:
            split_llama3(&c, 3, false);
            break;
        case TOK_CUSTOM_QWEN2:
            split_llama3(&c, 1, false);
            break;
        case TOK_CUSTOM_QWEN35:
            split_llama3(&c, 1, true);
            break;
        case TOK_CUSTOM_KIMI_K2:
            split_kimi(&c);
            break;
        case TOK_CUSTOM_DIGITS3:
            split_digits3(&c);
            break;
        case TOK_CUSTOM_NEWLINES:
            split_newlines(&c);
            break;
        default:
            tok_lens_push(out, seg[i]);
            break;
        }
    }
}
