/* jinja_methods.c: methods called as value.name(...) — string (upper, lower, strip,
 * lstrip/rstrip with chars, title, capitalize, startswith/endswith, split/rsplit, replace,
 * find/rfind, count, format, join, splitlines, is*), list (append, pop, insert, extend,
 * index, count, remove), dict (get, items, keys, values, dictsort, pop, update, setdefault,
 * copy). Semantics as @huggingface/jinja where it defines them
 * (no-argument strip trims JavaScript whitespace, title/capitalize change only first
 * letters, dict.get of a missing key is none), otherwise Python's. */
#include "jinja/jinja_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    M_UPPER,
    M_LOWER,
    M_STRIP,
    M_LSTRIP,
    M_RSTRIP,
    M_TITLE,
    M_CAPITALIZE,
    M_STARTSWITH,
    M_ENDSWITH,
    M_SPLIT,
    M_RSPLIT,
    M_REPLACE,
    M_FIND,
    M_RFIND,
    M_COUNT,
    M_FORMAT,
    M_JOIN,
    M_SPLITLINES,
    M_ISDIGIT,
    M_ISALPHA,
    M_ISALNUM,
    M_ISSPACE,
    M_ISLOWER,
    M_ISUPPER,
    M_STR_END,
    M_APPEND = M_STR_END,
    M_POP,
    M_INSERT,
    M_EXTEND,
    M_INDEX,
    M_LCOUNT,
    M_REMOVE,
    M_LIST_END,
    M_GET = M_LIST_END,
    M_ITEMS,
    M_KEYS,
    M_VALUES,
    M_DICTSORT,
    M_DPOP,
    M_UPDATE,
    M_SETDEFAULT,
    M_COPY,
    M_DICT_END,
};

static const char *const k_methods[M_DICT_END] = {
    "upper",      "lower",    "strip",   "lstrip",     "rstrip",  "title",   "capitalize",
    "startswith", "endswith", "split",   "rsplit",     "replace", "find",    "rfind",
    "count",      "format",   "join",    "splitlines", "isdigit", "isalpha", "isalnum",
    "isspace",    "islower",  "isupper", "append",     "pop",     "insert",  "extend",
    "index",      "count",    "remove",  "get",        "items",   "keys",    "values",
    "dictsort",   "pop",      "update",  "setdefault", "copy",
};

const char *jj_method_name(int id) {
    return id >= 0 && id < M_DICT_END ? k_methods[id] : "?";
}

static int find_in(int lo, int hi, const char *name, size_t n) {
    for (int i = lo; i < hi; i++)
        if (strlen(k_methods[i]) == n && !memcmp(k_methods[i], name, n)) return i;
    return -1;
}

int jj_method_find(jv self, const char *name, size_t n) {
    switch (self.t) {
    case JV_STR:
        return find_in(0, M_STR_END, name, n);
    case JV_LIST:
        return find_in(M_STR_END, M_LIST_END, name, n);
    case JV_DICT:
        return find_in(M_LIST_END, M_DICT_END, name, n);
    default:
        return -1;
    }
}

/* ---------------------------------------------------------------- helpers */

static int out_fail(jj_rt *rt) {
    return jj_fail(rt, FR_ERANGE, 0, "rendered text larger than %zu bytes", rt->lim.max_output);
}

static int want_str(jj_rt *rt, jv *v, const char *what, int line) {
    if (!v || v->t != JV_STR)
        return jj_fail(rt, FR_EINVAL, line, "%s must be a string, not %s", what,
                       v ? jv_type_name(*v) : "missing");
    return 0;
}

static int opt_int(jj_rt *rt, jv *v, int64_t def, const char *what, int line, int64_t *out) {
    *out = def;
    if (!v || v->t == JV_NONE || v->t == JV_UNDEF) return 0;
    if (v->t == JV_INT) {
        *out = v->u.i;
        return 0;
    }
    if (v->t == JV_BOOL) {
        *out = v->u.b;
        return 0;
    }
    return jj_fail(rt, FR_EINVAL, line, "%s must be an integer, not %s", what, jv_type_name(*v));
}

static bool is_word(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

int jj_str_case(jj_rt *rt, jv s, int mode, jv *out) {
    const char *p = s.u.s->data;
    size_t n = s.u.s->len;
    if (mode <= 1) { /* lower / upper: full Unicode mapping */
        jj_buf b;
        jj_new_buf(rt, &b);
        if (jj_case_convert(&b, p, n, mode == 1)) {
            jj_buf_free(&b);
            return out_fail(rt);
        }
        return jv_str_from_buf(rt, &b, out);
    }
    if (mode == 3 && n) { /* capitalize: first character upper, the rest unchanged */
        uint32_t cp;
        size_t l = jj_utf8_next(p, n, &cp);
        jj_buf b;
        jj_new_buf(rt, &b);
        if (jj_case_convert(&b, p, l, true) || jj_buf_put(&b, p + l, n - l)) {
            jj_buf_free(&b);
            return out_fail(rt);
        }
        return jv_str_from_buf(rt, &b, out);
    }
    if (jv_str_new(rt, p, n, out)) return rt->status;
    char *d = out->u.s->data;
    for (size_t i = 0; mode == 2 && i < n; i++) { /* title: JavaScript /\b\w/g -> upper (ASCII) */
        unsigned char c = (unsigned char)d[i];
        if ((i == 0 || !is_word((unsigned char)d[i - 1])) && c >= 'a' && c <= 'z')
            d[i] = (char)(c - 32);
    }
    return 0;
}

static bool cp_in(const char *set, size_t n, uint32_t cp) {
    size_t i = 0;
    while (i < n) {
        uint32_t c;
        i += jj_utf8_next(set + i, n - i, &c);
        if (c == cp) return true;
    }
    return false;
}

int jj_str_strip(jj_rt *rt, jv s, jv *chars, bool left, bool right, jv *out) {
    const char *p = s.u.s->data;
    size_t n = s.u.s->len, a = 0, b = n;
    if (!chars || chars->t == JV_NONE || chars->t == JV_UNDEF) {
        if (left) a = jj_space_prefix(p, n);
        if (right && a < n) b = n - jj_space_suffix(p + a, n - a);
    } else {
        if (chars->t != JV_STR)
            return jj_fail(rt, FR_EINVAL, 0, "strip characters must be a string");
        const char *cs = chars->u.s->data;
        size_t cn = chars->u.s->len;
        while (left && a < n) {
            uint32_t cp;
            size_t l = jj_utf8_next(p + a, n - a, &cp);
            if (!cp_in(cs, cn, cp)) break;
            a += l;
        }
        while (right && b > a) {
            size_t st = jj_utf8_prev(p + a, b - a) + a;
            uint32_t cp;
            jj_utf8_next(p + st, b - st, &cp);
            if (!cp_in(cs, cn, cp)) break;
            b = st;
        }
    }
    return jv_str_new(rt, p + a, b - a, out);
}

int jj_str_replace(jj_rt *rt, jv s, jv old, jv new_, int64_t count, jv *out) {
    const char *p = s.u.s->data, *o = old.u.s->data, *w = new_.u.s->data;
    size_t n = s.u.s->len, on = old.u.s->len, wn = new_.u.s->len;
    jj_buf b;
    jj_new_buf(rt, &b);
    size_t i = 0;
    int64_t done = 0;
    if (count < 0) count = INT64_MAX;
    if (on == 0) { /* insert at every character boundary, ends included */
        while (1) {
            if (done < count) {
                if (jj_buf_put(&b, w, wn)) goto big;
                done++;
            }
            if (i >= n) break;
            uint32_t cp;
            size_t l = jj_utf8_next(p + i, n - i, &cp);
            if (jj_buf_put(&b, p + i, l)) goto big;
            i += l;
        }
        return jv_str_from_buf(rt, &b, out);
    }
    while (i < n) {
        const char *hit = done < count ? memmem(p + i, n - i, o, on) : NULL;
        if (!hit) break;
        size_t at = (size_t)(hit - p);
        if (jj_buf_put(&b, p + i, at - i) || jj_buf_put(&b, w, wn)) goto big;
        i = at + on;
        done++;
    }
    if (jj_buf_put(&b, p + i, n - i)) goto big;
    return jv_str_from_buf(rt, &b, out);
big:
    jj_buf_free(&b);
    return out_fail(rt);
}

static int push_str(jj_rt *rt, jv list, const char *s, size_t n) {
    jv x;
    if (jv_str_new(rt, s, n, &x)) return rt->status;
    return jv_list_push(rt, list.u.l, x);
}

/* Python str.split / str.rsplit */
static int str_split(jj_rt *rt, jv s, jv *sepv, int64_t maxsplit, bool rev, int line, jv *out) {
    const char *p = s.u.s->data;
    size_t n = s.u.s->len;
    if (jv_list_new(rt, 0, out)) return rt->status;
    if (maxsplit < 0) maxsplit = INT64_MAX;
    if (!sepv || sepv->t == JV_NONE || sepv->t == JV_UNDEF) {
        /* runs of whitespace separate; no empty strings at the ends */
        size_t i = 0, e = n;
        int64_t k = 0;
        if (!rev) {
            while (1) {
                i += jj_space_prefix(p + i, n - i);
                if (i >= n) break;
                if (k == maxsplit) return push_str(rt, *out, p + i, n - i);
                size_t j = i;
                while (j < n) {
                    uint32_t cp;
                    size_t l = jj_utf8_next(p + j, n - j, &cp);
                    if (jj_is_space(cp)) break;
                    j += l;
                }
                if (push_str(rt, *out, p + i, j - i)) return rt->status;
                k++;
                i = j;
            }
            return 0;
        }
        /* rsplit: collect from the end, then reverse */
        while (1) {
            e -= jj_space_suffix(p, e);
            if (e == 0) break;
            if (k == maxsplit) {
                if (push_str(rt, *out, p, e)) return rt->status;
                break;
            }
            size_t j = e;
            while (j > 0) {
                size_t st = jj_utf8_prev(p, j);
                uint32_t cp;
                jj_utf8_next(p + st, j - st, &cp);
                if (jj_is_space(cp)) break;
                j = st;
            }
            if (push_str(rt, *out, p + j, e - j)) return rt->status;
            k++;
            e = j;
        }
    } else {
        if (sepv->t != JV_STR)
            return jj_fail(rt, FR_EINVAL, line, "split separator must be a string");
        const char *sp = sepv->u.s->data;
        size_t sn = sepv->u.s->len;
        if (!sn) return jj_fail(rt, FR_EINVAL, line, "empty separator");
        int64_t k = 0;
        if (!rev) {
            size_t i = 0;
            while (k < maxsplit) {
                const char *hit = memmem(p + i, n - i, sp, sn);
                if (!hit) break;
                if (push_str(rt, *out, p + i, (size_t)(hit - p) - i)) return rt->status;
                i = (size_t)(hit - p) + sn;
                k++;
            }
            return push_str(rt, *out, p + i, n - i);
        }
        size_t e = n;
        while (k < maxsplit && e >= sn) {
            size_t j = e - sn + 1, found = SIZE_MAX;
            while (j-- > 0)
                if (!memcmp(p + j, sp, sn)) {
                    found = j;
                    break;
                }
            if (found == SIZE_MAX) break;
            if (push_str(rt, *out, p + found + sn, e - found - sn)) return rt->status;
            e = found;
            k++;
        }
        if (push_str(rt, *out, p, e)) return rt->status;
    }
    /* reverse (rsplit collected right to left) */
    jj_list *l = out->u.l;
    for (size_t a = 0, b = l->n ? l->n - 1 : 0; a < b; a++, b--) {
        jv t = l->items[a];
        l->items[a] = l->items[b];
        l->items[b] = t;
    }
    return 0;
}

static int64_t cp_index(const char *s, size_t byte) {
    return (int64_t)jj_cp_count(s, byte);
}

static bool prefix_match(jv s, jv pre, bool end) {
    size_t n = s.u.s->len, m = pre.u.s->len;
    if (m > n) return false;
    return !memcmp(s.u.s->data + (end ? n - m : 0), pre.u.s->data, m);
}

/* str.format: {} {0} {name} with {{ }} escapes; format specs are not supported */
static int str_format(jj_rt *rt, jv s, jj_args *args, int line, jv *out) {
    const char *p = s.u.s->data;
    size_t n = s.u.s->len, auto_i = 0;
    jj_buf b;
    jj_new_buf(rt, &b);
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if ((c == '{' || c == '}') && i + 1 < n && p[i + 1] == c) {
            if (jj_buf_putc(&b, c)) goto big;
            i++;
            continue;
        }
        if (c == '}') {
            jj_buf_free(&b);
            return jj_fail(rt, FR_EINVAL, line, "single '}' in format string");
        }
        if (c != '{') {
            if (jj_buf_putc(&b, c)) goto big;
            continue;
        }
        const char *close = memchr(p + i, '}', n - i);
        if (!close) {
            jj_buf_free(&b);
            return jj_fail(rt, FR_EINVAL, line, "single '{' in format string");
        }
        const char *f = p + i + 1;
        size_t fl = (size_t)(close - f);
        const char *colon = memchr(f, ':', fl);
        const char *bang = memchr(f, '!', fl);
        if (colon || bang) {
            jj_buf_free(&b);
            return jj_fail(rt, FR_EUNSUP, line, "unsupported format spec in '%.*s'", (int)fl + 2,
                           f - 1);
        }
        jv *v = NULL;
        if (fl == 0)
            v = jj_arg(args, (int)auto_i++, NULL);
        else if (f[0] >= '0' && f[0] <= '9')
            v = jj_arg(args, atoi(f), NULL);
        else {
            for (size_t k = 0; k < args->nkw; k++)
                if (args->kwlen[k] == fl && !memcmp(args->kw[k], f, fl)) v = &args->kwv[k];
        }
        if (!v) {
            jj_buf_free(&b);
            return jj_fail(rt, FR_EINVAL, line, "format: no argument for '{%.*s}'", (int)fl, f);
        }
        if (v->t == JV_NONE) {
            if (jj_buf_puts(&b, "None")) goto big;
        } else if (v->t == JV_BOOL) {
            if (jj_buf_puts(&b, v->u.b ? "True" : "False")) goto big;
        } else if (jv_to_display(rt, &b, *v, line)) {
            jj_buf_free(&b);
            return rt->status;
        }
        i = (size_t)(close - p);
    }
    return jv_str_from_buf(rt, &b, out);
big:
    jj_buf_free(&b);
    return out_fail(rt);
}

static int str_pred(jv s, int id) {
    const char *p = s.u.s->data;
    size_t n = s.u.s->len;
    if (!n) return false;
    bool any_cased = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        bool dig = c >= '0' && c <= '9', lo = c >= 'a' && c <= 'z', up = c >= 'A' && c <= 'Z';
        switch (id) {
        case M_ISDIGIT:
            if (!dig) return false;
            break;
        case M_ISALPHA:
            if (!lo && !up) return false;
            break;
        case M_ISALNUM:
            if (!lo && !up && !dig) return false;
            break;
        case M_ISSPACE:
            if (!(c == ' ' || (c >= 9 && c <= 13))) return false;
            break;
        case M_ISLOWER:
            if (up) return false;
            any_cased |= lo;
            break;
        case M_ISUPPER:
            if (lo) return false;
            any_cased |= up;
            break;
        }
    }
    return (id == M_ISLOWER || id == M_ISUPPER) ? any_cased : true;
}

/* ---------------------------------------------------------------- string methods */

static int str_method(jj_rt *rt, int id, jv s, jj_args *a, int line, jv *out) {
    jv *a0 = jj_arg(a, 0, NULL), *a1 = jj_arg(a, 1, NULL);
    switch (id) {
    case M_UPPER:
        return jj_str_case(rt, s, 1, out);
    case M_LOWER:
        return jj_str_case(rt, s, 0, out);
    case M_TITLE:
        return jj_str_case(rt, s, 2, out);
    case M_CAPITALIZE:
        return jj_str_case(rt, s, 3, out);
    case M_STRIP:
        return jj_str_strip(rt, s, jj_arg(a, 0, "chars"), true, true, out);
    case M_LSTRIP:
        return jj_str_strip(rt, s, jj_arg(a, 0, "chars"), true, false, out);
    case M_RSTRIP:
        return jj_str_strip(rt, s, jj_arg(a, 0, "chars"), false, true, out);
    case M_STARTSWITH:
    case M_ENDSWITH: {
        jv *pre = jj_arg(a, 0, "prefix");
        bool end = id == M_ENDSWITH, hit = false;
        if (pre && pre->t == JV_STR)
            hit = prefix_match(s, *pre, end);
        else if (pre && pre->t == JV_LIST) {
            for (size_t i = 0; i < pre->u.l->n && !hit; i++) {
                jv x = pre->u.l->items[i];
                if (x.t != JV_STR)
                    return jj_fail(rt, FR_EINVAL, line, "%s() tuple items must be strings",
                                   k_methods[id]);
                hit = prefix_match(s, x, end);
            }
        } else {
            return jj_fail(rt, FR_EINVAL, line, "%s() takes a string or a list of strings",
                           k_methods[id]);
        }
        *out = jv_bool(hit);
        return 0;
    }
    case M_SPLIT:
    case M_RSPLIT: {
        int64_t maxsplit;
        if (opt_int(rt, jj_arg(a, 1, "maxsplit"), -1, "maxsplit", line, &maxsplit))
            return rt->status;
        return str_split(rt, s, jj_arg(a, 0, "sep"), maxsplit, id == M_RSPLIT, line, out);
    }
    case M_REPLACE: {
        int64_t count;
        if (want_str(rt, a0, "replace() old", line) || want_str(rt, a1, "replace() new", line) ||
            opt_int(rt, jj_arg(a, 2, "count"), -1, "count", line, &count))
            return rt->status;
        return jj_str_replace(rt, s, *a0, *a1, count, out);
    }
    case M_FIND:
    case M_RFIND:
    case M_COUNT: {
        if (want_str(rt, a0, "substring", line)) return rt->status;
        const char *p = s.u.s->data, *q = a0->u.s->data;
        size_t n = s.u.s->len, m = a0->u.s->len;
        if (id == M_COUNT) {
            int64_t c = 0;
            if (!m)
                c = (int64_t)jj_cp_count(p, n) + 1;
            else
                for (size_t i = 0; i + m <= n;) {
                    const char *h = memmem(p + i, n - i, q, m);
                    if (!h) break;
                    c++;
                    i = (size_t)(h - p) + m;
                }
            *out = jv_int(c);
            return 0;
        }
        int64_t pos = -1;
        if (id == M_FIND) {
            const char *h = m ? memmem(p, n, q, m) : p;
            if (h) pos = cp_index(p, (size_t)(h - p));
        } else if (m <= n) {
            for (size_t j = n - m + 1; j-- > 0;)
                if (!memcmp(p + j, q, m)) {
                    pos = cp_index(p, j);
                    break;
                }
        }
        *out = jv_int(pos);
        return 0;
    }
    case M_FORMAT:
        return str_format(rt, s, a, line, out);
    case M_JOIN: {
        if (!a0 || a0->t != JV_LIST) return jj_fail(rt, FR_EINVAL, line, "join() takes a list");
        jj_buf b;
        jj_new_buf(rt, &b);
        for (size_t i = 0; i < a0->u.l->n; i++) {
            if (i && jj_buf_put(&b, s.u.s->data, s.u.s->len)) {
                jj_buf_free(&b);
                return out_fail(rt);
            }
            if (jv_to_raw(rt, &b, a0->u.l->items[i], line)) {
                jj_buf_free(&b);
                return rt->status;
            }
        }
        return jv_str_from_buf(rt, &b, out);
    }
    case M_SPLITLINES: {
        const char *p = s.u.s->data;
        size_t n = s.u.s->len, i = 0, st = 0;
        if (jv_list_new(rt, 0, out)) return rt->status;
        while (i < n) {
            if (p[i] == '\n' || p[i] == '\r') {
                if (push_str(rt, *out, p + st, i - st)) return rt->status;
                if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') i++;
                st = ++i;
            } else {
                i++;
            }
        }
        if (st < n) return push_str(rt, *out, p + st, n - st);
        return 0;
    }
    default:
        *out = jv_bool(str_pred(s, id));
        return 0;
    }
}

/* ---------------------------------------------------------------- list methods */

static int list_method(jj_rt *rt, int id, jv self, jj_args *a, int line, jv *out) {
    jj_list *l = self.u.l;
    jv *a0 = jj_arg(a, 0, NULL);
    *out = JV_NONE_V;
    switch (id) {
    case M_APPEND:
        if (!a0) return jj_fail(rt, FR_EINVAL, line, "append() takes one argument");
        return jv_list_push(rt, l, jv_ref(*a0));
    case M_POP:
    case M_INSERT: {
        int64_t i;
        if (opt_int(rt, a0, id == M_POP ? -1 : 0, "index", line, &i)) return rt->status;
        int64_t n = (int64_t)l->n;
        if (id == M_POP) {
            if (!n) return jj_fail(rt, FR_EINVAL, line, "pop from an empty list");
            if (i < 0) i += n;
            if (i < 0 || i >= n) return jj_fail(rt, FR_EINVAL, line, "pop index out of range");
            *out = l->items[i];
            memmove(l->items + i, l->items + i + 1, (size_t)(n - i - 1) * sizeof(jv));
            l->n--;
            return 0;
        }
        jv *x = jj_arg(a, 1, NULL);
        if (!x) return jj_fail(rt, FR_EINVAL, line, "insert() takes two arguments");
        if (i < 0) i = i + n < 0 ? 0 : i + n;
        if (i > n) i = n;
        if (jv_list_push(rt, l, jv_ref(*x))) return rt->status;
        jv v = l->items[l->n - 1];
        memmove(l->items + i + 1, l->items + i, (size_t)(n - i) * sizeof(jv));
        l->items[i] = v;
        return 0;
    }
    case M_EXTEND: {
        if (!a0 || a0->t != JV_LIST) return jj_fail(rt, FR_EINVAL, line, "extend() takes a list");
        size_t m = a0->u.l->n; /* a0 may be l itself */
        for (size_t i = 0; i < m; i++)
            if (jv_list_push(rt, l, jv_ref(a0->u.l->items[i]))) return rt->status;
        return 0;
    }
    case M_INDEX:
    case M_LCOUNT:
    case M_REMOVE: {
        if (!a0) return jj_fail(rt, FR_EINVAL, line, "%s() takes one argument", k_methods[id]);
        int64_t c = 0;
        for (size_t i = 0; i < l->n; i++) {
            if (!jv_strict_eq(l->items[i], *a0)) continue;
            if (id == M_INDEX) {
                *out = jv_int((int64_t)i);
                return 0;
            }
            if (id == M_REMOVE) {
                jv v = l->items[i];
                memmove(l->items + i, l->items + i + 1, (l->n - i - 1) * sizeof(jv));
                l->n--;
                jv_decref(rt, v);
                return 0;
            }
            c++;
        }
        if (id == M_LCOUNT) {
            *out = jv_int(c);
            return 0;
        }
        return jj_fail(rt, FR_EINVAL, line, "%s(x): x not in list", k_methods[id]);
    }
    }
    return 0;
}

/* ---------------------------------------------------------------- dict methods */

static int dict_pairs(jj_rt *rt, jj_dict *d, jv *out) {
    if (jv_list_new(rt, d->n, out)) return rt->status;
    for (size_t i = 0; i < d->n; i++) {
        jv pair;
        if (jv_list_new(rt, 2, &pair)) return rt->status;
        jv_list_push(rt, pair.u.l, jv_dict_key(d, i));
        jv_list_push(rt, pair.u.l, jv_ref(d->vals[i]));
        if (jv_list_push(rt, out->u.l, pair)) return rt->status;
    }
    return 0;
}

static int want_bool(jj_rt *rt, jv *v, bool def, const char *what, int line, bool *out) {
    *out = def;
    if (!v) return 0;
    if (v->t != JV_BOOL) return jj_fail(rt, FR_EINVAL, line, "%s must be a boolean", what);
    *out = v->u.b;
    return 0;
}

static int dict_method(jj_rt *rt, int id, jv self, jj_args *a, int line, jv *out) {
    jj_dict *d = self.u.d;
    jv *a0 = jj_arg(a, 0, NULL);
    *out = JV_NONE_V;
    switch (id) {
    case M_GET:
    case M_DPOP:
    case M_SETDEFAULT: {
        if (!a0 || (a0->t != JV_STR && a0->t != JV_INT))
            return jj_fail(rt, FR_EINVAL, line, "dict key must be a string, not %s",
                           a0 ? jv_type_name(*a0) : "missing");
        jv *def = jj_arg(a, 1, "default");
        jv *v = jv_dict_get_key(d, *a0);
        if (id == M_GET) {
            *out = jv_ref(v ? *v : def ? *def : JV_NONE_V);
            return 0;
        }
        if (id == M_SETDEFAULT) {
            if (v) {
                *out = jv_ref(*v);
                return 0;
            }
            *out = jv_ref(def ? *def : JV_NONE_V);
            return jv_dict_set_key(rt, d, *a0, jv_ref(*out), line);
        }
        if (!v) {
            if (def) {
                *out = jv_ref(*def);
                return 0;
            }
            return jj_fail(rt, FR_EINVAL, line, "pop(): key not found");
        }
        *out = jv_ref(*v);
        jv_dict_del(rt, d, *a0);
        return 0;
    }
    case M_ITEMS:
        return dict_pairs(rt, d, out);
    case M_KEYS:
    case M_VALUES:
        if (jv_list_new(rt, d->n, out)) return rt->status;
        for (size_t i = 0; i < d->n; i++) {
            jv x = id == M_VALUES ? jv_ref(d->vals[i]) : jv_dict_key(d, i);
            if (jv_list_push(rt, out->u.l, x)) return rt->status;
        }
        return 0;
    case M_COPY:
        if (jv_dict_new(rt, false, out)) return rt->status;
        for (size_t i = 0; i < d->n; i++)
            if (jv_dict_copy_entry(rt, out->u.d, d, i)) return rt->status;
        return 0;
    case M_UPDATE:
        if (a0 && a0->t == JV_DICT) {
            jj_dict *o = a0->u.d;
            for (size_t i = 0; i < o->n; i++)
                if (jv_dict_copy_entry(rt, d, o, i)) return rt->status;
        } else if (a0) {
            return jj_fail(rt, FR_EINVAL, line, "update() takes a dict");
        }
        for (size_t k = 0; k < a->nkw; k++)
            if (jv_dict_set(rt, d, a->kw[k], a->kwlen[k], jv_ref(a->kwv[k]))) return rt->status;
        return 0;
    case M_DICTSORT: {
        bool cs, rev;
        jv *by = jj_arg(a, 1, "by");
        if (want_bool(rt, jj_arg(a, 0, "case_sensitive"), false, "case_sensitive", line, &cs) ||
            want_bool(rt, jj_arg(a, 2, "reverse"), false, "reverse", line, &rev))
            return rt->status;
        int col = 0;
        if (by) {
            if (by->t == JV_STR && by->u.s->len == 5 && !memcmp(by->u.s->data, "value", 5))
                col = 1;
            else if (!(by->t == JV_STR && by->u.s->len == 3 && !memcmp(by->u.s->data, "key", 3)))
                return jj_fail(rt, FR_EINVAL, line, "dictsort: 'by' must be 'key' or 'value'");
        }
        if (dict_pairs(rt, d, out)) return rt->status;
        jj_list *l = out->u.l;
        jv *keys = malloc((l->n + 1) * sizeof *keys);
        if (!keys) return jj_fail(rt, FR_ENOMEM, 0, "out of memory rendering the template");
        for (size_t i = 0; i < l->n; i++) keys[i] = l->items[i].u.l->items[col];
        int rc = jj_sort(rt, l->items, keys, l->n, cs, rev, line);
        free(keys);
        return rc;
    }
    }
    return 0;
}

int jj_method_call(jj_rt *rt, int id, jv self, jj_args *args, int line, jv *out) {
    *out = JV_UNDEF_V;
    if (self.t == JV_STR && id < M_STR_END) return str_method(rt, id, self, args, line, out);
    if (self.t == JV_LIST && id >= M_STR_END && id < M_LIST_END)
        return list_method(rt, id, self, args, line, out);
    if (self.t == JV_DICT && id >= M_LIST_END && id < M_DICT_END)
        return dict_method(rt, id, self, args, line, out);
    return jj_fail(rt, FR_EINVAL, line, "method '%s' does not apply to %s", jj_method_name(id),
                   jv_type_name(self));
}
