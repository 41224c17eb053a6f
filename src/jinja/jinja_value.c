/* jinja_value.c: runtime values of a render: refcounted heap objects (strings, lists,
 * insertion-ordered dicts and namespaces, callables, scopes) that are all registered with
 * the render (jj_rt) so that whatever is still live at the end (cycles such as a namespace
 * holding itself, or objects dropped on an error path) is swept. Releasing is iterative, so
 * a million-deep list cannot overflow the stack. Also the ordering used by sort/dictsort.
 * (Equality, truthiness and the text forms of values are in jinja_print.c.) */
#include "jinja/jinja_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the render state */

void jj_rt_init(jj_rt *rt, const jinja_limits *lim, fr_err *err) {
    memset(rt, 0, sizeof *rt);
    rt->lim = *lim;
    rt->err = err;
    rt->live.prev = rt->live.next = &rt->live;
}

int jj_fail(jj_rt *rt, int code, int line, const char *fmt, ...) {
    if (rt->status) return rt->status;
    char msg[440];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        fr_fail(rt->err, code, "%s at line %d", msg, line);
    else
        fr_fail(rt->err, code, "%s", msg);
    rt->status = code;
    return code;
}

static int mem_charge(jj_rt *rt, jj_obj *o, size_t add) {
    if (add > rt->lim.max_memory || rt->mem > rt->lim.max_memory - add)
        return jj_fail(rt, FR_ERANGE, 0, "template used more than %zu MiB of memory",
                       rt->lim.max_memory >> 20);
    rt->mem += add;
    if (o) o->bytes += add;
    return 0;
}

void *jj_obj_alloc(jj_rt *rt, size_t bytes, jo_kind kind) {
    if (mem_charge(rt, NULL, bytes)) return NULL;
    jj_obj *o = calloc(1, bytes);
    if (!o) {
        rt->mem -= bytes;
        jj_fail(rt, FR_ENOMEM, 0, "out of memory rendering the template");
        return NULL;
    }
    o->rc = 1;
    o->kind = (uint8_t)kind;
    o->bytes = bytes;
    o->next = rt->live.next;
    o->prev = &rt->live;
    rt->live.next->prev = o;
    rt->live.next = o;
    return o;
}

/* Grows an array owned by object o (accounted). */
static int obj_grow(jj_rt *rt, jj_obj *o, void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 4;
    while (nc < need) nc *= 2;
    if (nc > SIZE_MAX / elem / 2) return jj_fail(rt, FR_ERANGE, 0, "container too large");
    if (mem_charge(rt, o, (nc - *cap) * elem)) return rt->status;
    void *p = realloc(*arr, nc * elem);
    if (!p) return jj_fail(rt, FR_ENOMEM, 0, "out of memory rendering the template");
    *arr = p;
    *cap = nc;
    return 0;
}

static void obj_free_internals(jj_obj *o) {
    switch (o->kind) {
    case JO_LIST:
        free(((jj_list *)o)->items);
        break;
    case JO_DICT:
        free(((jj_dict *)o)->keys);
        free(((jj_dict *)o)->vals);
        free(((jj_dict *)o)->kt);
        break;
    case JO_SCOPE:
        free(((jj_scope *)o)->names);
        free(((jj_scope *)o)->lens);
        free(((jj_scope *)o)->vals);
        break;
    default:
        break;
    }
}

static void obj_unlink(jj_rt *rt, jj_obj *o) {
    o->prev->next = o->next;
    o->next->prev = o->prev;
    rt->mem -= o->bytes;
}

/* Dead objects waiting for their children to be released (linked through next). */
typedef struct release_state {
    jj_obj *pending;
    bool active;
} release_state;
static _Thread_local release_state t_rel;

static void obj_put(jj_rt *rt, jj_obj *o);

static void obj_destroy(jj_rt *rt, jj_obj *o) {
    switch (o->kind) {
    case JO_LIST: {
        jj_list *l = (jj_list *)o;
        for (size_t i = 0; i < l->n; i++) jv_decref(rt, l->items[i]);
        break;
    }
    case JO_DICT: {
        jj_dict *d = (jj_dict *)o;
        for (size_t i = 0; i < d->n; i++) {
            obj_put(rt, &d->keys[i]->h);
            jv_decref(rt, d->vals[i]);
        }
        break;
    }
    case JO_FUNC: {
        jj_func *f = (jj_func *)o;
        jv_decref(rt, f->self);
        if (f->scope) obj_put(rt, &f->scope->h);
        break;
    }
    case JO_SCOPE: {
        jj_scope *s = (jj_scope *)o;
        for (size_t i = 0; i < s->n; i++) jv_decref(rt, s->vals[i]);
        if (s->parent) obj_put(rt, &s->parent->h);
        break;
    }
    default:
        break;
    }
    obj_free_internals(o);
    free(o);
}

static void obj_put(jj_rt *rt, jj_obj *o) {
    if (--o->rc > 0) return;
    obj_unlink(rt, o);
    o->next = t_rel.pending;
    t_rel.pending = o;
    if (t_rel.active) return;
    t_rel.active = true;
    while (t_rel.pending) {
        jj_obj *d = t_rel.pending;
        t_rel.pending = d->next;
        obj_destroy(rt, d);
    }
    t_rel.active = false;
}

void jv_incref(jv v) {
    if (jv_is_obj(v)) v.u.o->rc++;
}

void jv_decref(jj_rt *rt, jv v) {
    if (jv_is_obj(v)) obj_put(rt, v.u.o);
}

void jj_rt_sweep(jj_rt *rt) {
    jj_obj *o = rt->live.next;
    while (o != &rt->live) {
        jj_obj *next = o->next;
        obj_free_internals(o);
        free(o);
        o = next;
    }
    rt->live.prev = rt->live.next = &rt->live;
    rt->mem = 0;
}

/* ---------------------------------------------------------------- constructors */

int jv_str_new(jj_rt *rt, const char *s, size_t n, jv *out) {
    *out = JV_UNDEF_V;
    if (n > rt->lim.max_output)
        return jj_fail(rt, FR_ERANGE, 0, "string longer than %zu bytes", rt->lim.max_output);
    rt->work += n;
    if (rt->work > JJ_MAX_WORK)
        return jj_fail(rt, FR_ERANGE, 0, "template built more than %llu GiB of strings",
                       (unsigned long long)(JJ_MAX_WORK >> 30));
    jj_str *str = jj_obj_alloc(rt, sizeof *str + n + 1, JO_STR);
    if (!str) return rt->status;
    str->len = n;
    if (n) memcpy(str->data, s, n);
    str->data[n] = 0;
    out->t = JV_STR;
    out->u.s = str;
    return 0;
}

int jv_str_from_buf(jj_rt *rt, jj_buf *b, jv *out) {
    int rc = jv_str_new(rt, b->p ? b->p : "", b->n, out);
    jj_buf_free(b);
    return rc;
}

int jv_list_new(jj_rt *rt, size_t cap, jv *out) {
    *out = JV_UNDEF_V;
    jj_list *l = jj_obj_alloc(rt, sizeof *l, JO_LIST);
    if (!l) return rt->status;
    out->t = JV_LIST;
    out->u.l = l;
    if (cap && obj_grow(rt, &l->h, (void **)&l->items, &l->cap, cap, sizeof(jv))) return rt->status;
    return 0;
}

int jv_list_push(jj_rt *rt, jj_list *l, jv item) {
    if (obj_grow(rt, &l->h, (void **)&l->items, &l->cap, l->n + 1, sizeof(jv))) {
        jv_decref(rt, item);
        return rt->status;
    }
    l->items[l->n++] = item;
    return 0;
}

int jv_dict_new(jj_rt *rt, bool ns, jv *out) {
    *out = JV_UNDEF_V;
    jj_dict *d = jj_obj_alloc(rt, sizeof *d, JO_DICT);
    if (!d) return rt->status;
    out->t = ns ? JV_NS : JV_DICT;
    out->u.d = d;
    return 0;
}

static jv *dict_find(const jj_dict *d, const char *key, size_t klen, uint8_t type) {
    for (size_t i = 0; i < d->n; i++)
        if (d->keys[i]->len == klen && !memcmp(d->keys[i]->data, key, klen) &&
            (d->kt ? d->kt[i] : JV_STR) == type)
            return &d->vals[i];
    return NULL;
}

jv *jv_dict_get(const jj_dict *d, const char *key, size_t klen) {
    return dict_find(d, key, klen, JV_STR);
}

static int dict_append(jj_rt *rt, jj_dict *d, jj_str *key, jv val, uint8_t type) {
    size_t cap = d->cap;
    if (obj_grow(rt, &d->h, (void **)&d->vals, &cap, d->n + 1, sizeof(jv))) goto bad;
    if (cap != d->cap) {
        size_t kc = d->cap, tc = d->cap;
        if (obj_grow(rt, &d->h, (void **)&d->keys, &kc, cap, sizeof(jj_str *))) goto bad;
        if (d->kt && obj_grow(rt, &d->h, (void **)&d->kt, &tc, cap, 1)) goto bad;
        d->cap = cap;
    }
    if (type != JV_STR && !d->kt) {
        size_t tc = 0;
        if (obj_grow(rt, &d->h, (void **)&d->kt, &tc, d->cap, 1)) goto bad;
        memset(d->kt, JV_STR, d->cap);
    }
    if (d->kt) d->kt[d->n] = type;
    d->keys[d->n] = key;
    d->vals[d->n] = val;
    d->n++;
    return 0;
bad:
    obj_put(rt, &key->h);
    jv_decref(rt, val);
    return rt->status;
}

int jv_dict_set(jj_rt *rt, jj_dict *d, const char *key, size_t klen, jv val) {
    jv *slot = jv_dict_get(d, key, klen);
    if (slot) {
        jv old = *slot;
        *slot = val;
        jv_decref(rt, old);
        return 0;
    }
    jv k;
    if (jv_str_new(rt, key, klen, &k)) {
        jv_decref(rt, val);
        return rt->status;
    }
    return dict_append(rt, d, k.u.s, val, JV_STR);
}

int jv_dict_set_str(jj_rt *rt, jj_dict *d, jj_str *key, jv val) {
    jv *slot = jv_dict_get(d, key->data, key->len);
    if (slot) {
        jv old = *slot;
        *slot = val;
        jv_decref(rt, old);
        return 0;
    }
    key->h.rc++;
    return dict_append(rt, d, key, val, JV_STR);
}

/* The (text, type) under which a scalar key is stored; false for unhashable values. */
static bool key_form(jv key, char *buf, size_t cap, const char **s, size_t *n, uint8_t *type) {
    if (key.t == JV_STR) {
        *s = key.u.s->data;
        *n = key.u.s->len;
        *type = JV_STR;
        return true;
    }
    int64_t i;
    if (key.t == JV_INT)
        i = key.u.i;
    else if (key.t == JV_BOOL)
        i = key.u.b;
    else if (key.t == JV_FLOAT && fmod(key.u.f, 1.0) == 0 && fabs(key.u.f) < 9e18)
        i = (int64_t)key.u.f;
    else
        return false;
    *n = (size_t)snprintf(buf, cap, "%lld", (long long)i);
    *s = buf;
    *type = JV_INT;
    return true;
}

jv *jv_dict_get_key(const jj_dict *d, jv key) {
    char buf[32];
    const char *s;
    size_t n;
    uint8_t type;
    if (!key_form(key, buf, sizeof buf, &s, &n, &type)) return NULL;
    return dict_find(d, s, n, type);
}

int jv_dict_set_key(jj_rt *rt, jj_dict *d, jv key, jv val, int line) {
    char buf[32];
    const char *s;
    size_t n;
    uint8_t type;
    if (!key_form(key, buf, sizeof buf, &s, &n, &type)) {
        jv_decref(rt, val);
        return jj_fail(rt, FR_EINVAL, line, "a %s cannot be a dict key", jv_type_name(key));
    }
    if (type == JV_STR) return jv_dict_set_str(rt, d, key.u.s, val);
    jv *slot = dict_find(d, s, n, type);
    if (slot) {
        jv old = *slot;
        *slot = val;
        jv_decref(rt, old);
        return 0;
    }
    jv k;
    if (jv_str_new(rt, s, n, &k)) {
        jv_decref(rt, val);
        return rt->status;
    }
    return dict_append(rt, d, k.u.s, val, type);
}

jv jv_dict_key(const jj_dict *d, size_t i) {
    if (d->kt && d->kt[i] == JV_INT) return jv_int(strtoll(d->keys[i]->data, NULL, 10));
    d->keys[i]->h.rc++;
    return (jv){.t = JV_STR, .u.s = d->keys[i]};
}

int jv_dict_copy_entry(jj_rt *rt, jj_dict *dst, const jj_dict *src, size_t i) {
    jv k = jv_dict_key(src, i);
    int rc = jv_dict_set_key(rt, dst, k, jv_ref(src->vals[i]), 0);
    jv_decref(rt, k);
    return rc;
}

bool jv_dict_del(jj_rt *rt, jj_dict *d, jv key) {
    jv *slot = jv_dict_get_key(d, key);
    if (!slot) return false;
    size_t i = (size_t)(slot - d->vals);
    jj_str *k = d->keys[i];
    jv v = d->vals[i];
    memmove(d->keys + i, d->keys + i + 1, (d->n - i - 1) * sizeof *d->keys);
    memmove(d->vals + i, d->vals + i + 1, (d->n - i - 1) * sizeof *d->vals);
    if (d->kt) memmove(d->kt + i, d->kt + i + 1, d->n - i - 1);
    d->n--;
    obj_put(rt, &k->h);
    jv_decref(rt, v);
    return true;
}

int jv_func_new(jj_rt *rt, jj_fkind kind, int id, jv *out) {
    *out = JV_UNDEF_V;
    jj_func *f = jj_obj_alloc(rt, sizeof *f, JO_FUNC);
    if (!f) return rt->status;
    f->fkind = (uint8_t)kind;
    f->id = id;
    out->t = JV_FUNC;
    out->u.fn = f;
    return 0;
}

/* ---------------------------------------------------------------- scopes */

int jj_scope_new(jj_rt *rt, jj_scope *parent, jj_scope **out) {
    *out = jj_obj_alloc(rt, sizeof **out, JO_SCOPE);
    if (!*out) return rt->status;
    (*out)->parent = parent;
    if (parent) parent->h.rc++;
    return 0;
}

void jj_scope_release(jj_rt *rt, jj_scope *sc) {
    if (sc) obj_put(rt, &sc->h);
}

int jj_scope_set(jj_rt *rt, jj_scope *sc, const char *name, size_t n, jv val) {
    for (size_t i = 0; i < sc->n; i++) {
        if (sc->lens[i] == n && !memcmp(sc->names[i], name, n)) {
            jv old = sc->vals[i];
            sc->vals[i] = val;
            jv_decref(rt, old);
            return 0;
        }
    }
    if (sc->n == sc->cap) {
        size_t c1 = sc->cap, c2 = sc->cap, c3 = sc->cap;
        if (obj_grow(rt, &sc->h, (void **)&sc->vals, &c1, sc->n + 1, sizeof(jv)) ||
            obj_grow(rt, &sc->h, (void **)&sc->names, &c2, c1, sizeof(char *)) ||
            obj_grow(rt, &sc->h, (void **)&sc->lens, &c3, c1, sizeof(size_t))) {
            jv_decref(rt, val);
            return rt->status;
        }
        sc->cap = c1;
    }
    sc->names[sc->n] = name;
    sc->lens[sc->n] = n;
    sc->vals[sc->n] = val;
    sc->n++;
    return 0;
}

jv jj_scope_get(const jj_scope *sc, const char *name, size_t n) {
    for (; sc; sc = sc->parent)
        for (size_t i = sc->n; i-- > 0;)
            if (sc->lens[i] == n && !memcmp(sc->names[i], name, n)) return sc->vals[i];
    return JV_UNDEF_V;
}

/* ---------------------------------------------------------------- ordering */

static int str_cmp_ci(const jj_str *a, const jj_str *b, bool cs) {
    if (cs) {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = memcmp(a->data, b->data, n);
        return c ? (c < 0 ? -1 : 1) : (a->len > b->len) - (a->len < b->len);
    }
    size_t i = 0, j = 0; /* compare the lowercased code points */
    while (i < a->len && j < b->len) {
        uint32_t x, y;
        i += jj_utf8_next(a->data + i, a->len - i, &x);
        j += jj_utf8_next(b->data + j, b->len - j, &y);
        x = jj_case_one(x, false);
        y = jj_case_one(y, false);
        if (x != y) return x < y ? -1 : 1;
    }
    return (i < a->len) - (j < b->len);
}

int jv_compare(jj_rt *rt, jv a, jv b, bool cs, int line, int *res) {
    bool anum = jv_is_num(a) || a.t == JV_BOOL, bnum = jv_is_num(b) || b.t == JV_BOOL;
    if ((a.t == JV_NONE && b.t == JV_NONE) || (a.t == JV_UNDEF && b.t == JV_UNDEF)) {
        *res = 0;
        return 0;
    }
    if (anum && bnum) {
        if (a.t == JV_INT && b.t == JV_INT)
            *res = (a.u.i > b.u.i) - (a.u.i < b.u.i);
        else {
            double x = jv_num(a), y = jv_num(b);
            *res = (x > y) - (x < y);
        }
        return 0;
    }
    if (a.t == JV_STR && b.t == JV_STR) {
        *res = str_cmp_ci(a.u.s, b.u.s, cs);
        return 0;
    }
    return jj_fail(rt, FR_EINVAL, line, "cannot compare %s with %s", jv_type_name(a),
                   jv_type_name(b));
}

/* merge sort of an index permutation (stable) */
static int merge_sort(jj_rt *rt, size_t *idx, size_t *tmp, size_t n, const jv *keys, bool cs,
                      bool rev, int line) {
    if (n < 2) return 0;
    size_t h = n / 2;
    if (merge_sort(rt, idx, tmp, h, keys, cs, rev, line) ||
        merge_sort(rt, idx + h, tmp, n - h, keys, cs, rev, line))
        return rt->status;
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int c;
        if (jv_compare(rt, keys[idx[j]], keys[idx[i]], cs, line, &c)) return rt->status;
        if (rev) c = -c;
        tmp[k++] = c < 0 ? idx[j++] : idx[i++];
    }
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
    return 0;
}

int jj_sort(jj_rt *rt, jv *items, jv *keys, size_t n, bool cs, bool rev, int line) {
    if (n < 2) return 0;
    size_t *idx = malloc(n * sizeof *idx), *tmp = malloc(n * sizeof *tmp);
    jv *copy = malloc(n * sizeof *copy);
    int rc = 0;
    if (!idx || !tmp || !copy) {
        rc = jj_fail(rt, FR_ENOMEM, 0, "out of memory sorting");
        goto out;
    }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    rc = merge_sort(rt, idx, tmp, n, keys ? keys : items, cs, rev, line);
    if (rc) goto out;
    memcpy(copy, items, n * sizeof *copy);
    for (size_t i = 0; i < n; i++) items[i] = copy[idx[i]];
    if (keys) {
        memcpy(copy, keys, n * sizeof *copy);
        for (size_t i = 0; i < n; i++) keys[i] = copy[idx[i]];
    }
out:
    free(idx);
    free(tmp);
    free(copy);
    return rc;
}
