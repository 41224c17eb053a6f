/* jinja_filters.c: filters (value | name(args)) and tests (value is name(args)).
 * Filters: safe, tojson (indent, ensure_ascii, sort_keys, separators), from_json, string,
 * length/count, list, first, last, reverse, sort, unique, join, trim, upper, lower, title,
 * capitalize, indent, replace, int, float, abs, round, bool, default/d, items, keys, values,
 * dictsort, selectattr, rejectattr, select, reject, map, sum, min, max, attr, wordcount,
 * batch, escape/e. Tests: defined, undefined, none, boolean, true, false, string, number,
 * integer, float, iterable, mapping, sequence, callable, lower, upper, odd, even,
 * divisibleby, equalto/eq/sameas, ne, lt/le/gt/ge (lessthan, greaterthan), in.
 * Output formats follow @huggingface/jinja (tojson separators, string of a list = JSON). */
#include "jinja/jinja_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef int (*filter_fn)(jj_rt *rt, jv v, jj_args *a, int line, jv *out);

static int out_fail(jj_rt *rt) {
    return jj_fail(rt, FR_ERANGE, 0, "rendered text larger than %zu bytes", rt->lim.max_output);
}

static int bad_type(jj_rt *rt, const char *f, jv v, int line) {
    return jj_fail(rt, FR_EINVAL, line, "filter '%s' cannot be applied to a %s", f,
                   jv_type_name(v));
}

static bool arg_bool(jj_args *a, int i, const char *kw, bool def) {
    jv *v = jj_arg(a, i, kw);
    return v ? jv_truthy(*v) : def;
}

/* ---------------------------------------------------------------- conversions */

static int f_safe(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)rt;
    (void)a;
    (void)line;
    *out = jv_ref(v);
    return 0;
}

static int f_tojson(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    jj_json_opts o = {.undef_null = true};
    jv *ind = jj_arg(a, 0, "indent"), *sep = jj_arg(a, -1, "separators");
    if (ind && ind->t == JV_INT)
        o.indent = ind->u.i > 0 ? (int)(ind->u.i > 64 ? 64 : ind->u.i) : 0;
    else if (ind && ind->t != JV_NONE)
        return jj_fail(rt, FR_EINVAL, line, "tojson: indent must be an integer");
    o.ensure_ascii = arg_bool(a, -1, "ensure_ascii", false);
    o.sort_keys = arg_bool(a, -1, "sort_keys", false);
    if (sep && sep->t == JV_LIST) {
        if (sep->u.l->n != 2 || sep->u.l->items[0].t != JV_STR || sep->u.l->items[1].t != JV_STR)
            return jj_fail(rt, FR_EINVAL, line, "tojson: separators must be two strings");
        o.item_sep = sep->u.l->items[0].u.s->data;
        o.key_sep = sep->u.l->items[1].u.s->data;
    } else if (sep && sep->t != JV_NONE) {
        return jj_fail(rt, FR_EINVAL, line, "tojson: separators must be two strings");
    }
    jj_buf b;
    jj_new_buf(rt, &b);
    if (jv_to_json(rt, &b, v, &o, line)) {
        jj_buf_free(&b);
        return rt->status;
    }
    return jv_str_from_buf(rt, &b, out);
}

static int f_from_json(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    if (v.t != JV_STR) return bad_type(rt, "from_json", v, line);
    json_error_t je;
    json_t *j = json_loadb(v.u.s->data, v.u.s->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) /* integers beyond 64 bits: read as doubles, as JSON.parse does */
        j = json_loadb(v.u.s->data, v.u.s->len,
                       JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    if (!j) return jj_fail(rt, FR_EINVAL, line, "from_json: invalid JSON: %s", je.text);
    int rc = jv_from_json(rt, j, out);
    json_decref(j);
    return rc;
}

static int f_string(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    if (v.t == JV_STR) {
        *out = jv_ref(v);
        return 0;
    }
    if (v.t == JV_NONE) return jv_str_new(rt, "None", 4, out);
    if (v.t == JV_UNDEF) return jv_str_new(rt, "", 0, out);
    jj_buf b;
    jj_new_buf(rt, &b);
    /* a dict prints as Python does (@huggingface/jinja has no string of a dict) */
    int rc = v.t == JV_DICT || v.t == JV_NS ? jv_to_pyrepr(rt, &b, v, line)
                                            : jv_to_display(rt, &b, v, line);
    if (rc) {
        jj_buf_free(&b);
        return rt->status;
    }
    return jv_str_from_buf(rt, &b, out);
}

static int f_length(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    switch (v.t) {
    case JV_STR:
        *out = jv_int((int64_t)jj_utf16_len(v.u.s->data, v.u.s->len));
        return 0;
    case JV_LIST:
        *out = jv_int((int64_t)v.u.l->n);
        return 0;
    case JV_DICT:
    case JV_NS:
        *out = jv_int((int64_t)v.u.d->n);
        return 0;
    case JV_UNDEF:
        *out = jv_int(0);
        return 0;
    default:
        return bad_type(rt, "length", v, line);
    }
}

/* The items of a list / characters of a string / keys of a dict as a new list. */
static int to_list(jj_rt *rt, jv v, const char *f, int line, jv *out) {
    if (jv_list_new(rt, 0, out)) return rt->status;
    if (v.t == JV_LIST) {
        for (size_t i = 0; i < v.u.l->n; i++)
            if (jv_list_push(rt, out->u.l, jv_ref(v.u.l->items[i]))) return rt->status;
    } else if (v.t == JV_DICT) {
        for (size_t i = 0; i < v.u.d->n; i++)
            if (jv_list_push(rt, out->u.l, jv_dict_key(v.u.d, i))) return rt->status;
    } else if (v.t == JV_STR) {
        const char *s = v.u.s->data;
        size_t n = v.u.s->len, i = 0;
        while (i < n) {
            uint32_t cp;
            size_t l = jj_utf8_next(s + i, n - i, &cp);
            jv c;
            if (jv_str_new(rt, s + i, l, &c) || jv_list_push(rt, out->u.l, c)) return rt->status;
            i += l;
        }
    } else if (v.t != JV_UNDEF) {
        return bad_type(rt, f, v, line);
    }
    return 0;
}

static int f_list(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    if (v.t == JV_LIST) {
        *out = jv_ref(v);
        return 0;
    }
    return to_list(rt, v, "list", line, out);
}

static int f_first_last(jj_rt *rt, jv v, int line, bool last, jv *out) {
    if (v.t == JV_UNDEF) return 0;
    if (v.t != JV_LIST && v.t != JV_STR) return bad_type(rt, last ? "last" : "first", v, line);
    jv l;
    if (to_list(rt, v, "first", line, &l)) return rt->status;
    if (l.u.l->n) *out = jv_ref(l.u.l->items[last ? l.u.l->n - 1 : 0]);
    jv_decref(rt, l);
    return 0;
}
static int f_first(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    return f_first_last(rt, v, line, false, out);
}
static int f_last(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    return f_first_last(rt, v, line, true, out);
}

static int f_reverse(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    if (v.t != JV_LIST && v.t != JV_STR) return bad_type(rt, "reverse", v, line);
    jv l;
    if (to_list(rt, v, "reverse", line, &l)) return rt->status;
    jj_list *x = l.u.l;
    for (size_t i = 0, j = x->n ? x->n - 1 : 0; i < j; i++, j--) {
        jv t = x->items[i];
        x->items[i] = x->items[j];
        x->items[j] = t;
    }
    if (v.t == JV_LIST) {
        *out = l;
        return 0;
    }
    jj_buf b;
    jj_new_buf(rt, &b);
    for (size_t i = 0; i < x->n; i++)
        if (jj_buf_put(&b, x->items[i].u.s->data, x->items[i].u.s->len)) {
            jj_buf_free(&b);
            jv_decref(rt, l);
            return out_fail(rt);
        }
    jv_decref(rt, l);
    return jv_str_from_buf(rt, &b, out);
}

jv jj_attr_path(jv item, const char *path, size_t n) {
    size_t i = 0;
    while (1) {
        const char *dot = memchr(path + i, '.', n - i);
        size_t e = dot ? (size_t)(dot - path) : n;
        if (item.t == JV_DICT || item.t == JV_NS) {
            jv *v = jv_dict_get(item.u.d, path + i, e - i);
            if (!v) return JV_UNDEF_V;
            item = *v;
        } else if (item.t == JV_LIST) {
            char *end;
            char tmp[24];
            size_t l = e - i < sizeof tmp - 1 ? e - i : sizeof tmp - 1;
            memcpy(tmp, path + i, l);
            tmp[l] = 0;
            long long k = strtoll(tmp, &end, 10);
            if (end == tmp || k < 0 || (size_t)k >= item.u.l->n) return JV_UNDEF_V;
            item = item.u.l->items[k];
        } else {
            return JV_UNDEF_V;
        }
        if (!dot) return item;
        i = e + 1;
    }
}

static int f_sort(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    if (v.t != JV_LIST) return bad_type(rt, "sort", v, line);
    bool rev = arg_bool(a, 0, "reverse", false), cs = arg_bool(a, 1, "case_sensitive", false);
    jv *attr = jj_arg(a, 2, "attribute");
    if (to_list(rt, v, "sort", line, out)) return rt->status;
    jj_list *l = out->u.l;
    jv *keys = NULL;
    if (attr && attr->t != JV_NONE) {
        char tmp[32];
        const char *p;
        size_t pn;
        if (attr->t == JV_STR) {
            p = attr->u.s->data;
            pn = attr->u.s->len;
        } else if (attr->t == JV_INT) {
            pn = (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)attr->u.i);
            p = tmp;
        } else
            return jj_fail(rt, FR_EINVAL, line, "sort: attribute must be a string or integer");
        keys = malloc((l->n + 1) * sizeof *keys);
        if (!keys) return jj_fail(rt, FR_ENOMEM, 0, "out of memory sorting");
        for (size_t i = 0; i < l->n; i++) keys[i] = jj_attr_path(l->items[i], p, pn);
    }
    int rc = jj_sort(rt, l->items, keys, l->n, cs, rev, line);
    free(keys);
    return rc;
}

static int f_unique(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    if (v.t != JV_LIST) return bad_type(rt, "unique", v, line);
    if (jv_list_new(rt, 0, out)) return rt->status;
    jj_list *l = out->u.l;
    for (size_t i = 0; i < v.u.l->n; i++) {
        jv x = v.u.l->items[i];
        bool seen = false;
        for (size_t k = 0; k < l->n && !seen; k++) seen = jv_strict_eq(l->items[k], x);
        if ((i & 63) == 63 && jj_step(rt, line)) return rt->status;
        if (!seen && jv_list_push(rt, l, jv_ref(x))) return rt->status;
    }
    return 0;
}

static int f_join(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    jv *sep = jj_arg(a, 0, "separator");
    if (!sep) sep = jj_arg(a, -1, "d");
    jv *attr = jj_arg(a, 1, "attribute");
    if (sep && sep->t != JV_STR)
        return jj_fail(rt, FR_EINVAL, line, "join: separator must be a string");
    if (v.t == JV_STR && !sep) {
        *out = jv_ref(v);
        return 0;
    }
    jv l;
    if (v.t != JV_LIST && v.t != JV_STR) return bad_type(rt, "join", v, line);
    if (to_list(rt, v, "join", line, &l)) return rt->status;
    jj_buf b;
    jj_new_buf(rt, &b);
    int rc = 0;
    for (size_t i = 0; i < l.u.l->n && !rc; i++) {
        if (i && sep && jj_buf_put(&b, sep->u.s->data, sep->u.s->len)) {
            rc = out_fail(rt);
            break;
        }
        jv x = l.u.l->items[i];
        if (attr && attr->t == JV_STR) x = jj_attr_path(x, attr->u.s->data, attr->u.s->len);
        rc = jv_to_raw(rt, &b, x, line);
    }
    jv_decref(rt, l);
    if (rc) {
        jj_buf_free(&b);
        return rc;
    }
    return jv_str_from_buf(rt, &b, out);
}

/* ---------------------------------------------------------------- strings */

static int f_trim(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    if (v.t == JV_UNDEF) return jv_str_new(rt, "", 0, out);
    if (v.t != JV_STR) return bad_type(rt, "trim", v, line);
    return jj_str_strip(rt, v, jj_arg(a, 0, "chars"), true, true, out);
}

static int f_case(jj_rt *rt, jv v, int line, int mode, const char *name, jv *out) {
    if (v.t == JV_UNDEF) return jv_str_new(rt, "", 0, out);
    if (v.t != JV_STR) return bad_type(rt, name, v, line);
    return jj_str_case(rt, v, mode, out);
}
static int f_lower(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    return f_case(rt, v, line, 0, "lower", out);
}
static int f_upper(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    return f_case(rt, v, line, 1, "upper", out);
}
static int f_title(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    return f_case(rt, v, line, 2, "title", out);
}
static int f_capitalize(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    return f_case(rt, v, line, 3, "capitalize", out);
}

static int f_indent(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    if (v.t == JV_UNDEF) return jv_str_new(rt, "", 0, out);
    if (v.t != JV_STR) return bad_type(rt, "indent", v, line);
    jv *w = jj_arg(a, 0, "width");
    bool first = arg_bool(a, 1, "first", false), blank = arg_bool(a, 2, "blank", false);
    const char *ind = "    ";
    size_t il = 4;
    char spaces[257];
    if (w && w->t == JV_INT) {
        il = w->u.i < 0 ? 0 : w->u.i > 256 ? 256 : (size_t)w->u.i;
        memset(spaces, ' ', il);
        ind = spaces;
    } else if (w && w->t == JV_STR) {
        ind = w->u.s->data;
        il = w->u.s->len;
    } else if (w) {
        return jj_fail(rt, FR_EINVAL, line, "indent: width must be a number or string");
    }
    const char *s = v.u.s->data;
    size_t n = v.u.s->len, st = 0, ln = 0;
    jj_buf b;
    jj_new_buf(rt, &b);
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '\n') continue;
        bool empty = i == st;
        if (ln && jj_buf_putc(&b, '\n')) goto big;
        if (!((!first && ln == 0) || (!blank && empty)) && jj_buf_put(&b, ind, il)) goto big;
        if (jj_buf_put(&b, s + st, i - st)) goto big;
        st = i + 1;
        ln++;
    }
    return jv_str_from_buf(rt, &b, out);
big:
    jj_buf_free(&b);
    return out_fail(rt);
}

static int f_replace(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    if (v.t == JV_UNDEF) return jv_str_new(rt, "", 0, out);
    if (v.t != JV_STR) return bad_type(rt, "replace", v, line);
    jv *o = jj_arg(a, 0, "old"), *n = jj_arg(a, 1, "new"), *c = jj_arg(a, 2, "count");
    if (!o || !n || o->t != JV_STR || n->t != JV_STR)
        return jj_fail(rt, FR_EINVAL, line, "replace: old and new must be strings");
    int64_t count = -1;
    if (c && c->t == JV_INT)
        count = c->u.i;
    else if (c && c->t != JV_NONE)
        return jj_fail(rt, FR_EINVAL, line, "replace: count must be an integer");
    return jj_str_replace(rt, v, *o, *n, count, out);
}

static int f_wordcount(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    if (v.t != JV_STR) return bad_type(rt, "wordcount", v, line);
    const char *s = v.u.s->data;
    size_t n = v.u.s->len, i = 0;
    int64_t c = 0;
    bool in = false;
    while (i < n) {
        uint32_t cp;
        size_t l = jj_utf8_next(s + i, n - i, &cp);
        bool w = !jj_is_space(cp);
        if (w && !in) c++;
        in = w;
        i += l;
    }
    *out = jv_int(c);
    return 0;
}

static int f_escape(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    jv s;
    if (f_string(rt, v, a, line, &s)) return rt->status;
    jj_buf b;
    jj_new_buf(rt, &b);
    for (size_t i = 0; i < s.u.s->len; i++) {
        char c = s.u.s->data[i];
        const char *e = c == '&'    ? "&amp;"
                        : c == '<'  ? "&lt;"
                        : c == '>'  ? "&gt;"
                        : c == '"'  ? "&#34;"
                        : c == '\'' ? "&#39;"
                                    : NULL;
        if (e ? jj_buf_puts(&b, e) : jj_buf_putc(&b, c)) {
            jj_buf_free(&b);
            jv_decref(rt, s);
            return out_fail(rt);
        }
    }
    jv_decref(rt, s);
    return jv_str_from_buf(rt, &b, out);
}

/* ---------------------------------------------------------------- numbers */

static int f_int(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    jv *def = jj_arg(a, 0, "default");
    jv d = def ? *def : jv_int(0);
    double x;
    switch (v.t) {
    case JV_INT:
        *out = v;
        return 0;
    case JV_FLOAT:
        if (!isfinite(v.u.f) || fabs(v.u.f) >= 9.2e18) {
            *out = jv_ref(d);
            return 0;
        }
        *out = jv_int((int64_t)trunc(v.u.f));
        return 0;
    case JV_BOOL:
        *out = jv_int(v.u.b);
        return 0;
    case JV_STR:
        if (jj_js_parse_int(v.u.s->data, v.u.s->len, &x) && fabs(x) < 9.2e18)
            *out = jv_int((int64_t)x);
        else
            *out = jv_ref(d);
        return 0;
    case JV_NONE:
    case JV_UNDEF:
        *out = jv_ref(d);
        return 0;
    default:
        return bad_type(rt, "int", v, line);
    }
}

static int f_float(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    jv *def = jj_arg(a, 0, "default");
    jv d = def ? *def : jv_float(0);
    double x;
    switch (v.t) {
    case JV_INT:
        *out = jv_float((double)v.u.i);
        return 0;
    case JV_FLOAT:
        *out = v;
        return 0;
    case JV_BOOL:
        *out = jv_float(v.u.b);
        return 0;
    case JV_STR:
        if (jj_js_parse_float(v.u.s->data, v.u.s->len, &x))
            *out = jv_float(x);
        else
            *out = jv_ref(d);
        return 0;
    case JV_NONE:
    case JV_UNDEF:
        *out = jv_ref(d);
        return 0;
    default:
        return bad_type(rt, "float", v, line);
    }
}

static int f_abs(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)a;
    if (v.t == JV_INT) {
        *out = v.u.i == INT64_MIN ? jv_bigint(-(double)v.u.i) : jv_int(v.u.i < 0 ? -v.u.i : v.u.i);
        return 0;
    }
    if (v.t == JV_FLOAT) {
        *out = v;
        out->u.f = fabs(v.u.f);
        return 0;
    }
    return bad_type(rt, "abs", v, line);
}

static int f_round(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    if (!jv_is_num(v)) return bad_type(rt, "round", v, line);
    jv *p = jj_arg(a, 0, "precision"), *m = jj_arg(a, 1, "method");
    int64_t prec = p && p->t == JV_INT ? p->u.i : 0;
    if (prec > 300) prec = 300;
    if (prec < -300) prec = -300;
    double x = jv_num(v), k = pow(10.0, (double)prec), r;
    const char *meth = m && m->t == JV_STR ? m->u.s->data : "common";
    if (!strcmp(meth, "floor"))
        r = floor(x * k) / k;
    else if (!strcmp(meth, "ceil"))
        r = ceil(x * k) / k;
    else if (!strcmp(meth, "common"))
        r = round(x * k) / k;
    else
        return jj_fail(rt, FR_EINVAL, line, "round: method must be common, ceil or floor");
    *out = jv_float(r);
    return 0;
}

static int f_bool(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)rt;
    (void)a;
    (void)line;
    *out = jv_bool(jv_truthy(v));
    return 0;
}

static int f_default(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    (void)line;
    jv *d = jj_arg(a, 0, "default_value");
    bool boolean = arg_bool(a, 1, "boolean", false);
    if (v.t == JV_UNDEF || (boolean && !jv_truthy(v))) {
        if (d)
            *out = jv_ref(*d);
        else
            return jv_str_new(rt, "", 0, out);
        return 0;
    }
    *out = jv_ref(v);
    return 0;
}

/* sum / min / max over a list (optionally of an attribute) */
static int f_aggregate(jj_rt *rt, jv v, jj_args *a, int line, int mode, jv *out) {
    static const char *const names[3] = {"sum", "min", "max"};
    if (v.t != JV_LIST) return bad_type(rt, names[mode], v, line);
    jv *attr = jj_arg(a, mode == 0 ? 0 : 1, "attribute");
    bool cs = mode ? arg_bool(a, 0, "case_sensitive", false) : false;
    jv acc = mode == 0 ? (jj_arg(a, 1, "start") ? *jj_arg(a, 1, "start") : jv_int(0)) : JV_UNDEF_V;
    for (size_t i = 0; i < v.u.l->n; i++) {
        jv x = v.u.l->items[i];
        if (attr && attr->t == JV_STR) x = jj_attr_path(x, attr->u.s->data, attr->u.s->len);
        if (mode == 0) {
            if (!(jv_is_num(x) || x.t == JV_BOOL) || !(jv_is_num(acc) || acc.t == JV_BOOL))
                return jj_fail(rt, FR_EINVAL, line, "sum: items must be numbers");
            bool ints = acc.t != JV_FLOAT && x.t != JV_FLOAT;
            int64_t z;
            if (ints && !__builtin_add_overflow((int64_t)jv_num(acc), (int64_t)jv_num(x), &z))
                acc = jv_int(z);
            else
                acc = jv_float(jv_num(acc) + jv_num(x));
            continue;
        }
        if (acc.t == JV_UNDEF) {
            acc = x;
            continue;
        }
        int c;
        if (jv_compare(rt, x, acc, cs, line, &c)) return rt->status;
        if ((mode == 1 && c < 0) || (mode == 2 && c > 0)) acc = x;
    }
    *out = jv_ref(acc);
    return 0;
}
static int f_sum(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    return f_aggregate(rt, v, a, line, 0, out);
}
static int f_min(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    return f_aggregate(rt, v, a, line, 1, out);
}
static int f_max(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    return f_aggregate(rt, v, a, line, 2, out);
}

/* ---------------------------------------------------------------- dicts */

static int f_dictmethod(jj_rt *rt, jv v, jj_args *a, int line, const char *name, jv *out) {
    if (v.t == JV_UNDEF) return jv_list_new(rt, 0, out);
    if (v.t != JV_DICT) return bad_type(rt, name, v, line);
    return jj_method_call(rt, jj_method_find(v, name, strlen(name)), v, a, line, out);
}
static int f_items(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    return f_dictmethod(rt, v, a, line, "items", out);
}
static int f_keys(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    return f_dictmethod(rt, v, a, line, "keys", out);
}
static int f_values(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    return f_dictmethod(rt, v, a, line, "values", out);
}
static int f_dictsort(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    return f_dictmethod(rt, v, a, line, "dictsort", out);
}

static int f_attr(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    jv *n = jj_arg(a, 0, "name");
    if (!n || n->t != JV_STR) return jj_fail(rt, FR_EINVAL, line, "attr: name must be a string");
    return jj_getattr(rt, v, n->u.s->data, n->u.s->len, line, out);
}

static int f_batch(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    jv *nv = jj_arg(a, 0, "linecount"), *fill = jj_arg(a, 1, "fill_with");
    if (v.t != JV_LIST) return bad_type(rt, "batch", v, line);
    if (!nv || nv->t != JV_INT || nv->u.i <= 0)
        return jj_fail(rt, FR_EINVAL, line, "batch: size must be a positive integer");
    size_t k = (size_t)nv->u.i;
    if (jv_list_new(rt, 0, out)) return rt->status;
    jv cur = JV_UNDEF_V;
    for (size_t i = 0; i < v.u.l->n; i++) {
        if (cur.t == JV_UNDEF && jv_list_new(rt, 0, &cur)) return rt->status;
        if (jv_list_push(rt, cur.u.l, jv_ref(v.u.l->items[i]))) return rt->status;
        if (cur.u.l->n == k) {
            if (jv_list_push(rt, out->u.l, cur)) return rt->status;
            cur = JV_UNDEF_V;
        }
    }
    if (cur.t != JV_UNDEF) {
        while (fill && cur.u.l->n < k)
            if (jv_list_push(rt, cur.u.l, jv_ref(*fill))) return rt->status;
        return jv_list_push(rt, out->u.l, cur);
    }
    return 0;
}

/* ---------------------------------------------------------------- select / map */

/* Applies the test named by args[first] (with the remaining args) to x; no name: truth. */
static int apply_test_args(jj_rt *rt, jv x, jj_args *a, size_t first, int line, bool *res) {
    if (a->npos <= first) {
        *res = jv_truthy(x);
        return 0;
    }
    jv name = a->pos[first];
    if (name.t != JV_STR) return jj_fail(rt, FR_EINVAL, line, "test name must be a string");
    jj_args sub = {0};
    sub.pos = a->pos + first + 1;
    sub.npos = a->npos - first - 1;
    return jj_test(rt, name.u.s->data, name.u.s->len, x, &sub, line, res);
}

static int select_common(jj_rt *rt, jv v, jj_args *a, int line, bool attr, bool reject, jv *out) {
    const char *fname =
        attr ? (reject ? "rejectattr" : "selectattr") : (reject ? "reject" : "select");
    if (v.t == JV_UNDEF) return jv_list_new(rt, 0, out);
    if (v.t != JV_LIST) return bad_type(rt, fname, v, line);
    if (attr && (a->npos < 1 || a->pos[0].t != JV_STR))
        return jj_fail(rt, FR_EINVAL, line, "%s: the attribute name must be a string", fname);
    if (jv_list_new(rt, 0, out)) return rt->status;
    for (size_t i = 0; i < v.u.l->n; i++) {
        jv item = v.u.l->items[i], x = item;
        if (attr) x = jj_attr_path(item, a->pos[0].u.s->data, a->pos[0].u.s->len);
        bool r;
        if (apply_test_args(rt, x, a, attr ? 1 : 0, line, &r)) return rt->status;
        if (r != reject && jv_list_push(rt, out->u.l, jv_ref(item))) return rt->status;
    }
    return 0;
}
static int f_select(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    return select_common(rt, v, a, line, false, false, out);
}
static int f_reject(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    return select_common(rt, v, a, line, false, true, out);
}
static int f_selectattr(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    return select_common(rt, v, a, line, true, false, out);
}
static int f_rejectattr(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    return select_common(rt, v, a, line, true, true, out);
}

static int f_map(jj_rt *rt, jv v, jj_args *a, int line, jv *out) {
    if (v.t == JV_UNDEF) return jv_list_new(rt, 0, out);
    if (v.t != JV_LIST) return bad_type(rt, "map", v, line);
    jv *attr = jj_arg(a, -1, "attribute"), *def = jj_arg(a, -1, "default");
    if (!attr && (a->npos < 1 || a->pos[0].t != JV_STR))
        return jj_fail(rt, FR_EINVAL, line, "map: needs attribute= or a filter name");
    if (attr && attr->t != JV_STR && attr->t != JV_INT)
        return jj_fail(rt, FR_EINVAL, line, "map: attribute must be a string");
    if (jv_list_new(rt, v.u.l->n, out)) return rt->status;
    for (size_t i = 0; i < v.u.l->n; i++) {
        jv item = v.u.l->items[i], r;
        if (attr) {
            char tmp[32];
            const char *p = tmp;
            size_t pn;
            if (attr->t == JV_STR) {
                p = attr->u.s->data;
                pn = attr->u.s->len;
            } else
                pn = (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)attr->u.i);
            r = jj_attr_path(item, p, pn);
            r = jv_ref(r.t == JV_UNDEF && def ? *def : r);
        } else {
            jj_args sub = *a;
            sub.pos = a->pos + 1;
            sub.npos = a->npos - 1;
            if (jj_filter(rt, a->pos[0].u.s->data, a->pos[0].u.s->len, item, &sub, NULL, line, &r))
                return rt->status;
        }
        if (jv_list_push(rt, out->u.l, r)) return rt->status;
    }
    return 0;
}

/* ---------------------------------------------------------------- dispatch */

static const struct {
    const char *name;
    filter_fn fn;
} k_filters[] = {
    {"safe", f_safe},
    {"tojson", f_tojson},
    {"from_json", f_from_json},
    {"string", f_string},
    {"length", f_length},
    {"count", f_length},
    {"list", f_list},
    {"first", f_first},
    {"last", f_last},
    {"reverse", f_reverse},
    {"sort", f_sort},
    {"unique", f_unique},
    {"join", f_join},
    {"trim", f_trim},
    {"upper", f_upper},
    {"lower", f_lower},
    {"title", f_title},
    {"capitalize", f_capitalize},
    {"indent", f_indent},
    {"replace", f_replace},
    {"int", f_int},
    {"float", f_float},
    {"abs", f_abs},
    {"round", f_round},
    {"bool", f_bool},
    {"default", f_default},
    {"d", f_default},
    {"items", f_items},
    {"keys", f_keys},
    {"values", f_values},
    {"dictsort", f_dictsort},
    {"selectattr", f_selectattr},
    {"rejectattr", f_rejectattr},
    {"select", f_select},
    {"reject", f_reject},
    {"map", f_map},
    {"sum", f_sum},
    {"min", f_min},
    {"max", f_max},
    {"attr", f_attr},
    {"wordcount", f_wordcount},
    {"batch", f_batch},
    {"escape", f_escape},
    {"e", f_escape},
};

int jj_filter(jj_rt *rt, const char *name, size_t n, jv operand, jj_args *args, jj_scope *sc,
              int line, jv *out) {
    (void)sc;
    *out = JV_UNDEF_V;
    if (jj_step(rt, line)) return rt->status;
    for (size_t i = 0; i < sizeof k_filters / sizeof *k_filters; i++)
        if (strlen(k_filters[i].name) == n && !memcmp(k_filters[i].name, name, n))
            return k_filters[i].fn(rt, operand, args, line, out);
    return jj_fail(rt, FR_EUNSUP, line, "unsupported filter '%.*s'", (int)(n > 60 ? 60 : n), name);
}

/* ---------------------------------------------------------------- tests */

int jj_test(jj_rt *rt, const char *name, size_t n, jv v, jj_args *a, int line, bool *res) {
    jv *arg = jj_arg(a, 0, NULL);
    *res = false;
#define IS(s) (n == strlen(s) && !memcmp(name, s, n))
    if (IS("defined"))
        *res = v.t != JV_UNDEF;
    else if (IS("undefined"))
        *res = v.t == JV_UNDEF;
    else if (IS("none"))
        *res = v.t == JV_NONE;
    else if (IS("boolean"))
        *res = v.t == JV_BOOL;
    else if (IS("true"))
        *res = v.t == JV_BOOL && v.u.b;
    else if (IS("false"))
        *res = v.t == JV_BOOL && !v.u.b;
    else if (IS("string"))
        *res = v.t == JV_STR;
    else if (IS("number"))
        *res = jv_is_num(v);
    else if (IS("integer"))
        *res = v.t == JV_INT || (v.t == JV_FLOAT && v.big);
    else if (IS("float"))
        *res = v.t == JV_FLOAT && !v.big;
    else if (IS("iterable"))
        *res = v.t == JV_LIST || v.t == JV_STR;
    else if (IS("mapping"))
        *res = v.t == JV_DICT;
    else if (IS("sequence"))
        *res = v.t == JV_LIST || v.t == JV_DICT || v.t == JV_STR;
    else if (IS("callable"))
        *res = v.t == JV_FUNC;
    else if (IS("escaped"))
        *res = false;
    else if (IS("lower") || IS("upper")) {
        if (v.t == JV_STR) {
            jv c;
            if (jj_str_case(rt, v, IS("upper") ? 1 : 0, &c)) return rt->status;
            *res = jv_strict_eq(c, v);
            jv_decref(rt, c);
        }
    } else if (IS("odd") || IS("even") || IS("divisibleby")) {
        if (v.t != JV_INT)
            return jj_fail(rt, FR_EINVAL, line, "test '%.*s' needs an integer, not %s", (int)n,
                           name, jv_type_name(v));
        int64_t d = 2;
        if (IS("divisibleby")) {
            if (!arg || arg->t != JV_INT || arg->u.i == 0)
                return jj_fail(rt, FR_EINVAL, line, "divisibleby needs a non-zero integer");
            d = arg->u.i;
        }
        bool div = d == -1 ? true : v.u.i % d == 0;
        *res = IS("odd") ? !div : div;
    } else if (IS("equalto") || IS("eq") || IS("sameas") || IS("ne") || IS("==")) {
        jv b = arg ? *arg : JV_UNDEF_V;
        *res = IS("sameas") ? (jv_is_obj(v) ? jv_is_obj(b) && v.u.o == b.u.o : jv_strict_eq(v, b))
                            : jv_strict_eq(v, b);
        if (IS("ne")) *res = !*res;
    } else if (IS("lt") || IS("le") || IS("gt") || IS("ge") || IS("lessthan") ||
               IS("greaterthan")) {
        int c;
        if (!arg)
            return jj_fail(rt, FR_EINVAL, line, "test '%.*s' needs an argument", (int)n, name);
        if (jv_compare(rt, v, *arg, true, line, &c)) return rt->status;
        *res = (IS("lt") || IS("lessthan"))      ? c < 0
               : IS("le")                        ? c <= 0
               : (IS("gt") || IS("greaterthan")) ? c > 0
                                                 : c >= 0;
    } else if (IS("in")) {
        if (!arg) return jj_fail(rt, FR_EINVAL, line, "test 'in' needs an argument");
        if (arg->t == JV_LIST) {
            for (size_t i = 0; i < arg->u.l->n && !*res; i++)
                *res = jv_strict_eq(arg->u.l->items[i], v);
        } else if (arg->t == JV_STR && v.t == JV_STR) {
            *res = !v.u.s->len || memmem(arg->u.s->data, arg->u.s->len, v.u.s->data, v.u.s->len);
        } else if (arg->t == JV_DICT) {
            *res = jv_dict_get_key(arg->u.d, v) != NULL;
        } else {
            return jj_fail(rt, FR_EINVAL, line, "test 'in' cannot search a %s", jv_type_name(*arg));
        }
    } else {
        return jj_fail(rt, FR_EUNSUP, line, "unsupported test '%.*s'", (int)(n > 60 ? 60 : n),
                       name);
    }
#undef IS
    return 0;
}
