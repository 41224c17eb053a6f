/* jinja_exec.c: statements (text, if, for with loop.* and filters, set, macro, call and
 * filter blocks, break/continue, do) writing into an output buffer, and the public API
 * (jinja_template_parse / jinja_template_render). Loop controls follow Python's Jinja: a
 * break keeps the output of its iteration and the else block runs only when nothing was
 * iterated. Every loop iteration counts against max_steps. */
#include "jinja/jinja_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const k_loop_keys[9] = {"index", "index0", "revindex", "revindex0", "first",
                                           "last",  "length", "previtem", "nextitem"};

static int out_fail(jj_rt *rt) {
    return jj_fail(rt, FR_ERANGE, 0, "rendered text larger than %zu bytes", rt->lim.max_output);
}

/* ---------------------------------------------------------------- statements */

static int bind_target(jj_rt *rt, const jj_node *target, jv item, jj_scope *sc, int line) {
    if (target->kind == N_IDENT) return jj_scope_set(rt, sc, target->s, target->n, jv_ref(item));
    if (item.t != JV_LIST)
        return jj_fail(rt, FR_EINVAL, line, "cannot unpack a %s into %zu names", jv_type_name(item),
                       target->nargs);
    if (item.u.l->n != target->nargs)
        return jj_fail(rt, FR_EINVAL, line, "too %s values to unpack (expected %zu, got %zu)",
                       item.u.l->n < target->nargs ? "few" : "many", target->nargs, item.u.l->n);
    for (size_t k = 0; k < target->nargs; k++)
        if (jj_scope_set(rt, sc, target->args[k]->s, target->args[k]->n,
                         jv_ref(item.u.l->items[k])))
            return rt->status;
    return 0;
}

/* The items a for loop walks: a snapshot (owned references). */
static int loop_items(jj_rt *rt, jv it, int line, jv **items, size_t *n) {
    *items = NULL;
    *n = 0;
    if (it.t == JV_UNDEF) return 0;
    size_t cnt = it.t == JV_LIST   ? it.u.l->n
                 : it.t == JV_DICT ? it.u.d->n
                 : it.t == JV_STR  ? jj_cp_count(it.u.s->data, it.u.s->len)
                                   : 0;
    if (it.t != JV_LIST && it.t != JV_DICT && it.t != JV_STR)
        return jj_fail(rt, FR_EINVAL, line, "cannot iterate over a %s", jv_type_name(it));
    if (!cnt) return 0;
    *items = calloc(cnt, sizeof **items);
    if (!*items) return jj_fail(rt, FR_ENOMEM, 0, "out of memory rendering the template");
    if (it.t == JV_LIST) {
        for (size_t i = 0; i < cnt; i++) (*items)[i] = jv_ref(it.u.l->items[i]);
        *n = cnt;
    } else if (it.t == JV_DICT) {
        for (size_t i = 0; i < cnt; i++) (*items)[i] = jv_dict_key(it.u.d, i);
        *n = cnt;
    } else {
        const char *s = it.u.s->data;
        size_t len = it.u.s->len, i = 0;
        while (i < len) {
            uint32_t cp;
            size_t l = jj_utf8_next(s + i, len - i, &cp);
            if (jv_str_new(rt, s + i, l, &(*items)[*n])) return rt->status;
            (*n)++;
            i += l;
        }
    }
    return 0;
}

static int make_loop(jj_rt *rt, jv *loop, jv *items, size_t n, size_t i) {
    if (!rt->loop_keys[0]) {
        for (int k = 0; k < 9; k++) {
            jv s;
            if (jv_str_new(rt, k_loop_keys[k], strlen(k_loop_keys[k]), &s)) return rt->status;
            rt->loop_keys[k] = s.u.s;
        }
    }
    if (loop->t != JV_DICT || loop->u.d->h.rc > 1) { /* someone kept the old one */
        jv_decref(rt, *loop);
        if (jv_dict_new(rt, false, loop)) return rt->status;
    }
    jv vals[9] = {jv_int((int64_t)i + 1),
                  jv_int((int64_t)i),
                  jv_int((int64_t)(n - i)),
                  jv_int((int64_t)(n - i - 1)),
                  jv_bool(i == 0),
                  jv_bool(i == n - 1),
                  jv_int((int64_t)n),
                  i > 0 ? jv_ref(items[i - 1]) : JV_UNDEF_V,
                  i + 1 < n ? jv_ref(items[i + 1]) : JV_UNDEF_V};
    for (int k = 0; k < 9; k++)
        if (jv_dict_set_str(rt, loop->u.d, rt->loop_keys[k], vals[k])) {
            for (int m = k + 1; m < 9; m++) jv_decref(rt, vals[m]);
            return rt->status;
        }
    return 0;
}

static int exec_for(jj_rt *rt, const jj_node *n, jj_scope *parent, jj_buf *out) {
    jj_scope *sc;
    if (jj_scope_new(rt, parent, &sc)) return rt->status;
    jv it = JV_UNDEF_V, loop = JV_UNDEF_V, *items = NULL;
    size_t cnt = 0, kept = 0;
    int rc = jj_eval(rt, n->b, sc, &it);
    if (!rc) rc = loop_items(rt, it, n->line, &items, &cnt);
    /* the if-filter, evaluated per item in its own scope */
    for (size_t i = 0; !rc && i < cnt; i++) {
        bool keep = true;
        if (n->c) {
            jj_scope *fs;
            jv t;
            if ((rc = jj_step(rt, n->line)) || (rc = jj_scope_new(rt, sc, &fs))) break;
            rc = bind_target(rt, n->a, items[i], fs, n->line);
            if (!rc) rc = jj_eval(rt, n->c, fs, &t);
            jj_scope_release(rt, fs);
            if (rc) break;
            keep = jv_truthy(t);
            jv_decref(rt, t);
        }
        if (keep)
            items[kept++] = items[i];
        else
            jv_decref(rt, items[i]);
    }
    if (rc) kept = 0; /* the sweep frees what is left */
    for (size_t i = 0; !rc && i < kept; i++) {
        if ((rc = jj_step(rt, n->line))) break;
        if ((rc = make_loop(rt, &loop, items, kept, i))) break;
        if ((rc = jj_scope_set(rt, sc, "loop", 4, jv_ref(loop)))) break;
        if ((rc = bind_target(rt, n->a, items[i], sc, n->line))) break;
        rc = jj_exec(rt, n->body, n->nbody, sc, out);
        if (rc == JJ_BREAK) {
            rc = 0;
            break;
        }
        if (rc == JJ_CONTINUE) rc = 0;
    }
    if (!rc && kept == 0 && n->nalt) rc = jj_exec(rt, n->alt, n->nalt, sc, out);
    for (size_t i = 0; i < kept; i++) jv_decref(rt, items[i]);
    free(items);
    jv_decref(rt, loop);
    jv_decref(rt, it);
    jj_scope_release(rt, sc);
    return rc;
}

static int exec_set(jj_rt *rt, const jj_node *n, jj_scope *sc) {
    jv val;
    if (n->b) {
        if (jj_eval(rt, n->b, sc, &val)) return rt->status;
    } else {
        jj_buf b;
        jj_new_buf(rt, &b);
        int rc = jj_exec(rt, n->body, n->nbody, sc, &b);
        if (rc > 0)
            rc = jj_fail(rt, FR_EINVAL, n->line, "'break' or 'continue' inside a set block");
        if (!rc) rc = jv_str_from_buf(rt, &b, &val);
        jj_buf_free(&b);
        if (rc) return rc;
    }
    const jj_node *t = n->a;
    int rc;
    if (t->kind == N_MEMBER) {
        jv obj;
        if (jj_eval(rt, t->a, sc, &obj)) {
            jv_decref(rt, val);
            return rt->status;
        }
        if (obj.t != JV_NS)
            rc = jj_fail(rt, FR_EINVAL, n->line,
                         "cannot set attribute '%.*s' on a %s (only on a namespace)", (int)t->b->n,
                         t->b->s, jv_type_name(obj));
        else
            rc = jv_dict_set(rt, obj.u.d, t->b->s, t->b->n, jv_ref(val));
        jv_decref(rt, obj);
    } else {
        rc = bind_target(rt, t, val, sc, n->line);
    }
    jv_decref(rt, val);
    return rc;
}

static int put_value(jj_rt *rt, jj_buf *out, jv v, int line) {
    if (v.t == JV_NONE || v.t == JV_UNDEF) return 0;
    return jv_to_display(rt, out, v, line);
}

static int exec_stmt(jj_rt *rt, const jj_node *n, jj_scope *sc, jj_buf *out) {
    switch (n->kind) {
    case N_TEXT:
        return jj_buf_put(out, n->s, n->n) ? out_fail(rt) : 0;
    case N_IF: {
        jv t;
        if (jj_eval(rt, n->a, sc, &t)) return rt->status;
        bool yes = jv_truthy(t);
        jv_decref(rt, t);
        return yes ? jj_exec(rt, n->body, n->nbody, sc, out)
                   : jj_exec(rt, n->alt, n->nalt, sc, out);
    }
    case N_FOR:
        return exec_for(rt, n, sc, out);
    case N_SET:
        return exec_set(rt, n, sc);
    case N_MACRO: {
        jv f;
        if (jv_func_new(rt, FK_MACRO, 0, &f)) return rt->status;
        f.u.fn->node = n;
        return jj_scope_set(rt, sc, n->s, n->n, f);
    }
    case N_CALLBLOCK: {
        jv caller, fn, res;
        jj_args args;
        jj_scope *inner;
        if (jv_func_new(rt, FK_CALLER, 0, &caller)) return rt->status;
        caller.u.fn->node = n;
        caller.u.fn->scope = sc;
        sc->h.rc++;
        int rc = jj_eval_args(rt, n->a->args, n->a->nargs, sc, &args);
        if (!rc) rc = jj_eval(rt, n->a->a, sc, &fn);
        if (!rc) {
            rc = jj_scope_new(rt, sc, &inner);
            if (!rc) {
                rc = jj_scope_set(rt, inner, "caller", 6, jv_ref(caller));
                if (!rc) rc = jj_call_value(rt, fn, &args, inner, n->line, &res);
                if (!rc) rc = put_value(rt, out, res, n->line), jv_decref(rt, res);
                jj_scope_release(rt, inner);
            }
            jv_decref(rt, fn);
        }
        jj_args_free(rt, &args);
        jv_decref(rt, caller);
        return rc;
    }
    case N_FILTERBLOCK: {
        jj_buf b;
        jv s, res;
        jj_args args;
        jj_new_buf(rt, &b);
        int rc = jj_exec(rt, n->body, n->nbody, sc, &b);
        if (rc > 0)
            rc = jj_fail(rt, FR_EINVAL, n->line, "'break' or 'continue' inside a filter block");
        if (!rc) rc = jv_str_from_buf(rt, &b, &s);
        jj_buf_free(&b);
        if (rc) return rc;
        rc = jj_eval_args(rt, n->a->args, n->a->nargs, sc, &args);
        if (!rc) rc = jj_filter(rt, n->a->s, n->a->n, s, &args, sc, n->a->line, &res);
        if (!rc) rc = put_value(rt, out, res, n->line), jv_decref(rt, res);
        jj_args_free(rt, &args);
        jv_decref(rt, s);
        return rc;
    }
    case N_BREAK:
        return JJ_BREAK;
    case N_CONTINUE:
        return JJ_CONTINUE;
    case N_DO: {
        jv v;
        if (jj_eval(rt, n->a, sc, &v)) return rt->status;
        jv_decref(rt, v);
        return 0;
    }
    default: {
        jv v;
        if (jj_eval(rt, n, sc, &v)) return rt->status;
        int rc = put_value(rt, out, v, n->line);
        jv_decref(rt, v);
        return rc;
    }
    }
}

int jj_exec(jj_rt *rt, jj_node *const *body, size_t n, jj_scope *sc, jj_buf *out) {
    if (rt->status) return rt->status;
    if (++rt->depth > rt->lim.max_depth) {
        rt->depth--;
        return jj_fail(rt, FR_ERANGE, n ? body[0]->line : 0,
                       "evaluation nested too deeply (more than %d levels)", rt->lim.max_depth);
    }
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = exec_stmt(rt, body[i], sc, out);
        if (rc < 0 && !rt->status) rt->status = rc;
    }
    rt->depth--;
    return rc;
}

/* ---------------------------------------------------------------- API */

void jinja_limits_default(jinja_limits *lim) {
    lim->max_output = 64u << 20;
    lim->max_memory = 512u << 20;
    lim->max_steps = 20000000;
    lim->max_depth = 1000;
    lim->now = -1;
}

int jinja_template_parse(jinja_template **out, const char *src, size_t len, fr_err *err) {
    *out = NULL;
    jinja_template *t = calloc(1, sizeof *t);
    if (!t) return fr_fail(err, FR_ENOMEM, "out of memory parsing the template");
    jj_tok *toks;
    size_t nt;
    int rc = jj_lex(&toks, &nt, &t->arena, src ? src : "", src ? len : 0, err);
    if (!rc) rc = jj_parse(t, toks, nt, err);
    if (rc) {
        jinja_template_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void jinja_template_free(jinja_template *t) {
    if (!t) return;
    jj_arena_free(&t->arena);
    free(t);
}

int jinja_template_render(char **out, size_t *out_len, const jinja_template *t, const json_t *vars,
                          const jinja_limits *lim, fr_err *err) {
    jinja_limits dl;
    jj_rt rt;
    jj_scope *g = NULL;
    jj_buf b;
    *out = NULL;
    if (out_len) *out_len = 0;
    if (!lim) {
        jinja_limits_default(&dl);
        lim = &dl;
    }
    jj_rt_init(&rt, lim, err);
    jj_new_buf(&rt, &b);
    int rc = jj_scope_new(&rt, NULL, &g);
    if (!rc) rc = jj_globals_install(&rt, g);
    if (!rc && vars) {
        if (!json_is_object(vars)) {
            rc = jj_fail(&rt, FR_EINVAL, 0, "template variables must be a JSON object");
        } else {
            const char *k;
            json_t *v;
            json_object_foreach((json_t *)vars, k, v) {
                jv x;
                if ((rc = jv_from_json(&rt, v, &x))) break;
                if ((rc = jj_scope_set(&rt, g, k, strlen(k), x))) break;
            }
        }
    }
    if (!rc) {
        rc = jj_exec(&rt, t->body, t->nbody, g, &b);
        if (rc > 0) rc = jj_fail(&rt, FR_EINVAL, 0, "'break' or 'continue' outside a loop");
    }
    if (!rc) {
        if (!b.p && jj_buf_put(&b, "", 0))
            rc = fr_fail(err, FR_ENOMEM, "out of memory rendering the template");
    }
    if (!rc) {
        *out = b.p;
        if (out_len) *out_len = b.n;
    } else {
        jj_buf_free(&b);
    }
    if (g) jj_scope_release(&rt, g);
    jj_rt_sweep(&rt);
    return rc;
}

int jinja_render(char **out, size_t *out_len, const char *src, size_t len, const json_t *vars,
                 fr_err *err) {
    jinja_template *t;
    *out = NULL;
    if (out_len) *out_len = 0;
    int rc = jinja_template_parse(&t, src, len, err);
    if (rc) return rc;
    rc = jinja_template_render(out, out_len, t, vars, NULL, err);
    jinja_template_free(t);
    return rc;
}
