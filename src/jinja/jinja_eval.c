/* jinja_eval.c: expression evaluation: call arguments, macro/caller/builtin calls, member
 * access and slices, operators. Semantics follow @huggingface/jinja (dynamic scoping of
 * macros, == as JavaScript's loose equality, + and ~ on mixed types, `x.length`), with
 * Python Jinja's where that library throws (string repetition, bool arithmetic, `~` with
 * none, division by zero is an error, % takes the divisor's sign). Bounded by max_depth. */
#include "jinja/jinja_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jj_step(jj_rt *rt, int line) {
    if (++rt->steps > rt->lim.max_steps)
        return jj_fail(rt, FR_ERANGE, line,
                       "template exceeded %llu steps (loop iterations and calls)",
                       (unsigned long long)rt->lim.max_steps);
    return 0;
}

int jj_new_buf(jj_rt *rt, jj_buf *b) {
    memset(b, 0, sizeof *b);
    b->limit = rt->lim.max_output;
    return 0;
}

static int out_fail(jj_rt *rt) {
    return jj_fail(rt, FR_ERANGE, 0, "rendered text larger than %zu bytes", rt->lim.max_output);
}

/* ---------------------------------------------------------------- arguments */

void jj_args_free(jj_rt *rt, jj_args *a) {
    for (size_t i = 0; i < a->npos; i++) jv_decref(rt, a->pos[i]);
    for (size_t i = 0; i < a->nkw; i++) jv_decref(rt, a->kwv[i]);
    for (size_t i = 0; i < a->nheld; i++) jv_decref(rt, a->held[i]);
    free(a->pos);
    free(a->kw);
    free(a->kwlen);
    free(a->kwv);
    free(a->held);
    memset(a, 0, sizeof *a);
}

static int args_grow(jj_rt *rt, void **p, size_t n, size_t elem) {
    void *q = realloc(*p, (n + 1) * elem);
    if (!q) return jj_fail(rt, FR_ENOMEM, 0, "out of memory rendering the template");
    *p = q;
    return 0;
}

static int push_pos(jj_rt *rt, jj_args *a, jv v) {
    if (args_grow(rt, (void **)&a->pos, a->npos, sizeof(jv))) {
        jv_decref(rt, v);
        return rt->status;
    }
    a->pos[a->npos++] = v;
    return 0;
}

static int push_kw(jj_rt *rt, jj_args *a, const char *name, size_t n, jv v, int line) {
    for (size_t i = 0; i < a->nkw; i++)
        if (a->kwlen[i] == n && !memcmp(a->kw[i], name, n)) {
            jv_decref(rt, v);
            return jj_fail(rt, FR_EINVAL, line, "keyword argument '%.*s' given twice", (int)n,
                           name);
        }
    if (args_grow(rt, (void **)&a->kw, a->nkw, sizeof(char *)) ||
        args_grow(rt, (void **)&a->kwlen, a->nkw, sizeof(size_t)) ||
        args_grow(rt, (void **)&a->kwv, a->nkw, sizeof(jv))) {
        jv_decref(rt, v);
        return rt->status;
    }
    a->kw[a->nkw] = name;
    a->kwlen[a->nkw] = n;
    a->kwv[a->nkw++] = v;
    return 0;
}

int jj_eval_args(jj_rt *rt, jj_node *const *nodes, size_t n, jj_scope *sc, jj_args *a) {
    memset(a, 0, sizeof *a);
    for (size_t i = 0; i < n; i++) { /* positional part first, like Python */
        const jj_node *x = nodes[i];
        if (x->kind == N_KWARG || x->kind == N_KWSPREAD) continue;
        jv v;
        if (jj_eval(rt, x->kind == N_SPREAD ? x->a : x, sc, &v)) return rt->status;
        if (x->kind != N_SPREAD) {
            if (push_pos(rt, a, v)) return rt->status;
            continue;
        }
        if (v.t != JV_LIST) {
            jv_decref(rt, v);
            return jj_fail(rt, FR_EINVAL, x->line, "cannot unpack %s with *", jv_type_name(v));
        }
        for (size_t k = 0; k < v.u.l->n; k++)
            if (push_pos(rt, a, jv_ref(v.u.l->items[k]))) {
                jv_decref(rt, v);
                return rt->status;
            }
        jv_decref(rt, v);
    }
    for (size_t i = 0; i < n; i++) {
        const jj_node *x = nodes[i];
        if (x->kind != N_KWARG && x->kind != N_KWSPREAD) continue;
        jv v;
        if (jj_eval(rt, x->a, sc, &v)) return rt->status;
        if (x->kind == N_KWARG) {
            if (push_kw(rt, a, x->s, x->n, v, x->line)) return rt->status;
            continue;
        }
        if (v.t != JV_DICT) {
            jv_decref(rt, v);
            return jj_fail(rt, FR_EINVAL, x->line, "argument after ** must be a dict, not %s",
                           jv_type_name(v));
        }
        if (args_grow(rt, (void **)&a->held, a->nheld, sizeof(jv))) {
            jv_decref(rt, v);
            return rt->status;
        }
        a->held[a->nheld++] = v;
        for (size_t k = 0; k < v.u.d->n; k++)
            if ((!v.u.d->kt || v.u.d->kt[k] == JV_STR) &&
                push_kw(rt, a, v.u.d->keys[k]->data, v.u.d->keys[k]->len, jv_ref(v.u.d->vals[k]),
                        x->line))
                return rt->status;
    }
    return 0;
}

jv *jj_arg(jj_args *a, int i, const char *kw) {
    if (kw) {
        size_t n = strlen(kw);
        for (size_t k = 0; k < a->nkw; k++)
            if (a->kwlen[k] == n && !memcmp(a->kw[k], kw, n)) return &a->kwv[k];
    }
    if (i >= 0 && (size_t)i < a->npos) return &a->pos[i];
    return NULL;
}

/* ---------------------------------------------------------------- calls */

static int bind_params(jj_rt *rt, const jj_node *def, jj_args *args, jj_scope *sc) {
    size_t np = def->nargs;
    bool *used = calloc(args->nkw + 1, 1);
    if (!used) return jj_fail(rt, FR_ENOMEM, 0, "out of memory rendering the template");
    int rc = 0;
    for (size_t i = 0; i < np && !rc; i++) {
        const jj_node *p = def->args[i];
        jv val = JV_UNDEF_V;
        if (i < args->npos) {
            val = jv_ref(args->pos[i]);
        } else {
            for (size_t k = 0; k < args->nkw; k++)
                if (!used[k] && args->kwlen[k] == p->n && !memcmp(args->kw[k], p->s, p->n)) {
                    val = jv_ref(args->kwv[k]);
                    used[k] = true;
                    break;
                }
        }
        rc = jj_scope_set(rt, sc, p->s, p->n, val);
    }
    /* extras: kwargs (dict) and varargs (list) */
    jv kwargs = JV_UNDEF_V, varargs = JV_UNDEF_V;
    if (!rc) rc = jv_dict_new(rt, false, &kwargs);
    for (size_t k = 0; !rc && k < args->nkw; k++)
        if (!used[k])
            rc = jv_dict_set(rt, kwargs.u.d, args->kw[k], args->kwlen[k], jv_ref(args->kwv[k]));
    if (!rc)
        rc = jj_scope_set(rt, sc, "kwargs", 6, kwargs);
    else
        jv_decref(rt, kwargs);
    if (!rc) rc = jv_list_new(rt, 0, &varargs);
    for (size_t i = np; !rc && i < args->npos; i++)
        rc = jv_list_push(rt, varargs.u.l, jv_ref(args->pos[i]));
    if (!rc)
        rc = jj_scope_set(rt, sc, "varargs", 7, varargs);
    else
        jv_decref(rt, varargs);
    /* defaults, evaluated in the macro's scope once every name is bound */
    for (size_t i = 0; i < np && !rc; i++) {
        const jj_node *p = def->args[i];
        if (p->kind != N_KWARG) continue;
        bool given = i < args->npos;
        if (!given) {
            for (size_t k = 0; k < args->nkw; k++)
                if (args->kwlen[k] == p->n && !memcmp(args->kw[k], p->s, p->n)) given = true;
        }
        if (given) continue;
        jv d;
        rc = jj_eval(rt, p->a, sc, &d);
        if (!rc) rc = jj_scope_set(rt, sc, p->s, p->n, d);
    }
    free(used);
    return rc;
}

/* Runs a macro or call-block body in a new scope under parent; result is a string. */
static int run_body(jj_rt *rt, const jj_node *def, jj_node *const *body, size_t nbody,
                    jj_args *args, jj_scope *parent, int line, jv *out) {
    jj_scope *sc;
    *out = JV_UNDEF_V;
    if (jj_scope_new(rt, parent, &sc)) return rt->status;
    int rc = bind_params(rt, def, args, sc);
    jj_buf b;
    jj_new_buf(rt, &b);
    if (!rc) {
        rc = jj_exec(rt, body, nbody, sc, &b);
        if (rc > 0) rc = jj_fail(rt, FR_EINVAL, line, "'break' or 'continue' outside a loop");
    }
    if (!rc) rc = jv_str_from_buf(rt, &b, out);
    jj_buf_free(&b);
    jj_scope_release(rt, sc);
    return rc;
}

int jj_call_value(jj_rt *rt, jv fn, jj_args *args, jj_scope *sc, int line, jv *out) {
    *out = JV_UNDEF_V;
    if (jj_step(rt, line)) return rt->status;
    if (fn.t != JV_FUNC)
        return jj_fail(rt, FR_EINVAL, line, "cannot call a value of type %s", jv_type_name(fn));
    jj_func *f = fn.u.fn;
    switch (f->fkind) {
    case FK_GLOBAL:
        return jj_global_call(rt, f->id, args, line, out);
    case FK_METHOD:
        return jj_method_call(rt, f->id, f->self, args, line, out);
    case FK_MACRO:
        return run_body(rt, f->node, f->node->body, f->node->nbody, args, sc, line, out);
    case FK_CALLER:
        return run_body(rt, f->node, f->node->body, f->node->nbody, args, f->scope, line, out);
    }
    return 0;
}

/* ---------------------------------------------------------------- member access */

static int index_value(jj_rt *rt, jv obj, int64_t idx, int line, jv *out) {
    *out = JV_UNDEF_V;
    if (obj.t == JV_DICT) { /* {512: ...}[512] */
        jv *v = jv_dict_get_key(obj.u.d, jv_int(idx));
        if (v) *out = jv_ref(*v);
        return 0;
    }
    if (obj.t == JV_LIST) {
        int64_t n = (int64_t)obj.u.l->n;
        if (idx < 0) idx += n;
        if (idx >= 0 && idx < n) *out = jv_ref(obj.u.l->items[idx]);
        return 0;
    }
    if (obj.t == JV_STR) {
        const char *s = obj.u.s->data;
        size_t n = obj.u.s->len;
        if (idx < 0) idx += (int64_t)jj_cp_count(s, n);
        if (idx < 0) return 0;
        size_t i = 0;
        for (int64_t k = 0; i < n; k++) {
            uint32_t cp;
            size_t l = jj_utf8_next(s + i, n - i, &cp);
            if (k == idx) return jv_str_new(rt, s + i, l, out);
            i += l;
        }
        return 0;
    }
    (void)line;
    return 0;
}

int jj_getattr(jj_rt *rt, jv obj, const char *name, size_t n, int line, jv *out) {
    *out = JV_UNDEF_V;
    if (obj.t == JV_DICT || obj.t == JV_NS) {
        jv *v = jv_dict_get(obj.u.d, name, n);
        if (v) {
            *out = jv_ref(*v);
            return 0;
        }
        if (obj.t == JV_NS) return 0;
    }
    if ((obj.t == JV_STR || obj.t == JV_LIST) && n == 6 && !memcmp(name, "length", 6)) {
        *out = jv_int(obj.t == JV_STR ? (int64_t)jj_utf16_len(obj.u.s->data, obj.u.s->len)
                                      : (int64_t)obj.u.l->n);
        return 0;
    }
    int id = jj_method_find(obj, name, n);
    if (id >= 0) {
        if (jv_func_new(rt, FK_METHOD, id, out)) return rt->status;
        out->u.fn->self = jv_ref(obj);
    }
    (void)line;
    return 0;
}

static int slice_value(jj_rt *rt, jv obj, const jj_node *sl, jj_scope *sc, jv *out) {
    *out = JV_UNDEF_V;
    int64_t part[3];
    bool have[3];
    const jj_node *nodes[3] = {sl->a, sl->b, sl->c};
    for (int k = 0; k < 3; k++) {
        have[k] = false;
        if (!nodes[k]) continue;
        jv v;
        if (jj_eval(rt, nodes[k], sc, &v)) return rt->status;
        if (v.t == JV_INT) {
            part[k] = v.u.i;
            have[k] = true;
        } else if (v.t != JV_UNDEF && v.t != JV_NONE) {
            jv_decref(rt, v);
            return jj_fail(rt, FR_EINVAL, sl->line, "slice indices must be integers");
        }
    }
    if (obj.t != JV_LIST && obj.t != JV_STR)
        return jj_fail(rt, FR_EINVAL, sl->line, "cannot slice a value of type %s",
                       jv_type_name(obj));
    /* code point offsets of a string, so that slicing works on characters */
    size_t len, *offs = NULL;
    if (obj.t == JV_LIST) {
        len = obj.u.l->n;
    } else {
        const char *s = obj.u.s->data;
        size_t n = obj.u.s->len, i = 0;
        len = jj_cp_count(s, n);
        offs = malloc((len + 1) * sizeof *offs);
        if (!offs) return jj_fail(rt, FR_ENOMEM, 0, "out of memory rendering the template");
        for (size_t k = 0; k < len; k++) {
            uint32_t cp;
            offs[k] = i;
            i += jj_utf8_next(s + i, n - i, &cp);
        }
        offs[len] = n;
    }
    int64_t L = (int64_t)len, step = have[2] ? part[2] : 1, start, stop;
    int dir = step > 0 ? 1 : step < 0 ? -1 : 0;
    if (dir >= 0) {
        start = have[0] ? part[0] : 0;
        start = start < 0 ? (L + start > 0 ? L + start : 0) : (start < L ? start : L);
        stop = have[1] ? part[1] : L;
        stop = stop < 0 ? (L + stop > 0 ? L + stop : 0) : (stop < L ? stop : L);
    } else {
        start = have[0] ? part[0] : L - 1;
        start = start < 0 ? (L + start > -1 ? L + start : -1) : (start < L - 1 ? start : L - 1);
        stop = have[1] ? part[1] : -1;
        stop = stop < -1 ? (L + stop > -1 ? L + stop : -1) : (stop < L - 1 ? stop : L - 1);
    }
    int rc;
    if (obj.t == JV_LIST) {
        rc = jv_list_new(rt, 0, out);
        for (int64_t i = start; !rc && dir && dir * i < dir * stop; i += step)
            rc = jv_list_push(rt, out->u.l, jv_ref(obj.u.l->items[i]));
    } else {
        jj_buf b;
        jj_new_buf(rt, &b);
        rc = 0;
        for (int64_t i = start; !rc && dir && dir * i < dir * stop; i += step)
            if (jj_buf_put(&b, obj.u.s->data + offs[i], offs[i + 1] - offs[i])) rc = out_fail(rt);
        if (!rc) rc = jv_str_from_buf(rt, &b, out);
        jj_buf_free(&b);
    }
    free(offs);
    return rc;
}

static int eval_member(jj_rt *rt, const jj_node *n, jj_scope *sc, jv *out) {
    jv obj;
    *out = JV_UNDEF_V;
    if (jj_eval(rt, n->a, sc, &obj)) return rt->status;
    int rc = 0;
    const jj_node *p = n->b;
    if (n->flag && p->kind == N_SLICE) {
        rc = slice_value(rt, obj, p, sc, out);
    } else if (!n->flag && p->kind == N_IDENT) {
        rc = jj_getattr(rt, obj, p->s, p->n, n->line, out);
    } else if (!n->flag && p->kind == N_INT) {
        rc = index_value(rt, obj, p->i, n->line, out);
    } else {
        jv key;
        rc = jj_eval(rt, p, sc, &key);
        if (!rc) {
            if (key.t == JV_STR)
                rc = jj_getattr(rt, obj, key.u.s->data, key.u.s->len, n->line, out);
            else if (key.t == JV_INT || key.t == JV_BOOL)
                rc = index_value(rt, obj, key.t == JV_INT ? key.u.i : key.u.b, n->line, out);
            else if (key.t != JV_UNDEF && key.t != JV_NONE)
                rc = jj_fail(rt, FR_EINVAL, n->line, "cannot index with a %s", jv_type_name(key));
            jv_decref(rt, key);
        }
    }
    jv_decref(rt, obj);
    return rc;
}

static int eval_call(jj_rt *rt, const jj_node *n, jj_scope *sc, jv *out) {
    const jj_node *callee = n->a;
    jj_args args;
    *out = JV_UNDEF_V;
    if (callee->kind == N_MEMBER && !callee->flag && callee->b->kind == N_IDENT) {
        /* obj.name(...): call the method directly unless a dict holds that key */
        jv obj;
        if (jj_eval(rt, callee->a, sc, &obj)) return rt->status;
        const char *name = callee->b->s;
        size_t nl = callee->b->n;
        jv *slot = (obj.t == JV_DICT || obj.t == JV_NS) ? jv_dict_get(obj.u.d, name, nl) : NULL;
        jv held = slot ? jv_ref(*slot) : JV_UNDEF_V; /* the dict may change during the call */
        int id = slot ? -1 : jj_method_find(obj, name, nl);
        int rc;
        if (!slot && id < 0) {
            if (obj.t == JV_UNDEF || obj.t == JV_NONE || obj.t == JV_NS)
                rc = jj_fail(rt, FR_EINVAL, n->line, "cannot call '%.*s' on %s", (int)nl, name,
                             jv_type_name(obj));
            else
                rc = jj_fail(rt, FR_EUNSUP, n->line, "unsupported method '%.*s' of %s", (int)nl,
                             name, jv_type_name(obj));
            jv_decref(rt, obj);
            return rc;
        }
        rc = jj_eval_args(rt, n->args, n->nargs, sc, &args);
        if (!rc) {
            if (slot)
                rc = jj_call_value(rt, held, &args, sc, n->line, out);
            else if (!(rc = jj_step(rt, n->line)))
                rc = jj_method_call(rt, id, obj, &args, n->line, out);
        }
        jj_args_free(rt, &args);
        jv_decref(rt, held);
        jv_decref(rt, obj);
        return rc;
    }
    if (jj_eval_args(rt, n->args, n->nargs, sc, &args)) {
        jj_args_free(rt, &args);
        return rt->status;
    }
    jv fn;
    int rc = jj_eval(rt, callee, sc, &fn);
    if (!rc) {
        if (fn.t != JV_FUNC && callee->kind == N_IDENT)
            rc = jj_fail(rt, fn.t == JV_UNDEF ? FR_EUNSUP : FR_EINVAL, n->line, "%s '%.*s'",
                         fn.t == JV_UNDEF ? "unknown function" : "cannot call non-function",
                         (int)callee->n, callee->s);
        else
            rc = jj_call_value(rt, fn, &args, sc, n->line, out);
        jv_decref(rt, fn);
    }
    jj_args_free(rt, &args);
    return rc;
}

/* ---------------------------------------------------------------- operators */

static const char *op_name(int op) {
    static const char *const names[] = {"+",  "-", "~", "*",  "/",  "//", "%",      "**", "==",
                                        "!=", "<", ">", "<=", ">=", "in", "not in", "-",  "+"};
    return op >= 0 && op < (int)(sizeof names / sizeof *names) ? names[op] : "?";
}

static int arith(jj_rt *rt, int op, jv l, jv r, int line, jv *out) {
    if (l.t == JV_BOOL) l = jv_int(l.u.b);
    if (r.t == JV_BOOL) r = jv_int(r.u.b);
    bool ints = l.t == JV_INT && r.t == JV_INT;
    double a = jv_num(l), b = jv_num(r);
    int64_t x = l.u.i, y = r.u.i, z;
    switch (op) {
    case OP_ADD:
        if (ints && !__builtin_add_overflow(x, y, &z)) {
            *out = jv_int(z);
            return 0;
        }
        *out = ints ? jv_bigint(a + b) : jv_float(a + b);
        return 0;
    case OP_SUB:
        if (ints && !__builtin_sub_overflow(x, y, &z)) {
            *out = jv_int(z);
            return 0;
        }
        *out = ints ? jv_bigint(a - b) : jv_float(a - b);
        return 0;
    case OP_MUL:
        if (ints && !__builtin_mul_overflow(x, y, &z)) {
            *out = jv_int(z);
            return 0;
        }
        *out = ints ? jv_bigint(a * b) : jv_float(a * b);
        return 0;
    case OP_DIV:
        if (b == 0) return jj_fail(rt, FR_EINVAL, line, "division by zero");
        *out = jv_float(a / b);
        return 0;
    case OP_FLOORDIV:
    case OP_MOD:
        if (b == 0) return jj_fail(rt, FR_EINVAL, line, "division by zero");
        if (ints && !(x == INT64_MIN && y == -1)) {
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {
                q--;
                m += y;
            }
            *out = jv_int(op == OP_MOD ? m : q);
            return 0;
        }
        if (op == OP_FLOORDIV)
            *out = jv_float(floor(a / b));
        else {
            double m = fmod(a, b);
            if (m != 0 && ((m < 0) != (b < 0))) m += b;
            *out = jv_float(m);
        }
        return 0;
    case OP_POW: {
        if (a == 0 && b < 0)
            return jj_fail(rt, FR_EINVAL, line, "0 cannot be raised to a negative power");
        if (ints && y >= 0) {
            int64_t acc = 1, base = x, e = y;
            bool ovf = false;
            while (e > 0 && !ovf) {
                if (e & 1) ovf |= __builtin_mul_overflow(acc, base, &acc);
                e >>= 1;
                if (e) ovf |= __builtin_mul_overflow(base, base, &base);
            }
            if (!ovf) {
                *out = jv_int(acc);
                return 0;
            }
        }
        double res = pow(a, b);
        if (!isfinite(res))
            return jj_fail(rt, FR_EINVAL, line,
                           "exponentiation result is not a finite real number");
        *out = ints && y >= 0 ? jv_bigint(res) : jv_float(res);
        return 0;
    }
    case OP_LT:
        *out = jv_bool(ints ? x < y : a < b);
        return 0;
    case OP_GT:
        *out = jv_bool(ints ? x > y : a > b);
        return 0;
    case OP_LE:
        *out = jv_bool(ints ? x <= y : a <= b);
        return 0;
    case OP_GE:
        *out = jv_bool(ints ? x >= y : a >= b);
        return 0;
    }
    return 1; /* not an arithmetic operator */
}

static bool str_contains(const jj_str *hay, const jj_str *needle) {
    if (!needle->len) return true;
    return memmem(hay->data, hay->len, needle->data, needle->len) != NULL;
}

static int concat_raw(jj_rt *rt, jv l, jv r, int line, jv *out) {
    jj_buf b;
    jj_new_buf(rt, &b);
    int rc = 0;
    jv side[2] = {l, r};
    for (int k = 0; k < 2 && !rc; k++) {
        if (side[k].t == JV_NONE)
            rc = jj_buf_put(&b, "None", 4) ? out_fail(rt) : 0;
        else
            rc = jv_to_raw(rt, &b, side[k], line);
    }
    if (!rc) rc = jv_str_from_buf(rt, &b, out);
    jj_buf_free(&b);
    return rc;
}

static int binop(jj_rt *rt, int op, jv l, jv r, int line, jv *out) {
    *out = JV_UNDEF_V;
    if (op == OP_EQ || op == OP_NE) {
        bool eq;
        if (jv_loose_eq(rt, l, r, line, &eq)) return rt->status;
        *out = jv_bool(op == OP_EQ ? eq : !eq);
        return 0;
    }
    if (op == OP_CONCAT) return concat_raw(rt, l, r, line, out);
    if (r.t == JV_UNDEF && (op == OP_IN || op == OP_NOTIN)) {
        *out = jv_bool(op == OP_NOTIN);
        return 0;
    }
    if (l.t == JV_UNDEF || r.t == JV_UNDEF || l.t == JV_NONE || r.t == JV_NONE) goto bad;
    bool lnum = jv_is_num(l) || l.t == JV_BOOL, rnum = jv_is_num(r) || r.t == JV_BOOL;
    if (lnum && rnum && op <= OP_GE) return arith(rt, op, l, r, line, out);
    if (l.t == JV_LIST && r.t == JV_LIST && op == OP_ADD) {
        if (jv_list_new(rt, l.u.l->n + r.u.l->n, out)) return rt->status;
        for (size_t i = 0; i < l.u.l->n; i++)
            if (jv_list_push(rt, out->u.l, jv_ref(l.u.l->items[i]))) return rt->status;
        for (size_t i = 0; i < r.u.l->n; i++)
            if (jv_list_push(rt, out->u.l, jv_ref(r.u.l->items[i]))) return rt->status;
        return 0;
    }
    if (r.t == JV_LIST && (op == OP_IN || op == OP_NOTIN)) {
        bool found = false;
        for (size_t i = 0; i < r.u.l->n && !found; i++) found = jv_strict_eq(r.u.l->items[i], l);
        *out = jv_bool(op == OP_IN ? found : !found);
        return 0;
    }
    if ((l.t == JV_STR || r.t == JV_STR) && op == OP_ADD) return concat_raw(rt, l, r, line, out);
    if (l.t == JV_STR && r.t == JV_STR) {
        if (op == OP_IN || op == OP_NOTIN) {
            bool f = str_contains(r.u.s, l.u.s);
            *out = jv_bool(op == OP_IN ? f : !f);
            return 0;
        }
        if (op >= OP_LT && op <= OP_GE) {
            int c;
            if (jv_compare(rt, l, r, true, line, &c)) return rt->status;
            *out = jv_bool(op == OP_LT   ? c < 0
                           : op == OP_GT ? c > 0
                           : op == OP_LE ? c <= 0
                                         : c >= 0);
            return 0;
        }
    }
    if (r.t == JV_DICT && (op == OP_IN || op == OP_NOTIN)) {
        bool f = jv_dict_get_key(r.u.d, l) != NULL;
        *out = jv_bool(op == OP_IN ? f : !f);
        return 0;
    }
    if (op == OP_MUL && ((l.t == JV_STR && r.t == JV_INT) || (l.t == JV_INT && r.t == JV_STR))) {
        jv s = l.t == JV_STR ? l : r;
        int64_t k = l.t == JV_INT ? l.u.i : r.u.i;
        jj_buf b;
        jj_new_buf(rt, &b);
        for (int64_t i = 0; i < k; i++)
            if (jj_buf_put(&b, s.u.s->data, s.u.s->len)) {
                jj_buf_free(&b);
                return out_fail(rt);
            }
        return jv_str_from_buf(rt, &b, out);
    }
bad:
    return jj_fail(rt, FR_EINVAL, line, "unsupported operand types for '%s': %s and %s",
                   op_name(op), jv_type_name(l), jv_type_name(r));
}

/* ---------------------------------------------------------------- expressions */

static int eval_inner(jj_rt *rt, const jj_node *n, jj_scope *sc, jv *out) {
    *out = JV_UNDEF_V;
    switch (n->kind) {
    case N_INT:
        *out = jv_int(n->i);
        return 0;
    case N_FLOAT:
        *out = jv_float(n->f);
        return 0;
    case N_STR:
    case N_TEXT:
        return jv_str_new(rt, n->s, n->n, out);
    case N_IDENT:
        *out = jv_ref(jj_scope_get(sc, n->s, n->n));
        return 0;
    case N_LIST:
    case N_TUPLE:
        if (jv_list_new(rt, n->nargs, out)) return rt->status;
        for (size_t i = 0; i < n->nargs; i++) {
            jv v;
            if (jj_eval(rt, n->args[i], sc, &v) || jv_list_push(rt, out->u.l, v)) return rt->status;
        }
        return 0;
    case N_DICT:
        if (jv_dict_new(rt, false, out)) return rt->status;
        for (size_t i = 0; i < n->nargs; i++) {
            jv k, v;
            if (jj_eval(rt, n->args[i], sc, &k)) return rt->status;
            if (jj_eval(rt, n->alt[i], sc, &v)) {
                jv_decref(rt, k);
                return rt->status;
            }
            int rc = jv_dict_set_key(rt, out->u.d, k, v, n->line);
            jv_decref(rt, k);
            if (rc) return rc;
        }
        return 0;
    case N_AND:
    case N_OR: {
        jv l;
        if (jj_eval(rt, n->a, sc, &l)) return rt->status;
        if (jv_truthy(l) == (n->kind == N_OR)) {
            *out = l;
            return 0;
        }
        jv_decref(rt, l);
        return jj_eval(rt, n->b, sc, out);
    }
    case N_NOT: {
        jv v;
        if (jj_eval(rt, n->a, sc, &v)) return rt->status;
        *out = jv_bool(!jv_truthy(v));
        jv_decref(rt, v);
        return 0;
    }
    case N_UNARY: {
        jv v;
        if (jj_eval(rt, n->a, sc, &v)) return rt->status;
        if (v.t == JV_BOOL) v = jv_int(v.u.b);
        if (v.t == JV_INT) {
            *out = n->op == OP_POS      ? v
                   : v.u.i == INT64_MIN ? jv_bigint(-(double)v.u.i)
                                        : jv_int(-v.u.i);
            return 0;
        }
        if (v.t == JV_FLOAT) {
            *out = v;
            if (n->op == OP_NEG) out->u.f = -v.u.f;
            return 0;
        }
        jv_decref(rt, v);
        return jj_fail(rt, FR_EINVAL, n->line, "bad operand type for unary %s: %s", op_name(n->op),
                       jv_type_name(v));
    }
    case N_BINOP: {
        jv l, r;
        if (jj_eval(rt, n->a, sc, &l)) return rt->status;
        if (jj_eval(rt, n->b, sc, &r)) {
            jv_decref(rt, l);
            return rt->status;
        }
        int rc = binop(rt, n->op, l, r, n->line, out);
        jv_decref(rt, l);
        jv_decref(rt, r);
        return rc;
    }
    case N_TERNARY:
    case N_SELECT: {
        jv c;
        const jj_node *cond = n->kind == N_TERNARY ? n->a : n->b;
        if (jj_eval(rt, cond, sc, &c)) return rt->status;
        bool t = jv_truthy(c);
        jv_decref(rt, c);
        if (n->kind == N_SELECT) return t ? jj_eval(rt, n->a, sc, out) : 0;
        return jj_eval(rt, t ? n->b : n->c, sc, out);
    }
    case N_MEMBER:
        return eval_member(rt, n, sc, out);
    case N_CALL:
        return eval_call(rt, n, sc, out);
    case N_FILTER: {
        jv v;
        jj_args args;
        if (jj_eval(rt, n->a, sc, &v)) return rt->status;
        int rc = jj_eval_args(rt, n->args, n->nargs, sc, &args);
        if (!rc) rc = jj_filter(rt, n->s, n->n, v, &args, sc, n->line, out);
        jj_args_free(rt, &args);
        jv_decref(rt, v);
        return rc;
    }
    case N_TEST: {
        jv v;
        jj_args args;
        bool res = false;
        if (jj_eval(rt, n->a, sc, &v)) return rt->status;
        int rc = jj_eval_args(rt, n->args, n->nargs, sc, &args);
        if (!rc) rc = jj_test(rt, n->s, n->n, v, &args, n->line, &res);
        jj_args_free(rt, &args);
        jv_decref(rt, v);
        *out = jv_bool(n->flag ? !res : res);
        return rc;
    }
    case N_SLICE:
    case N_KWARG:
    case N_SPREAD:
    case N_KWSPREAD:
        return jj_fail(rt, FR_EFORMAT, n->line, "misplaced argument syntax");
    default:
        return jj_fail(rt, FR_EFORMAT, n->line, "statement used as an expression");
    }
}

int jj_eval(jj_rt *rt, const jj_node *n, jj_scope *sc, jv *out) {
    *out = JV_UNDEF_V;
    if (rt->status) return rt->status;
    if (++rt->depth > rt->lim.max_depth) {
        rt->depth--;
        return jj_fail(rt, FR_ERANGE, n->line, "evaluation nested too deeply (more than %d levels)",
                       rt->lim.max_depth);
    }
    int rc = eval_inner(rt, n, sc, out);
    rt->depth--;
    if (rc) {
        jv_decref(rt, *out);
        *out = JV_UNDEF_V;
        if (!rt->status) rt->status = rc;
    }
    return rc;
}
