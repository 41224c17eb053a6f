/* jinja_lex.c: template preprocessing and tokenizing, following @huggingface/jinja's lexer
 * (the reference the chat-template tests compare with): the trailing newline is dropped,
 * lstrip_blocks / trim_blocks are applied to the source text as its regular expressions do,
 * the transformers-only {% generation %} tags are removed, then the text is cut into tokens
 * ({%- -%} {{- -}} {#- -#} strip whitespace; string escapes; signed number literals).
 * Extension: {% raw %}...{% endraw %} bodies become TK_RAW text tokens. Line numbers are
 * those of the original source (removed newlines are remembered as "ghosts"). */
#include "jinja/jinja_int.h"

#include <stdlib.h>
#include <string.h>

/* A preprocessed text plus the positions where newlines were removed. */
typedef struct pp_text {
    char *s;
    size_t n;
    size_t *ghost;
    size_t ng, gcap;
} pp_text;

typedef struct pp_out {
    jj_buf b;
    size_t *ghost;
    size_t ng, gcap;
} pp_out;

static int add_ghost(pp_out *o, size_t pos) {
    if (o->ng == o->gcap) {
        size_t cap = o->gcap ? o->gcap * 2 : 64;
        size_t *g = realloc(o->ghost, cap * sizeof *g);
        if (!g) return -1;
        o->ghost = g;
        o->gcap = cap;
    }
    o->ghost[o->ng++] = pos;
    return 0;
}

/* Moves the input ghosts at positions <= i to the current output position. */
static int flush_ghosts(pp_out *o, const pp_text *in, size_t *gi, size_t i) {
    while (*gi < in->ng && in->ghost[*gi] <= i) {
        if (add_ghost(o, o->b.n)) return -1;
        (*gi)++;
    }
    return 0;
}

static int pp_abort(pp_out *o) {
    jj_buf_free(&o->b);
    free(o->ghost);
    return -1;
}

/* Ends a pass: the input ghosts left go to the end of the output, which replaces the input
 * (an empty output is still a string). -1 (and o freed) when out of memory. */
static int pp_finish(pp_text *in, pp_out *o, size_t *gi) {
    if (flush_ghosts(o, in, gi, SIZE_MAX)) return pp_abort(o);
    if (!o->b.p && jj_buf_put(&o->b, "", 0)) return pp_abort(o);
    free(in->s);
    free(in->ghost);
    in->s = o->b.p;
    in->n = o->b.n;
    in->ghost = o->ghost;
    in->ng = o->ng;
    in->gcap = o->gcap;
    return 0;
}

static bool is_line_start(const char *s, size_t i) {
    if (i == 0) return true;
    char c = s[i - 1];
    if (c == '\n' || c == '\r') return true;
    /* U+2028 / U+2029 end lines for JavaScript's multiline ^ */
    return i >= 3 && (unsigned char)s[i - 3] == 0xe2 && (unsigned char)s[i - 2] == 0x80 &&
           ((unsigned char)c == 0xa8 || (unsigned char)c == 0xa9);
}

/* template.replace(/^[ \t]*({[#%-])/gm, "$1") */
static int pp_lstrip(pp_text *t) {
    pp_out o = {0};
    size_t gi = 0, i = 0;
    while (i < t->n) {
        if (flush_ghosts(&o, t, &gi, i)) goto oom;
        if (is_line_start(t->s, i)) {
            size_t j = i;
            while (j < t->n && (t->s[j] == ' ' || t->s[j] == '\t')) j++;
            if (j > i && j + 1 < t->n && t->s[j] == '{' && strchr("#%-", t->s[j + 1]) &&
                t->s[j + 1]) {
                i = j;
                continue;
            }
        }
        if (jj_buf_putc(&o.b, t->s[i])) goto oom;
        i++;
    }
    return pp_finish(t, &o, &gi);
oom:
    return pp_abort(&o);
}

/* template.replace(/([#%-]})\n/g, "$1") */
static int pp_trim(pp_text *t) {
    pp_out o = {0};
    size_t gi = 0, i = 0;
    while (i < t->n) {
        if (flush_ghosts(&o, t, &gi, i)) goto oom;
        if (i + 2 < t->n && (t->s[i] == '#' || t->s[i] == '%' || t->s[i] == '-') &&
            t->s[i + 1] == '}' && t->s[i + 2] == '\n') {
            if (jj_buf_put(&o.b, t->s + i, 2)) goto oom;
            if (flush_ghosts(&o, t, &gi, i + 2)) goto oom;
            if (add_ghost(&o, o.b.n)) goto oom;
            i += 3;
            continue;
        }
        if (jj_buf_putc(&o.b, t->s[i])) goto oom;
        i++;
    }
    return pp_finish(t, &o, &gi);
oom:
    return pp_abort(&o);
}

static size_t skip_ws(const char *s, size_t n, size_t i) {
    return i + jj_space_prefix(s + i, n - i);
}

/* template.replace(/([#%-]})\n/g, "$1"): the newline after a block tag goes */
static size_t generation_tag(const char *s, size_t n, size_t i, bool *l, bool *r) {
    if (i + 2 > n || s[i] != '{' || s[i + 1] != '%') return 0;
    size_t j = i + 2;
    *l = j < n && s[j] == '-';
    if (*l) j++;
    j = skip_ws(s, n, j);
    if (n - j >= 3 && !memcmp(s + j, "end", 3) && n - j >= 13 &&
        !memcmp(s + j + 3, "generation", 10))
        j += 3;
    if (n - j < 10 || memcmp(s + j, "generation", 10)) return 0;
    j = skip_ws(s, n, j + 10);
    *r = j < n && s[j] == '-';
    if (*r) j++;
    if (j + 2 > n || s[j] != '%' || s[j + 1] != '}') return 0;
    return j + 2 - i;
}

/* Removes {% generation %} / {% endgeneration %} (with their '-' whitespace control). */
static int pp_generation(pp_text *t) {
    if (!memmem(t->s, t->n, "generation", 10)) return 0;
    pp_out o = {0};
    size_t gi = 0, i = 0, bound = 0; /* bound: output end of the previous match */
    while (i < t->n) {
        if (flush_ghosts(&o, t, &gi, i)) goto oom;
        bool l, r;
        size_t tl = generation_tag(t->s, t->n, i, &l, &r);
        if (tl) {
            if (l && o.b.n > bound) { /* drop the whitespace before the tag */
                size_t cut = jj_space_suffix(o.b.p + bound, o.b.n - bound);
                size_t newn = o.b.n - cut;
                for (size_t k = newn; k < o.b.n; k++)
                    if (o.b.p[k] == '\n' && add_ghost(&o, newn)) goto oom;
                for (size_t k = 0; k < o.ng; k++)
                    if (o.ghost[k] > newn) o.ghost[k] = newn;
                o.b.n = newn;
                o.b.p[newn] = 0;
            }
            i += tl;
            /* the regex's trailing (\s*) takes the whitespace after the tag: dropped with
               '-', kept without, and in both cases out of reach of the next tag's '-' */
            size_t e = skip_ws(t->s, t->n, i);
            for (size_t k = i; k < e; k++) {
                if (flush_ghosts(&o, t, &gi, k)) goto oom;
                if (r) {
                    if (t->s[k] == '\n' && add_ghost(&o, o.b.n)) goto oom;
                } else if (jj_buf_putc(&o.b, t->s[k])) {
                    goto oom;
                }
            }
            i = e;
            bound = o.b.n;
            continue;
        }
        if (jj_buf_putc(&o.b, t->s[i])) goto oom;
        i++;
    }
    return pp_finish(t, &o, &gi);
oom:
    return pp_abort(&o);
}

/* ---------------------------------------------------------------- tokenizer */

typedef struct lexer {
    const char *s;
    size_t n, i;
    jj_tok *toks;
    size_t *pos;
    size_t nt, cap;
    jj_arena *a;
    fr_err *err;
    int curly;
    const pp_text *pp;
} lexer;

static int lx_line(const lexer *lx, size_t pos); /* forward */

static int lx_fail(lexer *lx, int code, size_t pos, const char *msg, const char *detail) {
    return fr_fail(lx->err, code, "%s%s at line %d", msg, detail ? detail : "", lx_line(lx, pos));
}

static int lx_line(const lexer *lx, size_t pos) {
    int line = 1;
    for (size_t k = 0; k < pos && k < lx->n; k++) line += lx->s[k] == '\n';
    for (size_t k = 0; k < lx->pp->ng; k++) line += lx->pp->ghost[k] <= pos;
    return line;
}

static int push(lexer *lx, jj_tok_type type, const char *s, size_t n, size_t pos) {
    if (lx->nt + 1 >= lx->cap) {
        size_t cap = lx->cap ? lx->cap * 2 : 256;
        jj_tok *t = realloc(lx->toks, cap * sizeof *t);
        if (!t) return fr_fail(lx->err, FR_ENOMEM, "out of memory tokenizing the template");
        lx->toks = t;
        size_t *p = realloc(lx->pos, cap * sizeof *p);
        if (!p) return fr_fail(lx->err, FR_ENOMEM, "out of memory tokenizing the template");
        lx->pos = p;
        lx->cap = cap;
    }
    lx->toks[lx->nt] = (jj_tok){.type = type, .s = s, .n = n};
    lx->pos[lx->nt] = pos;
    lx->nt++;
    return 0;
}

static jj_tok_type last_type(const lexer *lx) {
    return lx->nt ? lx->toks[lx->nt - 1].type : TK_EOF;
}

static void strip_trailing_ws(lexer *lx) {
    if (lx->nt && lx->toks[lx->nt - 1].type == TK_TEXT) {
        jj_tok *t = &lx->toks[lx->nt - 1];
        t->n -= jj_space_suffix(t->s, t->n);
        if (!t->n) lx->nt--;
    }
}

static void skip_leading_ws(lexer *lx) {
    lx->i = skip_ws(lx->s, lx->n, lx->i);
}

static bool at(const lexer *lx, const char *lit) {
    size_t l = strlen(lit);
    return lx->n - lx->i >= l && !memcmp(lx->s + lx->i, lit, l);
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 32;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A quoted string starting at lx->i (the quote). */
static int lex_string(lexer *lx) {
    size_t start = lx->i;
    char q = lx->s[lx->i++];
    jj_buf b = {0};
    uint32_t pending_hi = 0; /* a \uD800-\uDBFF waiting for its low half */
    int rc = 0;
    for (;;) {
        if (lx->i >= lx->n) {
            rc = lx_fail(lx, FR_EFORMAT, start, "unterminated string literal", NULL);
            goto out;
        }
        char c = lx->s[lx->i];
        if (c == q) break;
        uint32_t cp = 0;
        bool is_cp = false;
        if (c == '\\') {
            if (++lx->i >= lx->n) {
                rc = lx_fail(lx, FR_EFORMAT, start, "unterminated string literal", NULL);
                goto out;
            }
            char e = lx->s[lx->i++];
            if (e == 'x' || e == 'u') {
                size_t len = e == 'x' ? 2 : 4;
                if (lx->n - lx->i < len) {
                    rc = lx_fail(lx, FR_EFORMAT, start, "invalid hexadecimal escape in string",
                                 NULL);
                    goto out;
                }
                for (size_t k = 0; k < len; k++) {
                    int h = hexval((unsigned char)lx->s[lx->i + k]);
                    if (h < 0) {
                        rc = lx_fail(lx, FR_EFORMAT, start, "invalid hexadecimal escape in string",
                                     NULL);
                        goto out;
                    }
                    cp = cp * 16 + (uint32_t)h;
                }
                lx->i += len;
                is_cp = true;
            } else {
                const char *from = "ntrbfv'\"\\", *to = "\n\t\r\b\f\v'\"\\";
                const char *p = e ? strchr(from, e) : NULL;
                if (!p) {
                    char d[8] = {'\'', e, '\'', 0};
                    rc = lx_fail(lx, FR_EFORMAT, start, "unknown escape \\", d);
                    goto out;
                }
                cp = (unsigned char)to[p - from];
                is_cp = true;
            }
        }
        if (pending_hi) {
            char u[4];
            if (is_cp && cp >= 0xdc00 && cp <= 0xdfff) {
                cp = 0x10000 + ((pending_hi - 0xd800) << 10) + (cp - 0xdc00);
                pending_hi = 0;
                if (jj_buf_put(&b, u, jj_utf8_put(u, cp))) goto oom;
                continue;
            }
            if (jj_buf_put(&b, u, jj_utf8_put(u, 0xfffd))) goto oom;
            pending_hi = 0;
        }
        if (is_cp) {
            char u[4];
            if (cp >= 0xd800 && cp <= 0xdbff) {
                pending_hi = cp;
                continue;
            }
            if (cp >= 0xdc00 && cp <= 0xdfff) cp = 0xfffd;
            if (jj_buf_put(&b, u, jj_utf8_put(u, cp))) goto oom;
        } else {
            if (jj_buf_putc(&b, c)) goto oom;
            lx->i++;
        }
    }
    if (pending_hi) {
        char u[4];
        if (jj_buf_put(&b, u, jj_utf8_put(u, 0xfffd))) goto oom;
    }
    lx->i++; /* closing quote */
    {
        char *s = jj_arena_dup(lx->a, b.p ? b.p : "", b.n);
        if (!s) goto oom;
        rc = push(lx, TK_STR, s, b.n, start);
    }
out:
    jj_buf_free(&b);
    return rc;
oom:
    jj_buf_free(&b);
    return fr_fail(lx->err, FR_ENOMEM, "out of memory tokenizing the template");
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
static bool is_word(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* If a {% raw %} tag starts at lx->i ("{%" or "{%-"), consumes through its endraw. */
static int try_raw(lexer *lx, bool *done) {
    const char *s = lx->s;
    size_t n = lx->n, j = lx->i + 2, start = lx->i;
    *done = false;
    bool lstrip = j < n && s[j] == '-';
    if (lstrip) j++;
    j = skip_ws(s, n, j);
    if (n - j < 3 || memcmp(s + j, "raw", 3) || (j + 3 < n && is_word(s[j + 3]))) return 0;
    j = skip_ws(s, n, j + 3);
    bool rstrip = j < n && s[j] == '-';
    if (rstrip) j++;
    if (j + 2 > n || s[j] != '%' || s[j + 1] != '}') return 0;
    size_t body = j + 2;
    if (rstrip) body = skip_ws(s, n, body);
    /* find {%-? endraw -?%} */
    for (size_t k = body; k + 1 < n; k++) {
        if (s[k] != '{' || s[k + 1] != '%') continue;
        size_t m = k + 2;
        bool el = m < n && s[m] == '-';
        if (el) m++;
        m = skip_ws(s, n, m);
        if (n - m < 6 || memcmp(s + m, "endraw", 6)) continue;
        m = skip_ws(s, n, m + 6);
        bool er = m < n && s[m] == '-';
        if (er) m++;
        if (m + 2 > n || s[m] != '%' || s[m + 1] != '}') continue;
        if (lstrip) strip_trailing_ws(lx);
        size_t blen = k - body;
        if (el) blen -= jj_space_suffix(s + body, blen);
        if (blen && push(lx, TK_RAW, s + body, blen, body)) return FR_ENOMEM;
        if (!blen && push(lx, TK_COMMENT, s + body, 0, body)) return FR_ENOMEM;
        lx->i = m + 2;
        if (er) skip_leading_ws(lx);
        *done = true;
        return 0;
    }
    return lx_fail(lx, FR_EFORMAT, start, "unterminated raw block (missing endraw)", NULL);
}

static const struct {
    const char *seq;
    jj_tok_type type;
} k_table[] = {
    {"{%", TK_OPEN_STMT}, {"%}", TK_CLOSE_STMT}, {"{{", TK_OPEN_EXPR}, {"}}", TK_CLOSE_EXPR},
    {"(", TK_LPAREN},     {")", TK_RPAREN},      {"{", TK_LBRACE},     {"}", TK_RBRACE},
    {"[", TK_LBRACKET},   {"]", TK_RBRACKET},    {",", TK_COMMA},      {".", TK_DOT},
    {":", TK_COLON},      {"|", TK_PIPE},        {"<=", TK_CMP},       {">=", TK_CMP},
    {"==", TK_CMP},       {"!=", TK_CMP},        {"<", TK_CMP},        {">", TK_CMP},
    {"+", TK_ADD},        {"-", TK_ADD},         {"~", TK_ADD},        {"**", TK_POW},
    {"*", TK_MUL},        {"//", TK_MUL},        {"/", TK_MUL},        {"%", TK_MUL},
    {"=", TK_EQUALS},
};

static int tokenize(lexer *lx) {
    const char *s = lx->s;
    size_t n = lx->n;
    while (lx->i < n) {
        jj_tok_type lt = last_type(lx);
        if (lx->nt == 0 || lt == TK_CLOSE_STMT || lt == TK_CLOSE_EXPR || lt == TK_COMMENT ||
            lt == TK_RAW) {
            size_t st = lx->i;
            while (lx->i < n &&
                   !(s[lx->i] == '{' && lx->i + 1 < n &&
                     (s[lx->i + 1] == '%' || s[lx->i + 1] == '{' || s[lx->i + 1] == '#')))
                lx->i++;
            if (lx->i > st) {
                if (push(lx, TK_TEXT, s + st, lx->i - st, st)) return FR_ENOMEM;
                continue;
            }
        }
        size_t here = lx->i;
        if (at(lx, "{#")) {
            lx->i += 2;
            bool strip_before = lx->i < n && s[lx->i] == '-';
            if (strip_before) lx->i++;
            size_t cst = lx->i;
            while (!(lx->i + 1 < n && s[lx->i] == '#' && s[lx->i + 1] == '}')) {
                if (lx->i + 2 >= n)
                    return lx_fail(lx, FR_EFORMAT, here, "unterminated comment (missing #})", NULL);
                lx->i++;
            }
            bool strip_after = lx->i > cst && s[lx->i - 1] == '-';
            if (strip_before) strip_trailing_ws(lx);
            if (push(lx, TK_COMMENT, s + cst, lx->i - cst, here)) return FR_ENOMEM;
            lx->i += 2;
            if (strip_after) skip_leading_ws(lx);
            continue;
        }
        if (at(lx, "{%")) {
            bool done;
            int rc = try_raw(lx, &done);
            if (rc) return rc;
            if (done) continue;
        }
        if (at(lx, "{%-")) {
            strip_trailing_ws(lx);
            if (push(lx, TK_OPEN_STMT, "{%", 2, here)) return FR_ENOMEM;
            lx->i += 3;
            continue;
        }
        if (at(lx, "{{-")) {
            strip_trailing_ws(lx);
            if (push(lx, TK_OPEN_EXPR, "{{", 2, here)) return FR_ENOMEM;
            lx->curly = 0;
            lx->i += 3;
            continue;
        }
        skip_leading_ws(lx);
        if (lx->i >= n) break;
        here = lx->i;
        if (at(lx, "-%}")) {
            if (push(lx, TK_CLOSE_STMT, "%}", 2, here)) return FR_ENOMEM;
            lx->i += 3;
            skip_leading_ws(lx);
            continue;
        }
        if (at(lx, "-}}")) {
            if (push(lx, TK_CLOSE_EXPR, "}}", 2, here)) return FR_ENOMEM;
            lx->i += 3;
            skip_leading_ws(lx);
            continue;
        }
        char c = s[lx->i];
        if (c == '-' || c == '+') {
            jj_tok_type t = last_type(lx);
            if (t == TK_TEXT || lx->nt == 0) {
                char d[4] = {'\'', c, '\'', 0};
                return lx_fail(lx, FR_EFORMAT, here, "unexpected character ", d);
            }
            if (!(t == TK_IDENT || t == TK_NUM || t == TK_STR || t == TK_RPAREN ||
                  t == TK_RBRACKET)) {
                lx->i++;
                size_t d0 = lx->i;
                while (lx->i < n && is_digit(s[lx->i])) lx->i++;
                if (lx->i > d0 && lx->i + 1 < n && s[lx->i] == '.' && is_digit(s[lx->i + 1])) {
                    lx->i++;
                    while (lx->i < n && is_digit(s[lx->i])) lx->i++;
                }
                if (push(lx, lx->i > d0 ? TK_NUM : TK_UNARY, s + here, lx->i - here, here))
                    return FR_ENOMEM;
                continue;
            }
        }
        bool matched = false;
        for (size_t k = 0; k < sizeof k_table / sizeof *k_table; k++) {
            jj_tok_type type = k_table[k].type;
            if (type == TK_CLOSE_EXPR && lx->curly > 0) continue;
            if (!at(lx, k_table[k].seq)) continue;
            size_t l = strlen(k_table[k].seq);
            if (push(lx, type, s + here, l, here)) return FR_ENOMEM;
            if (type == TK_OPEN_EXPR)
                lx->curly = 0;
            else if (type == TK_LBRACE)
                lx->curly++;
            else if (type == TK_RBRACE)
                lx->curly--;
            lx->i += l;
            matched = true;
            break;
        }
        if (matched) continue;
        if (c == '\'' || c == '"') {
            int rc = lex_string(lx);
            if (rc) return rc;
            continue;
        }
        if (is_digit(c)) {
            while (lx->i < n && is_digit(s[lx->i])) lx->i++;
            if (last_type(lx) != TK_DOT && lx->i + 1 < n && s[lx->i] == '.' &&
                is_digit(s[lx->i + 1])) {
                lx->i++;
                while (lx->i < n && is_digit(s[lx->i])) lx->i++;
            }
            if (push(lx, TK_NUM, s + here, lx->i - here, here)) return FR_ENOMEM;
            continue;
        }
        if (is_word(c)) {
            while (lx->i < n && is_word(s[lx->i])) lx->i++;
            if (push(lx, TK_IDENT, s + here, lx->i - here, here)) return FR_ENOMEM;
            continue;
        }
        uint32_t cp;
        size_t cl = jj_utf8_next(s + lx->i, n - lx->i, &cp);
        char d[16];
        d[0] = '\'';
        memcpy(d + 1, s + lx->i, cl);
        d[cl + 1] = '\'';
        d[cl + 2] = 0;
        return lx_fail(lx, FR_EFORMAT, here, "unexpected character ", d);
    }
    return 0;
}

int jj_lex(jj_tok **toks, size_t *ntoks, jj_arena *a, const char *src, size_t len, fr_err *err) {
    pp_text t = {0};
    lexer lx = {0};
    int rc = 0;
    t.s = malloc(len + 1);
    if (!t.s) return fr_fail(err, FR_ENOMEM, "out of memory reading the template");
    if (len) memcpy(t.s, src, len);
    t.s[len] = 0;
    t.n = len;
    if (t.n && t.s[t.n - 1] == '\n') t.s[--t.n] = 0;
    if (pp_lstrip(&t) || pp_trim(&t) || pp_generation(&t)) {
        rc = fr_fail(err, FR_ENOMEM, "out of memory preprocessing the template");
        goto out;
    }
    /* the token texts point into the preprocessed source, kept in the arena */
    char *keep = jj_arena_dup(a, t.s, t.n);
    if (!keep) {
        rc = fr_fail(err, FR_ENOMEM, "out of memory reading the template");
        goto out;
    }
    lx.s = keep;
    lx.n = t.n;
    lx.a = a;
    lx.err = err;
    lx.pp = &t;
    rc = tokenize(&lx);
    if (rc) goto out;
    if (push(&lx, TK_EOF, "", 0, lx.n)) {
        rc = FR_ENOMEM;
        goto out;
    }
    /* line numbers: newlines still in the text plus removed ones (positions sorted) */
    {
        size_t k = 0, g = 0;
        int line = 1;
        for (size_t ti = 0; ti < lx.nt; ti++) {
            size_t p = lx.pos[ti];
            for (; k < p && k < lx.n; k++) line += lx.s[k] == '\n';
            while (g < t.ng && t.ghost[g] <= p) {
                line++;
                g++;
            }
            lx.toks[ti].line = line;
        }
    }
    jj_tok *out = jj_arena_alloc(a, lx.nt * sizeof *out);
    if (!out) {
        rc = fr_fail(err, FR_ENOMEM, "out of memory tokenizing the template");
        goto out;
    }
    memcpy(out, lx.toks, lx.nt * sizeof *out);
    *toks = out;
    *ntoks = lx.nt;
out:
    free(lx.toks);
    free(lx.pos);
    free(t.s);
    free(t.ghost);
    return rc;
}

const char *jj_tok_name(jj_tok_type t) {
    switch (t) {
    case TK_EOF:
        return "end of template";
    case TK_TEXT:
        return "text";
    case TK_NUM:
        return "number";
    case TK_STR:
        return "string";
    case TK_IDENT:
        return "name";
    case TK_EQUALS:
        return "'='";
    case TK_LPAREN:
        return "'('";
    case TK_RPAREN:
        return "')'";
    case TK_OPEN_STMT:
        return "'{%'";
    case TK_CLOSE_STMT:
        return "'%}'";
    case TK_OPEN_EXPR:
        return "'{{'";
    case TK_CLOSE_EXPR:
        return "'}}'";
    case TK_LBRACKET:
        return "'['";
    case TK_RBRACKET:
        return "']'";
    case TK_LBRACE:
        return "'{'";
    case TK_RBRACE:
        return "'}'";
    case TK_COMMA:
        return "','";
    case TK_DOT:
        return "'.'";
    case TK_COLON:
        return "':'";
    case TK_PIPE:
        return "'|'";
    case TK_ADD:
        return "operator";
    case TK_MUL:
        return "operator";
    case TK_POW:
        return "'**'";
    case TK_CMP:
        return "comparison";
    case TK_UNARY:
        return "unary operator";
    case TK_COMMENT:
        return "comment";
    case TK_RAW:
        return "raw text";
    }
    return "token";
}
