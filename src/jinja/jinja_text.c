/* jinja_text.c: byte buffers, the template arena, UTF-8 and JavaScript text semantics the
 * interpreter mirrors (whitespace set, string length in UTF-16 units, Number formatting,
 * JSON.stringify string quoting, parseInt/parseFloat/Number). */
#include "jinja/jinja_int.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <wctype.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- buffers */

static int buf_grow(jj_buf *b, size_t need) {
    if (need < b->n) return -1; /* overflow */
    if (b->limit && need > b->limit) return -1;
    if (need + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need + 1) {
        if (cap > SIZE_MAX / 2) return -1;
        cap *= 2;
    }
    if (b->limit && cap > b->limit + 1) cap = b->limit + 1;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int jj_buf_put(jj_buf *b, const char *s, size_t n) {
    if (buf_grow(b, b->n + n)) return -1;
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

int jj_buf_putc(jj_buf *b, char c) {
    return jj_buf_put(b, &c, 1);
}
int jj_buf_puts(jj_buf *b, const char *s) {
    return jj_buf_put(b, s, strlen(s));
}

void jj_buf_free(jj_buf *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* ---------------------------------------------------------------- arena */

struct jj_arena_blk {
    jj_arena_blk *next;
    size_t cap;
    _Alignas(16) unsigned char data[];
};

void *jj_arena_alloc(jj_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->used + n > a->cap) {
        size_t cap = n > 65536 ? n : 65536;
        jj_arena_blk *blk = malloc(sizeof *blk + cap);
        if (!blk) return NULL;
        blk->next = a->head;
        blk->cap = cap;
        a->head = blk;
        a->used = 0;
        a->cap = cap;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *jj_arena_dup(jj_arena *a, const char *s, size_t n) {
    char *p = jj_arena_alloc(a, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void jj_arena_free(jj_arena *a) {
    jj_arena_blk *b = a->head;
    while (b) {
        jj_arena_blk *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = a->cap = 0;
}

/* ---------------------------------------------------------------- UTF-8 */

size_t jj_utf8_next(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        v = c & 0x1f;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        v = c & 0x0f;
        min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        v = c & 0x07;
        min = 0x10000;
    } else
        goto bad;
    if (len > n) goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80) goto bad;
        v = (v << 6) | (u[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) goto bad;
    *cp = v;
    return len;
bad:
    *cp = 0x110000u | c; /* outside Unicode: an undecodable byte */
    return 1;
}

size_t jj_utf8_prev(const char *s, size_t n) {
    /* back up over at most 3 continuation bytes, then check the sequence decodes to n */
    size_t i = n - 1, k = 0;
    while (i > 0 && k < 3 && ((unsigned char)s[i] & 0xc0) == 0x80) {
        i--;
        k++;
    }
    uint32_t cp;
    if (jj_utf8_next(s + i, n - i, &cp) == n - i) return i;
    return n - 1;
}

size_t jj_utf8_put(char *d, uint32_t cp) {
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xc0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xe0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

bool jj_is_space(uint32_t c) {
    if (c == ' ' || (c >= 0x09 && c <= 0x0d)) return true;
    if (c < 0xa0) return false;
    return c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000 || c == 0xfeff;
}

size_t jj_space_prefix(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = jj_utf8_next(s + i, n - i, &cp);
        if (!jj_is_space(cp)) break;
        i += l;
    }
    return i;
}

size_t jj_space_suffix(const char *s, size_t n) {
    size_t end = n;
    while (end > 0) {
        size_t st = jj_utf8_prev(s, end);
        uint32_t cp;
        jj_utf8_next(s + st, end - st, &cp);
        if (!jj_is_space(cp)) break;
        end = st;
    }
    return n - end;
}

size_t jj_utf16_len(const char *s, size_t n) {
    size_t i = 0, k = 0;
    while (i < n) {
        uint32_t cp;
        i += jj_utf8_next(s + i, n - i, &cp);
        k += (cp >= 0x10000 && cp <= 0x10ffff) ? 2 : 1;
    }
    return k;
}

size_t jj_cp_count(const char *s, size_t n) {
    size_t i = 0, k = 0;
    while (i < n) {
        uint32_t cp;
        i += jj_utf8_next(s + i, n - i, &cp);
        k++;
    }
    return k;
}

/* ---------------------------------------------------------------- case mapping */

static locale_t g_utf8;
static pthread_once_t g_utf8_once = PTHREAD_ONCE_INIT;
static void utf8_init(void) {
    g_utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

uint32_t jj_case_one(uint32_t cp, bool upper) {
    if (cp < 0x80) {
        if (upper && cp >= 'a' && cp <= 'z') return cp - 32;
        if (!upper && cp >= 'A' && cp <= 'Z') return cp + 32;
        return cp;
    }
    if (cp > 0x10ffff) return cp; /* an undecodable byte stays itself */
    pthread_once(&g_utf8_once, utf8_init);
    if (!g_utf8) return cp;
    return (uint32_t)(upper ? towupper_l((wint_t)cp, g_utf8) : towlower_l((wint_t)cp, g_utf8));
}

static bool is_letter(uint32_t cp) {
    if (cp < 0x80) return (cp | 32) >= 'a' && (cp | 32) <= 'z';
    if (cp > 0x10ffff) return false;
    pthread_once(&g_utf8_once, utf8_init);
    return g_utf8 && iswalpha_l((wint_t)cp, g_utf8);
}

int jj_case_convert(jj_buf *b, const char *s, size_t n, bool upper) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = jj_utf8_next(s + i, n - i, &cp);
        char u[8];
        size_t ul;
        if (upper && cp == 0xdf) {
            memcpy(u, "SS", 2);
            ul = 2;
        } /* ß */
        else if (!upper && cp == 0x130) {
            memcpy(u, "i\xcc\x87", 3);
            ul = 3;
        }                                 /* İ -> i + dot */
        else if (!upper && cp == 0x3a3) { /* Σ: final sigma at the end of a word */
            bool before = false, after = false;
            if (i > 0) {
                size_t p = jj_utf8_prev(s, i);
                uint32_t c2;
                jj_utf8_next(s + p, i - p, &c2);
                before = is_letter(c2);
            }
            if (i + l < n) {
                uint32_t c2;
                jj_utf8_next(s + i + l, n - i - l, &c2);
                after = is_letter(c2);
            }
            ul = jj_utf8_put(u, before && !after ? 0x3c2 : 0x3c3);
        } else {
            uint32_t m = jj_case_one(cp, upper);
            if (m == cp)
                ul = 0;
            else
                ul = jj_utf8_put(u, m);
        }
        if (ul ? jj_buf_put(b, u, ul) : jj_buf_put(b, s + i, l)) return -1;
        i += l;
    }
    return 0;
}

/* ---------------------------------------------------------------- numbers */

void jj_fmt_js_number(char *buf, double v) {
    if (isnan(v)) {
        strcpy(buf, "NaN");
        return;
    }
    if (isinf(v)) {
        strcpy(buf, v < 0 ? "-Infinity" : "Infinity");
        return;
    }
    if (v == 0) {
        strcpy(buf, "0");
        return;
    }
    char tmp[40], digits[24];
    int p;
    for (p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    if (p > 17) p = 17;
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
    /* tmp: [-]d[.ddd]e[+-]xx */
    const char *t = tmp;
    char *o = buf;
    if (*t == '-') {
        *o++ = '-';
        t++;
    }
    int k = 0;
    while (*t && *t != 'e') {
        if (*t != '.') digits[k++] = *t;
        t++;
    }
    while (k > 1 && digits[k - 1] == '0') k--;
    digits[k] = 0;
    int e = atoi(t + 1);
    int nexp = e + 1; /* value = 0.digits * 10^nexp */
    if (k <= nexp && nexp <= 21) {
        memcpy(o, digits, (size_t)k);
        o += k;
        for (int i = 0; i < nexp - k; i++) *o++ = '0';
    } else if (0 < nexp && nexp <= 21) {
        memcpy(o, digits, (size_t)nexp);
        o += nexp;
        *o++ = '.';
        memcpy(o, digits + nexp, (size_t)(k - nexp));
        o += k - nexp;
    } else if (-6 < nexp && nexp <= 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -nexp; i++) *o++ = '0';
        memcpy(o, digits, (size_t)k);
        o += k;
    } else {
        *o++ = digits[0];
        if (k > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)(k - 1));
            o += k - 1;
        }
        o += sprintf(o, "e%c%d", nexp - 1 < 0 ? '-' : '+', abs(nexp - 1));
    }
    *o = 0;
}

static size_t js_trim_start(const char *s, size_t n) {
    return jj_space_prefix(s, n);
}

/* Length of the longest StrDecimalLiteral prefix of s (0 if none). */
static size_t decimal_prefix(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    if (n - i >= 8 && !memcmp(s + i, "Infinity", 8)) return i + 8;
    size_t d0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    size_t nd = i - d0;
    if (i < n && s[i] == '.') {
        size_t j = i + 1;
        while (j < n && s[j] >= '0' && s[j] <= '9') j++;
        if (nd || j > i + 1) {
            nd += j - i - 1;
            i = j;
        }
    }
    if (!nd) return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) j++;
        size_t e0 = j;
        while (j < n && s[j] >= '0' && s[j] <= '9') j++;
        if (j > e0) i = j;
    }
    return i;
}

static double parse_decimal(const char *s, size_t n) {
    char tmp[512];
    if (n >= sizeof tmp) {
        char *p = malloc(n + 1);
        if (!p) return NAN;
        memcpy(p, s, n);
        p[n] = 0;
        double v = strtod(p, NULL);
        free(p);
        return v;
    }
    memcpy(tmp, s, n);
    tmp[n] = 0;
    return strtod(tmp, NULL);
}

bool jj_js_parse_int(const char *s, size_t n, double *out) {
    size_t i = js_trim_start(s, n);
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    double v = 0;
    size_t d0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    if (i == d0) return false;
    *out = neg ? -v : v;
    return true;
}

bool jj_js_parse_float(const char *s, size_t n, double *out) {
    size_t i = js_trim_start(s, n);
    size_t l = decimal_prefix(s + i, n - i);
    if (!l) return false;
    *out = parse_decimal(s + i, l);
    return true;
}

double jj_js_to_number(const char *s, size_t n) {
    size_t a = jj_space_prefix(s, n);
    s += a;
    n -= a;
    n -= jj_space_suffix(s, n);
    if (!n) return 0;
    if (n > 2 && s[0] == '0' && strchr("xXoObB", s[1])) {
        int base = (s[1] | 32) == 'x' ? 16 : (s[1] | 32) == 'o' ? 8 : 2;
        double v = 0;
        for (size_t i = 2; i < n; i++) {
            int c = s[i], d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if ((c | 32) >= 'a' && (c | 32) <= 'f')
                d = (c | 32) - 'a' + 10;
            else
                return NAN;
            if (d >= base) return NAN;
            v = v * base + d;
        }
        return v;
    }
    if (decimal_prefix(s, n) != n) return NAN;
    if (s[n - 1] == 'y') return s[0] == '-' ? -INFINITY : INFINITY;
    return parse_decimal(s, n);
}

/* ---------------------------------------------------------------- JSON quoting */

int jj_json_quote(jj_buf *b, const char *s, size_t n, bool ensure_ascii) {
    static const char hex[] = "0123456789abcdef";
    if (jj_buf_putc(b, '"')) return -1;
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char ubuf[16];
        size_t len = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20) {
            snprintf(ubuf, sizeof ubuf, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            esc = ubuf;
        } else if (ensure_ascii && c >= 0x7f) {
            uint32_t cp;
            len = jj_utf8_next(s + i, n - i, &cp);
            if (cp > 0x10ffff) cp = 0xfffd; /* undecodable byte: JS sees U+FFFD */
            if (cp >= 0x10000) {
                uint32_t hi = 0xd800 + ((cp - 0x10000) >> 10),
                         lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);
                snprintf(ubuf, sizeof ubuf, "\\u%04x\\u%04x", hi, lo);
            } else {
                snprintf(ubuf, sizeof ubuf, "\\u%04x", cp);
            }
            esc = ubuf;
        }
        if (esc) {
            if (run && jj_buf_put(b, s + i - run, run)) return -1;
            run = 0;
            if (jj_buf_puts(b, esc)) return -1;
            i += len;
        } else {
            run++;
            i++;
        }
    }
    if (run && jj_buf_put(b, s + n - run, run)) return -1;
    return jj_buf_putc(b, '"');
}
