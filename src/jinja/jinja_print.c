/* jinja_print.c: what values mean and look like: truthiness, == (JavaScript's loose
 * equality, as @huggingface/jinja compares) and === (in, equalto, unique), the display form
 * of {{ v }} (true/false, lists and dicts as JSON, 1.0 as "1.0"), String(v) as ~ and join
 * use it, JSON text (tojson: separators, indent, ensure_ascii, sort_keys), Python's repr
 * (string of a dict), and conversion from jansson values. */
#include "jinja/jinja_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- predicates */

const char *jv_type_name(jv v) {
    switch (v.t) {
    case JV_UNDEF:
        return "undefined";
    case JV_NONE:
        return "none";
    case JV_BOOL:
        return "boolean";
    case JV_INT:
        return "integer";
    case JV_FLOAT:
        return "float";
    case JV_STR:
        return "string";
    case JV_LIST:
        return "list";
    case JV_DICT:
        return "dict";
    case JV_NS:
        return "namespace";
    case JV_FUNC:
        return "callable";
    }
    return "value";
}

bool jv_truthy(jv v) {
    switch (v.t) {
    case JV_UNDEF:
    case JV_NONE:
        return false;
    case JV_BOOL:
        return v.u.b;
    case JV_INT:
        return v.u.i != 0;
    case JV_FLOAT:
        return v.u.f != 0 && !isnan(v.u.f);
    case JV_STR:
        return v.u.s->len > 0;
    case JV_LIST:
        return v.u.l->n > 0;
    case JV_DICT:
        return v.u.d->n > 0;
    default:
        return true;
    }
}

static bool num_eq(jv a, jv b) {
    if (a.t == JV_INT && b.t == JV_INT) return a.u.i == b.u.i;
    return jv_num(a) == jv_num(b);
}

bool jv_strict_eq(jv a, jv b) {
    if (jv_is_num(a) && jv_is_num(b)) return num_eq(a, b);
    if (a.t != b.t) return false;
    switch (a.t) {
    case JV_UNDEF:
    case JV_NONE:
        return true;
    case JV_BOOL:
        return a.u.b == b.u.b;
    case JV_STR:
        return a.u.s->len == b.u.s->len && !memcmp(a.u.s->data, b.u.s->data, a.u.s->len);
    default:
        return a.u.o == b.u.o;
    }
}

static bool prim_loose_eq(jv a, jv b) {
    if (a.t == JV_BOOL && b.t == JV_BOOL) return a.u.b == b.u.b;
    if (a.t == JV_BOOL) a = jv_int(a.u.b);
    if (b.t == JV_BOOL) b = jv_int(b.u.b);
    if (jv_is_num(a) && jv_is_num(b)) return num_eq(a, b);
    if (jv_is_num(a) && b.t == JV_STR) return jv_num(a) == jj_js_to_number(b.u.s->data, b.u.s->len);
    if (a.t == JV_STR && jv_is_num(b)) return jv_num(b) == jj_js_to_number(a.u.s->data, a.u.s->len);
    return jv_strict_eq(a, b);
}

static int to_raw(jj_rt *rt, jj_buf *b, jv v, int line); /* below */

int jv_loose_eq(jj_rt *rt, jv a, jv b, int line, bool *res) {
    bool an = a.t == JV_UNDEF || a.t == JV_NONE, bn = b.t == JV_UNDEF || b.t == JV_NONE;
    *res = false;
    if (an || bn) {
        *res = an && bn;
        return 0;
    }
    bool ao = a.t == JV_LIST || a.t == JV_DICT || a.t == JV_NS || a.t == JV_FUNC;
    bool bo = b.t == JV_LIST || b.t == JV_DICT || b.t == JV_NS || b.t == JV_FUNC;
    if (ao && bo) {
        *res = a.u.o == b.u.o;
        return 0;
    }
    if (ao || bo) { /* an object against a primitive compares as its string form */
        jv o = ao ? a : b, p = ao ? b : a;
        if (o.t == JV_FUNC) return 0;
        jj_buf buf = {0};
        buf.limit = rt->lim.max_output;
        if (to_raw(rt, &buf, o, line)) {
            jj_buf_free(&buf);
            return rt->status;
        }
        jj_str *tmp = malloc(sizeof *tmp + buf.n + 1);
        if (!tmp) {
            jj_buf_free(&buf);
            return jj_fail(rt, FR_ENOMEM, 0, "out of memory rendering the template");
        }
        memset(tmp, 0, sizeof *tmp);
        tmp->len = buf.n;
        if (buf.n) memcpy(tmp->data, buf.p, buf.n);
        tmp->data[buf.n] = 0;
        jj_buf_free(&buf);
        *res = prim_loose_eq((jv){.t = JV_STR, .u.s = tmp}, p);
        free(tmp);
        return 0;
    }
    *res = prim_loose_eq(a, b);
    return 0;
}

/* ---------------------------------------------------------------- text forms */

static int put(jj_rt *rt, jj_buf *b, const char *s, size_t n) {
    if (jj_buf_put(b, s, n))
        return jj_fail(rt, FR_ERANGE, 0, "rendered text larger than %zu bytes", rt->lim.max_output);
    return 0;
}

static int put_js_number(jj_rt *rt, jj_buf *b, jv v) {
    char tmp[48];
    if (v.t == JV_INT)
        snprintf(tmp, sizeof tmp, "%lld", (long long)v.u.i);
    else
        jj_fmt_js_number(tmp, v.u.f);
    return put(rt, b, tmp, strlen(tmp));
}

int jv_to_display(jj_rt *rt, jj_buf *b, jv v, int line) {
    switch (v.t) {
    case JV_UNDEF:
        return put(rt, b, "undefined", 9);
    case JV_NONE:
        return put(rt, b, "null", 4);
    case JV_BOOL:
        return v.u.b ? put(rt, b, "true", 4) : put(rt, b, "false", 5);
    case JV_INT:
        return put_js_number(rt, b, v);
    case JV_FLOAT: {
        double f = v.u.f;
        char tmp[400];
        if (v.big) return put_js_number(rt, b, v);
        if (f == 0 && signbit(f)) return put(rt, b, "-0.0", 4);
        if (isfinite(f) && fmod(f, 1.0) == 0 && fabs(f) < 1e21) {
            snprintf(tmp, sizeof tmp, "%.1f", f);
            return put(rt, b, tmp, strlen(tmp));
        }
        return put_js_number(rt, b, v);
    }
    case JV_STR:
        return put(rt, b, v.u.s->data, v.u.s->len);
    case JV_LIST:
    case JV_DICT:
    case JV_NS: {
        jj_json_opts o = {0};
        return jv_to_json(rt, b, v, &o, line);
    }
    case JV_FUNC:
        return put(rt, b, "[function]", 10);
    }
    return 0;
}

static int to_raw(jj_rt *rt, jj_buf *b, jv v, int line) {
    return jv_to_raw(rt, b, v, line);
}

int jv_to_raw(jj_rt *rt, jj_buf *b, jv v, int line) {
    switch (v.t) {
    case JV_UNDEF:
    case JV_NONE:
        return 0;
    case JV_INT:
    case JV_FLOAT:
        return put_js_number(rt, b, v);
    case JV_LIST:
        for (size_t i = 0; i < v.u.l->n; i++) {
            if (i && put(rt, b, ",", 1)) return rt->status;
            if (jv_to_display(rt, b, v.u.l->items[i], line)) return rt->status;
        }
        return 0;
    case JV_DICT:
    case JV_NS:
        return put(rt, b, "[object Map]", 12);
    default:
        return jv_to_display(rt, b, v, line);
    }
}

static int pad(jj_rt *rt, jj_buf *b, int indent, int depth) {
    if (put(rt, b, "\n", 1)) return rt->status;
    for (int i = 0; i < indent * depth; i++)
        if (put(rt, b, " ", 1)) return rt->status;
    return 0;
}

static int key_cmp(const void *x, const void *y) {
    const jj_str *a = *(jj_str *const *)x, *b = *(jj_str *const *)y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int to_json(jj_rt *rt, jj_buf *b, jv v, const jj_json_opts *o, int depth, int line) {
    if (depth > JJ_MAX_VALUE_DEPTH)
        return jj_fail(rt, FR_ERANGE, line,
                       "value nested too deeply (or containing itself) to print");
    const char *isep = o->item_sep ? o->item_sep : o->indent ? "," : ", ";
    const char *ksep = o->key_sep ? o->key_sep : ": ";
    switch (v.t) {
    case JV_NONE:
        return put(rt, b, "null", 4);
    case JV_UNDEF:
        return o->undef_null ? put(rt, b, "null", 4) : put(rt, b, "undefined", 9);
    case JV_BOOL:
        return v.u.b ? put(rt, b, "true", 4) : put(rt, b, "false", 5);
    case JV_INT:
        return put_js_number(rt, b, v);
    case JV_FLOAT:
        return isfinite(v.u.f) ? put_js_number(rt, b, v) : put(rt, b, "null", 4);
    case JV_STR:
        if (jj_json_quote(b, v.u.s->data, v.u.s->len, o->ensure_ascii))
            return jj_fail(rt, FR_ERANGE, 0, "rendered text larger than %zu bytes",
                           rt->lim.max_output);
        return 0;
    case JV_LIST: {
        jj_list *l = v.u.l;
        if (put(rt, b, "[", 1)) return rt->status;
        for (size_t i = 0; i < l->n; i++) {
            if (i && put(rt, b, isep, strlen(isep))) return rt->status;
            if (o->indent && pad(rt, b, o->indent, depth + 1)) return rt->status;
            if (to_json(rt, b, l->items[i], o, depth + 1, line)) return rt->status;
        }
        if (o->indent && l->n && pad(rt, b, o->indent, depth)) return rt->status;
        return put(rt, b, "]", 1);
    }
    case JV_DICT:
    case JV_NS: {
        jj_dict *d = v.u.d;
        jj_str **keys = d->keys;
        jj_str **sorted = NULL;
        if (o->sort_keys && d->n > 1) {
            sorted = malloc(d->n * sizeof *sorted);
            if (!sorted) return jj_fail(rt, FR_ENOMEM, 0, "out of memory rendering the template");
            memcpy(sorted, d->keys, d->n * sizeof *sorted);
            qsort(sorted, d->n, sizeof *sorted, key_cmp);
            keys = sorted;
        }
        int rc = put(rt, b, "{", 1);
        for (size_t i = 0; !rc && i < d->n; i++) {
            if (i && (rc = put(rt, b, isep, strlen(isep)))) break;
            if (o->indent && (rc = pad(rt, b, o->indent, depth + 1))) break;
            if (jj_json_quote(b, keys[i]->data, keys[i]->len, o->ensure_ascii)) {
                rc = jj_fail(rt, FR_ERANGE, 0, "rendered text larger than %zu bytes",
                             rt->lim.max_output);
                break;
            }
            if ((rc = put(rt, b, ksep, strlen(ksep)))) break;
            jv *val = sorted ? jv_dict_get(d, keys[i]->data, keys[i]->len) : &d->vals[i];
            rc = to_json(rt, b, *val, o, depth + 1, line);
        }
        free(sorted);
        if (rc) return rc;
        if (o->indent && d->n && pad(rt, b, o->indent, depth)) return rt->status;
        return put(rt, b, "}", 1);
    }
    case JV_FUNC:
        return jj_fail(rt, FR_EINVAL, line, "cannot convert a callable to JSON");
    }
    return 0;
}

int jv_to_json(jj_rt *rt, jj_buf *b, jv v, const jj_json_opts *o, int line) {
    return to_json(rt, b, v, o, 0, line);
}

/* Python's repr of a float: shortest round trip, exponent form outside [1e-4, 1e16) */
static void py_float_repr(char *buf, double v) {
    if (isnan(v)) {
        strcpy(buf, "nan");
        return;
    }
    if (isinf(v)) {
        strcpy(buf, v < 0 ? "-inf" : "inf");
        return;
    }
    char tmp[40];
    int p;
    for (p = 1; p < 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
    int e = atoi(strchr(tmp, 'e') + 1);
    if (e < -4 || e >= 16) {
        char *ep = strchr(tmp, 'e');
        *ep = 0;
        snprintf(buf, 48, "%.24se%c%02d", tmp, e < 0 ? '-' : '+', abs(e) % 1000);
        return;
    }
    snprintf(buf, 48, "%.*f", p - 1 - e > 0 ? p - 1 - e : 0, v);
    if (!strchr(buf, '.')) strcat(buf, ".0");
}

static int py_str_repr(jj_rt *rt, jj_buf *b, const char *s, size_t n) {
    char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
    if (put(rt, b, &q, 1)) return rt->status;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = jj_utf8_next(s + i, n - i, &cp);
        char esc[16];
        const char *e = NULL;
        if (cp == (uint32_t)q || cp == '\\') {
            esc[0] = '\\';
            esc[1] = (char)cp;
            esc[2] = 0;
            e = esc;
        } else if (cp == '\n')
            e = "\\n";
        else if (cp == '\r')
            e = "\\r";
        else if (cp == '\t')
            e = "\\t";
        else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xad) {
            snprintf(esc, sizeof esc, "\\x%02x", cp);
            e = esc;
        } else if (cp > 0x10ffff) {
            snprintf(esc, sizeof esc, "\\x%02x", cp & 0xff);
            e = esc;
        } else if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x200b && cp <= 0x200f) ||
                   (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff) {
            snprintf(esc, sizeof esc, "\\u%04x", cp);
            e = esc;
        }
        if (e ? put(rt, b, e, strlen(e)) : put(rt, b, s + i, l)) return rt->status;
        i += l;
    }
    return put(rt, b, &q, 1);
}

static int py_repr(jj_rt *rt, jj_buf *b, jv v, int depth, int line) {
    char tmp[48];
    if (depth > JJ_MAX_VALUE_DEPTH)
        return jj_fail(rt, FR_ERANGE, line,
                       "value nested too deeply (or containing itself) to print");
    switch (v.t) {
    case JV_UNDEF:
        return 0;
    case JV_NONE:
        return put(rt, b, "None", 4);
    case JV_BOOL:
        return v.u.b ? put(rt, b, "True", 4) : put(rt, b, "False", 5);
    case JV_INT:
        snprintf(tmp, sizeof tmp, "%lld", (long long)v.u.i);
        return put(rt, b, tmp, strlen(tmp));
    case JV_FLOAT:
        py_float_repr(tmp, v.u.f);
        return put(rt, b, tmp, strlen(tmp));
    case JV_STR:
        return py_str_repr(rt, b, v.u.s->data, v.u.s->len);
    case JV_LIST:
        if (put(rt, b, "[", 1)) return rt->status;
        for (size_t i = 0; i < v.u.l->n; i++)
            if ((i && put(rt, b, ", ", 2)) || py_repr(rt, b, v.u.l->items[i], depth + 1, line))
                return rt->status;
        return put(rt, b, "]", 1);
    case JV_DICT:
    case JV_NS:
        if (v.t == JV_NS && put(rt, b, "<Namespace ", 11)) return rt->status;
        if (put(rt, b, "{", 1)) return rt->status;
        for (size_t i = 0; i < v.u.d->n; i++) {
            if (i && put(rt, b, ", ", 2)) return rt->status;
            bool num = v.u.d->kt && v.u.d->kt[i] == JV_INT;
            if ((num ? put(rt, b, v.u.d->keys[i]->data, v.u.d->keys[i]->len)
                     : py_str_repr(rt, b, v.u.d->keys[i]->data, v.u.d->keys[i]->len)) ||
                put(rt, b, ": ", 2) || py_repr(rt, b, v.u.d->vals[i], depth + 1, line))
                return rt->status;
        }
        if (put(rt, b, "}", 1)) return rt->status;
        return v.t == JV_NS ? put(rt, b, ">", 1) : 0;
    case JV_FUNC:
        return put(rt, b, "<function>", 10);
    }
    return 0;
}

int jv_to_pyrepr(jj_rt *rt, jj_buf *b, jv v, int line) {
    return py_repr(rt, b, v, 0, line);
}

static int from_json(jj_rt *rt, const json_t *j, jv *out, int depth) {
    *out = JV_UNDEF_V;
    if (depth > JJ_MAX_VALUE_DEPTH)
        return jj_fail(rt, FR_ERANGE, 0, "input JSON nested too deeply");
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        if (jv_dict_new(rt, false, out)) return rt->status;
        const char *k;
        json_t *val;
        json_object_foreach((json_t *)j, k, val) {
            jv x;
            if (from_json(rt, val, &x, depth + 1)) return rt->status;
            if (jv_dict_set(rt, out->u.d, k, strlen(k), x)) return rt->status;
        }
        return 0;
    }
    case JSON_ARRAY: {
        if (jv_list_new(rt, json_array_size(j), out)) return rt->status;
        for (size_t i = 0; i < json_array_size(j); i++) {
            jv x;
            if (from_json(rt, json_array_get(j, i), &x, depth + 1)) return rt->status;
            if (jv_list_push(rt, out->u.l, x)) return rt->status;
        }
        return 0;
    }
    case JSON_STRING:
        return jv_str_new(rt, json_string_value(j), json_string_length(j), out);
    case JSON_INTEGER:
        *out = jv_int(json_integer_value(j));
        return 0;
    case JSON_REAL: {
        /* JSON.parse gives one number type; @huggingface/jinja makes integral ones integers */
        double f = json_real_value(j);
        bool integral = fmod(f, 1.0) == 0;
        *out = integral && fabs(f) < 9007199254740992.0 ? jv_int((int64_t)f)
               : integral                               ? jv_bigint(f)
                                                        : jv_float(f);
        return 0;
    }
    case JSON_TRUE:
        *out = jv_bool(true);
        return 0;
    case JSON_FALSE:
        *out = jv_bool(false);
        return 0;
    case JSON_NULL:
        *out = JV_NONE_V;
        return 0;
    }
    return 0;
}

int jv_from_json(jj_rt *rt, const json_t *j, jv *out) {
    return from_json(rt, j, out, 0);
}
