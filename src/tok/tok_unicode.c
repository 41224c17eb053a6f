/* tok_unicode.c: the Unicode facts the tokenizers need, with llama.cpp's semantics:
 * lenient UTF-8 decoding (an undecodable byte becomes U+FFFD), the GPT-2 byte-to-unicode
 * mapping, and a codepoint category table (\p{L}, \p{N}, ...) built once at first use
 * from PCRE2's Unicode property tables. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok_internal.h"

size_t tok_utf8_decode(uint32_t *out, const char *str, size_t n) {
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0, k = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            out[k++] = c;
            i++;
            continue;
        }
        /* same acceptance rules as llama.cpp's unicode_cpt_from_utf8: only the lead bits
         * and the continuation bytes are checked (overlong forms and surrogates pass) */
        if (!(c & 0x40)) goto bad;
        if (!(c & 0x20)) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80) goto bad;
            out[k++] = (uint32_t)(c & 0x1F) << 6 | (s[i + 1] & 0x3F);
            i += 2;
            continue;
        }
        if (!(c & 0x10)) {
            if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80) goto bad;
            out[k++] =
                (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F);
            i += 3;
            continue;
        }
        if (!(c & 0x08)) {
            if (i + 3 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80)
                goto bad;
            out[k++] = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[i + 1] & 0x3F) << 12 |
                       (uint32_t)(s[i + 2] & 0x3F) << 6 | (s[i + 3] & 0x3F);
            i += 4;
            continue;
        }
    bad:
        out[k++] = 0xFFFD;
        i++;
    }
    return k;
}

size_t tok_utf8_put(char *out, uint32_t c) {
    uint8_t *o = (uint8_t *)out;
    if (c < 0x80) {
        o[0] = (uint8_t)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (uint8_t)(0xC0 | c >> 6);
        o[1] = (uint8_t)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (uint8_t)(0xE0 | c >> 12);
        o[1] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
        o[2] = (uint8_t)(0x80 | (c & 0x3F));
        return 3;
    }
    /* llama.cpp throws for values above 0x10FFFF (only reachable from F4..F7 leads);
     * we keep the 21 decoded bits so nothing is lost and nothing crashes */
    o[0] = (uint8_t)(0xF0 | (c >> 18 & 0x07));
    o[1] = (uint8_t)(0x80 | (c >> 12 & 0x3F));
    o[2] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
    o[3] = (uint8_t)(0x80 | (c & 0x3F));
    return 4;
}

/* ---- category table ---- */
static uint8_t *cat_tab;
static pthread_once_t cat_once = PTHREAD_ONCE_INIT;

static void cat_init(void) {
    uint8_t *tab = malloc(TOK_MAX_CPT);
    if (!tab) return;
    memset(tab, TOK_CF_UNDEF, TOK_MAX_CPT);
    for (uint32_t c = 0xD800; c < 0xE000; c++) tab[c] = TOK_CF_CONTROL; /* Cs */
    /* all scalar values in order, as UTF-8 */
    size_t cap = 4u * TOK_MAX_CPT, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        cat_tab = tab;
        return;
    }
    for (uint32_t c = 0; c < TOK_MAX_CPT; c++) {
        if (c >= 0xD800 && c < 0xE000) continue;
        n += tok_utf8_put(buf + n, c);
    }
    static const char *pat = "(\\p{L}+)|(\\p{N}+)|(\\p{Z}+)|(\\p{M}+)|(\\p{P}+)|(\\p{S}+)|"
                             "(\\p{Cn}+)|(\\p{C}+)";
    static const uint8_t group_flag[9] = {0,
                                          TOK_CF_LETTER,
                                          TOK_CF_NUMBER,
                                          TOK_CF_SEP,
                                          TOK_CF_MARK,
                                          TOK_CF_PUNCT,
                                          TOK_CF_SYMBOL,
                                          TOK_CF_UNDEF,
                                          TOK_CF_CONTROL};
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &ec, &eo, NULL);
    pcre2_match_data *md = re ? pcre2_match_data_create_from_pattern(re, NULL) : NULL;
    if (re && md) {
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        size_t pos = 0;
        while (pos < n) {
            int rc = pcre2_match(re, (PCRE2_SPTR)buf, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
            if (rc < 2) break;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            int g = rc - 1; /* the last set group is the one that matched */
            while (g > 0 && ov[2 * g] == PCRE2_UNSET) g--;
            size_t s = ov[0], e = ov[1];
            if (e <= pos) break;
            uint32_t cp[4];
            while (s < e) {
                size_t l = tok_utf8_len((uint8_t)buf[s]);
                tok_utf8_decode(cp, buf + s, l);
                tab[cp[0]] = group_flag[g];
                s += l;
            }
            pos = e;
        }
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    free(buf);
    cat_tab = tab;
}

const uint8_t *tok_cpt_table(void) {
    pthread_once(&cat_once, cat_init);
    return cat_tab;
}
