/* jinja_parse.c: recursive-descent parser from tokens to the AST (jj_node, in the template's
 * arena). The grammar and operator precedence follow @huggingface/jinja's parser:
 *   expr    := or ('if' or ('else' expr)?)?        (no else: a select/filter expression)
 *   or/and/not, comparison (in, not in, == ...), additive (+ - ~), multiplicative,
 *   power (**, left-assoc), test (x is [not] name [arg]), filter (x | f(args)),
 *   unary sign, primary with .attr, [index/slice] and (call) suffixes.
 * Statements: if/elif/else, for/else (with tuple targets and an if filter), set (plain,
 * tuple, namespace attribute, block), macro, call, filter, break, continue, do.
 * Nesting is bounded (JJ_MAX_PARSE_DEPTH levels, JJ_MAX_TREE_HEIGHT expression height). */
#include "jinja/jinja_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const jj_tok *t;
    size_t nt, i;
    int depth;
    jj_arena *a;
    fr_err *err;
    int rc;
} parser;

typedef struct vec {
    jj_node **p;
    size_t n, cap;
} vec;

static int fail(parser *p, int code, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(parser *p, int code, int line, const char *fmt, ...) {
    if (p->rc) return p->rc;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fr_fail(p->err, code, "%s at line %d", msg, line);
    p->rc = code;
    return code;
}

static int oom(parser *p) {
    if (!p->rc) {
        fr_fail(p->err, FR_ENOMEM, "out of memory parsing the template");
        p->rc = FR_ENOMEM;
    }
    return p->rc;
}

static int vec_push(parser *p, vec *v, jj_node *n) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        jj_node **q = realloc(v->p, cap * sizeof *q);
        if (!q) return oom(p);
        v->p = q;
        v->cap = cap;
    }
    v->p[v->n++] = n;
    return 0;
}

/* Moves v's items into the arena. */
static int vec_done(parser *p, vec *v, jj_node ***out, size_t *n) {
    *out = NULL;
    *n = v->n;
    if (v->n) {
        *out = jj_arena_alloc(p->a, v->n * sizeof **out);
        if (!*out) {
            free(v->p);
            *v = (vec){0};
            return oom(p);
        }
        memcpy(*out, v->p, v->n * sizeof **out);
    }
    free(v->p);
    *v = (vec){0};
    return 0;
}

static const jj_tok *cur(const parser *p) {
    return &p->t[p->i < p->nt ? p->i : p->nt - 1];
}
static const jj_tok *peek(const parser *p, size_t k) {
    return &p->t[p->i + k < p->nt ? p->i + k : p->nt - 1];
}
static bool is(const parser *p, jj_tok_type t) {
    return cur(p)->type == t;
}
static bool tok_is_ident(const jj_tok *t, const char *name) {
    return t->type == TK_IDENT && t->n == strlen(name) && !memcmp(t->s, name, t->n);
}
static bool is_ident(const parser *p, const char *name) {
    return tok_is_ident(cur(p), name);
}
static bool is_statement(const parser *p, const char *const *names) {
    if (cur(p)->type != TK_OPEN_STMT) return false;
    const jj_tok *t = peek(p, 1);
    for (; *names; names++)
        if (tok_is_ident(t, *names)) return true;
    return false;
}

static int expect(parser *p, jj_tok_type type, const char *what) {
    const jj_tok *t = cur(p);
    if (t->type != type)
        return fail(p, FR_EFORMAT, t->line, "expected %s %s, found %s", jj_tok_name(type), what,
                    jj_tok_name(t->type));
    p->i++;
    return 0;
}

static int expect_ident(parser *p, const char *name) {
    const jj_tok *t = cur(p);
    if (!tok_is_ident(t, name))
        return fail(p, FR_EFORMAT, t->line, "expected '%s', found %s", name, jj_tok_name(t->type));
    p->i++;
    return 0;
}

static jj_node *node(parser *p, jj_node_kind kind, int line) {
    jj_node *n = jj_arena_alloc(p->a, sizeof *n);
    if (!n) {
        oom(p);
        return NULL;
    }
    n->kind = kind;
    n->line = line;
    n->height = 1;
    return n;
}

/* Sets the height from the children; fails when the tree gets too tall. */
static int fix_height(parser *p, jj_node *n) {
    int h = 0;
    jj_node *kids[3] = {n->a, n->b, n->c};
    for (int k = 0; k < 3; k++)
        if (kids[k] && kids[k]->height > h) h = kids[k]->height;
    for (size_t k = 0; k < n->nargs; k++)
        if (n->args[k] && n->args[k]->height > h) h = n->args[k]->height;
    for (size_t k = 0; k < n->nalt; k++)
        if (n->alt[k] && n->alt[k]->height > h) h = n->alt[k]->height;
    n->height = h + 1;
    if (n->height > JJ_MAX_TREE_HEIGHT)
        return fail(p, FR_ERANGE, n->line, "expression nested too deeply (more than %d levels)",
                    JJ_MAX_TREE_HEIGHT);
    return 0;
}

static jj_node *mk(parser *p, jj_node_kind kind, int line, jj_node *a, jj_node *b, jj_node *c) {
    jj_node *n = node(p, kind, line);
    if (!n) return NULL;
    n->a = a;
    n->b = b;
    n->c = c;
    if (fix_height(p, n)) return NULL;
    return n;
}

static int enter(parser *p, int line) {
    if (++p->depth > JJ_MAX_PARSE_DEPTH)
        return fail(p, FR_ERANGE, line, "template nested too deeply (more than %d levels)",
                    JJ_MAX_PARSE_DEPTH);
    return 0;
}

static jj_node *parse_expr(parser *p);
static jj_node *parse_primary(parser *p);
static int parse_any(parser *p, jj_node **out);

/* ---------------------------------------------------------------- expressions */

/* (a, b = 1, *c, **d): call arguments or macro parameters. */
static int parse_args(parser *p, bool params, jj_node ***out, size_t *n) {
    vec v = {0};
    bool saw_kw = false, saw_spread = false;
    int line = cur(p)->line;
    if (expect(p, TK_LPAREN, "to open the argument list")) return p->rc;
    while (!is(p, TK_RPAREN)) {
        const jj_tok *t = cur(p);
        bool kwspread = t->type == TK_POW;
        bool spread = t->type == TK_MUL && t->n == 1 && t->s[0] == '*';
        if (t->type == TK_EOF) {
            fail(p, FR_EFORMAT, line, "unterminated argument list");
            goto bad;
        }
        if (params && (kwspread || spread)) {
            fail(p, FR_EFORMAT, t->line, "argument unpacking is not allowed in parameters");
            goto bad;
        }
        jj_node *arg;
        if (kwspread || spread) {
            p->i++;
            jj_node *e = parse_expr(p);
            if (!e) goto bad;
            arg = mk(p, kwspread ? N_KWSPREAD : N_SPREAD, t->line, e, NULL, NULL);
            if (!arg) goto bad;
            if (spread) saw_spread = true;
        } else {
            arg = parse_expr(p);
            if (!arg) goto bad;
            if (is(p, TK_EQUALS)) {
                p->i++;
                if (arg->kind != N_IDENT) {
                    fail(p, FR_EFORMAT, arg->line, "expected a name before '='");
                    goto bad;
                }
                jj_node *val = parse_expr(p);
                if (!val) goto bad;
                jj_node *kw = mk(p, N_KWARG, arg->line, val, NULL, NULL);
                if (!kw) goto bad;
                kw->s = arg->s;
                kw->n = arg->n;
                arg = kw;
            }
            if (params) {
                if (arg->kind != N_IDENT && arg->kind != N_KWARG) {
                    fail(p, FR_EFORMAT, arg->line, "expected a parameter name");
                    goto bad;
                }
                for (size_t k = 0; k < v.n; k++)
                    if (v.p[k]->n == arg->n && !memcmp(v.p[k]->s, arg->s, arg->n)) {
                        fail(p, FR_EFORMAT, arg->line, "duplicate parameter '%.*s'", (int)arg->n,
                             arg->s);
                        goto bad;
                    }
            }
            if (arg->kind == N_KWARG)
                saw_kw = true;
            else if (saw_kw) {
                fail(p, FR_EFORMAT, arg->line,
                     params ? "parameter without default follows one with a default"
                            : "positional argument follows keyword argument");
                goto bad;
            } else if (saw_spread) {
                fail(p, FR_EFORMAT, arg->line, "positional argument follows *-unpacking");
                goto bad;
            }
        }
        if (vec_push(p, &v, arg)) goto bad;
        if (kwspread) {
            if (is(p, TK_COMMA)) p->i++;
            if (!is(p, TK_RPAREN)) {
                fail(p, FR_EFORMAT, cur(p)->line, "'**' must unpack the last argument");
                goto bad;
            }
            break;
        }
        if (is(p, TK_COMMA)) p->i++;
    }
    p->i++; /* ) */
    return vec_done(p, &v, out, n);
bad:
    free(v.p);
    return p->rc ? p->rc : oom(p);
}

/* obj[...] contents: an index or a slice a:b:c. */
static jj_node *parse_subscript(parser *p, int line) {
    jj_node *sl[3] = {0};
    size_t ns = 0;
    bool slice = false;
    while (!is(p, TK_RBRACKET)) {
        if (is(p, TK_EOF)) {
            fail(p, FR_EFORMAT, line, "unterminated '['");
            return NULL;
        }
        if (ns == 3) {
            fail(p, FR_EFORMAT, line, "a slice takes at most 3 parts");
            return NULL;
        }
        if (is(p, TK_COLON)) {
            sl[ns++] = NULL;
            p->i++;
            slice = true;
        } else {
            jj_node *e = parse_expr(p);
            if (!e) return NULL;
            sl[ns++] = e;
            if (is(p, TK_COLON)) {
                p->i++;
                slice = true;
            }
        }
    }
    if (ns == 0) {
        fail(p, FR_EFORMAT, line, "expected an index or slice inside '[]'");
        return NULL;
    }
    if (!slice) return sl[0];
    return mk(p, N_SLICE, line, sl[0], ns > 1 ? sl[1] : NULL, ns > 2 ? sl[2] : NULL);
}

/* .name, .0, [index], [a:b], (args) suffixes */
static jj_node *parse_postfix(parser *p, jj_node *obj, bool calls) {
    for (;;) {
        const jj_tok *t = cur(p);
        if (t->type == TK_DOT || t->type == TK_LBRACKET) {
            p->i++;
            jj_node *prop;
            bool computed = t->type == TK_LBRACKET;
            if (computed) {
                prop = parse_subscript(p, t->line);
                if (!prop || expect(p, TK_RBRACKET, "to close the subscript")) return NULL;
            } else {
                prop = parse_primary(p);
                if (!prop) return NULL;
                if (prop->kind != N_IDENT && prop->kind != N_INT) {
                    fail(p, FR_EFORMAT, t->line, "expected a name after '.'");
                    return NULL;
                }
            }
            jj_node *m = mk(p, N_MEMBER, t->line, obj, prop, NULL);
            if (!m) return NULL;
            m->flag = computed;
            obj = m;
        } else if (calls && t->type == TK_LPAREN) {
            jj_node *c = node(p, N_CALL, t->line);
            if (!c) return NULL;
            c->a = obj;
            if (parse_args(p, false, &c->args, &c->nargs) || fix_height(p, c)) return NULL;
            obj = c;
        } else {
            return obj;
        }
    }
}

static jj_node *parse_seq(parser *p, bool primary);

static jj_node *parse_primary(parser *p) {
    const jj_tok *t = cur(p);
    p->i++;
    switch (t->type) {
    case TK_NUM: {
        char buf[64];
        size_t l = t->n < sizeof buf - 1 ? t->n : sizeof buf - 1;
        memcpy(buf, t->s, l);
        buf[l] = 0;
        if (memchr(t->s, '.', t->n)) {
            jj_node *n = node(p, N_FLOAT, t->line);
            if (n) n->f = strtod(buf, NULL);
            return n;
        }
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        jj_node *n = node(p, errno || t->n > 40 ? N_FLOAT : N_INT, t->line);
        if (!n) return NULL;
        if (n->kind == N_INT)
            n->i = v;
        else
            n->f = strtod(buf, NULL);
        return n;
    }
    case TK_STR: {
        jj_node *n = node(p, N_STR, t->line);
        if (!n) return NULL;
        n->s = t->s;
        n->n = t->n;
        if (is(p, TK_STR)) { /* adjacent literals concatenate */
            jj_buf b = {0};
            if (jj_buf_put(&b, t->s, t->n)) {
                jj_buf_free(&b);
                oom(p);
                return NULL;
            }
            while (is(p, TK_STR)) {
                if (jj_buf_put(&b, cur(p)->s, cur(p)->n)) {
                    jj_buf_free(&b);
                    oom(p);
                    return NULL;
                }
                p->i++;
            }
            n->s = jj_arena_dup(p->a, b.p, b.n);
            n->n = b.n;
            jj_buf_free(&b);
            if (!n->s) {
                oom(p);
                return NULL;
            }
        }
        return n;
    }
    case TK_IDENT: {
        jj_node *n = node(p, N_IDENT, t->line);
        if (!n) return NULL;
        n->s = t->s;
        n->n = t->n;
        return n;
    }
    case TK_LPAREN: {
        if (enter(p, t->line)) return NULL;
        jj_node *e = parse_seq(p, false);
        p->depth--;
        if (!e || expect(p, TK_RPAREN, "to close '('")) return NULL;
        return e;
    }
    case TK_LBRACKET:
    case TK_LBRACE: {
        bool dict = t->type == TK_LBRACE;
        jj_tok_type close = dict ? TK_RBRACE : TK_RBRACKET;
        if (enter(p, t->line)) return NULL;
        vec keys = {0}, vals = {0};
        while (!is(p, close)) {
            if (is(p, TK_EOF)) {
                fail(p, FR_EFORMAT, t->line, "unterminated %s literal", dict ? "dict" : "list");
                goto bad;
            }
            jj_node *k = parse_expr(p);
            if (!k || vec_push(p, &keys, k)) goto bad;
            if (dict) {
                if (expect(p, TK_COLON, "between key and value")) goto bad;
                jj_node *v = parse_expr(p);
                if (!v || vec_push(p, &vals, v)) goto bad;
            }
            if (is(p, TK_COMMA)) p->i++;
        }
        p->i++;
        p->depth--;
        jj_node *n = node(p, dict ? N_DICT : N_LIST, t->line);
        if (!n || vec_done(p, &keys, &n->args, &n->nargs) ||
            vec_done(p, &vals, &n->alt, &n->nalt) || fix_height(p, n)) {
            free(keys.p);
            free(vals.p);
            return NULL;
        }
        return n;
    bad:
        free(keys.p);
        free(vals.p);
        return NULL;
    }
    default:
        fail(p, FR_EFORMAT, t->line, "unexpected %s in expression", jj_tok_name(t->type));
        return NULL;
    }
}

static jj_node *parse_unary(parser *p) {
    const jj_tok *t = cur(p);
    if ((t->type == TK_UNARY || t->type == TK_ADD) && t->n == 1 &&
        (t->s[0] == '-' || t->s[0] == '+')) {
        p->i++;
        if (enter(p, t->line)) return NULL;
        jj_node *arg = parse_unary(p);
        p->depth--;
        if (!arg) return NULL;
        jj_node *n = mk(p, N_UNARY, t->line, arg, NULL, NULL);
        if (n) n->op = t->s[0] == '-' ? OP_NEG : OP_POS;
        return n;
    }
    jj_node *prim = parse_primary(p);
    return prim ? parse_postfix(p, prim, true) : NULL;
}

static jj_node *parse_filter(parser *p) {
    jj_node *operand = parse_unary(p);
    while (operand && is(p, TK_PIPE)) {
        int line = cur(p)->line;
        p->i++;
        const jj_tok *name = cur(p);
        if (name->type != TK_IDENT) {
            fail(p, FR_EFORMAT, line, "expected a filter name after '|'");
            return NULL;
        }
        p->i++;
        jj_node *f = node(p, N_FILTER, name->line);
        if (!f) return NULL;
        f->a = operand;
        f->s = name->s;
        f->n = name->n;
        if (is(p, TK_LPAREN)) {
            f->flag = true;
            if (parse_args(p, false, &f->args, &f->nargs)) return NULL;
        }
        if (fix_height(p, f)) return NULL;
        operand = f;
    }
    return operand;
}

static bool starts_test_arg(const parser *p) {
    const jj_tok *t = cur(p);
    static const char *const kw[] = {"else", "or", "and", "if", "in", "not", "is", NULL};
    if (t->type == TK_IDENT) {
        for (const char *const *k = kw; *k; k++)
            if (tok_is_ident(t, *k)) return false;
        return true;
    }
    return t->type == TK_NUM || t->type == TK_STR || t->type == TK_LBRACKET || t->type == TK_LBRACE;
}

static jj_node *parse_test(parser *p) {
    jj_node *operand = parse_filter(p);
    while (operand && is_ident(p, "is")) {
        int line = cur(p)->line;
        p->i++;
        bool neg = is_ident(p, "not");
        if (neg) p->i++;
        const jj_tok *name = cur(p);
        if (name->type != TK_IDENT) {
            fail(p, FR_EFORMAT, line, "expected a test name after 'is'");
            return NULL;
        }
        p->i++;
        jj_node *t = node(p, N_TEST, line);
        if (!t) return NULL;
        t->a = operand;
        t->flag = neg;
        t->s = name->s;
        t->n = name->n;
        if (is(p, TK_LPAREN)) {
            if (parse_args(p, false, &t->args, &t->nargs)) return NULL;
        } else if (starts_test_arg(p)) { /* Jinja's `x is divisibleby 3` */
            jj_node *arg = parse_primary(p);
            if (!arg || !(arg = parse_postfix(p, arg, false))) return NULL;
            t->args = jj_arena_alloc(p->a, sizeof *t->args);
            if (!t->args) {
                oom(p);
                return NULL;
            }
            t->args[0] = arg;
            t->nargs = 1;
        }
        if (fix_height(p, t)) return NULL;
        operand = t;
    }
    return operand;
}

static jj_node *binop(parser *p, int line, int op, jj_node *l, jj_node *r) {
    if (!r) return NULL;
    jj_node *n = mk(p, N_BINOP, line, l, r, NULL);
    if (n) n->op = op;
    return n;
}

static jj_node *parse_pow(parser *p) {
    jj_node *l = parse_test(p);
    while (l && is(p, TK_POW)) {
        int line = cur(p)->line;
        p->i++;
        l = binop(p, line, OP_POW, l, parse_test(p));
    }
    return l;
}

static jj_node *parse_mul(parser *p) {
    jj_node *l = parse_pow(p);
    while (l && is(p, TK_MUL)) {
        const jj_tok *t = cur(p);
        p->i++;
        int op = t->n == 2        ? OP_FLOORDIV
                 : t->s[0] == '*' ? OP_MUL
                 : t->s[0] == '/' ? OP_DIV
                                  : OP_MOD;
        l = binop(p, t->line, op, l, parse_pow(p));
    }
    return l;
}

static jj_node *parse_add(parser *p) {
    jj_node *l = parse_mul(p);
    while (l && is(p, TK_ADD)) {
        const jj_tok *t = cur(p);
        p->i++;
        int op = t->s[0] == '+' ? OP_ADD : t->s[0] == '-' ? OP_SUB : OP_CONCAT;
        l = binop(p, t->line, op, l, parse_mul(p));
    }
    return l;
}

static jj_node *parse_cmp(parser *p) {
    jj_node *l = parse_add(p);
    while (l) {
        const jj_tok *t = cur(p);
        int op;
        if (tok_is_ident(t, "not") && tok_is_ident(peek(p, 1), "in")) {
            op = OP_NOTIN;
            p->i += 2;
        } else if (tok_is_ident(t, "in")) {
            op = OP_IN;
            p->i++;
        } else if (t->type == TK_CMP) {
            p->i++;
            char c0 = t->s[0];
            op = t->n == 2 ? (c0 == '<'   ? OP_LE
                              : c0 == '>' ? OP_GE
                              : c0 == '=' ? OP_EQ
                                          : OP_NE)
                           : (c0 == '<' ? OP_LT : OP_GT);
        } else
            break;
        l = binop(p, t->line, op, l, parse_add(p));
    }
    return l;
}

static jj_node *parse_not(parser *p) {
    if (is_ident(p, "not")) {
        int line = cur(p)->line;
        p->i++;
        if (enter(p, line)) return NULL;
        jj_node *arg = parse_not(p);
        p->depth--;
        return arg ? mk(p, N_NOT, line, arg, NULL, NULL) : NULL;
    }
    return parse_cmp(p);
}

static jj_node *parse_and(parser *p) {
    jj_node *l = parse_not(p);
    while (l && is_ident(p, "and")) {
        int line = cur(p)->line;
        p->i++;
        jj_node *r = parse_not(p);
        l = r ? mk(p, N_AND, line, l, r, NULL) : NULL;
    }
    return l;
}

static jj_node *parse_or(parser *p) {
    jj_node *l = parse_and(p);
    while (l && is_ident(p, "or")) {
        int line = cur(p)->line;
        p->i++;
        jj_node *r = parse_and(p);
        l = r ? mk(p, N_OR, line, l, r, NULL) : NULL;
    }
    return l;
}

static jj_node *parse_expr(parser *p) {
    if (enter(p, cur(p)->line)) return NULL;
    jj_node *a = parse_or(p);
    if (a && is_ident(p, "if")) {
        int line = cur(p)->line;
        p->i++;
        jj_node *test = parse_or(p);
        if (!test) {
            a = NULL;
            goto out;
        }
        if (is_ident(p, "else")) {
            p->i++;
            jj_node *f = parse_expr(p);
            a = f ? mk(p, N_TERNARY, line, test, a, f) : NULL;
        } else {
            a = mk(p, N_SELECT, line, a, test, NULL);
        }
    }
out:
    p->depth--;
    return a;
}

/* a or a, b, c (a tuple); primary: names only (for-loop targets) */
static jj_node *parse_seq(parser *p, bool primary) {
    int line = cur(p)->line;
    jj_node *first = primary ? parse_primary(p) : parse_expr(p);
    if (!first || !is(p, TK_COMMA)) return first;
    vec v = {0};
    if (vec_push(p, &v, first)) return NULL;
    while (is(p, TK_COMMA)) {
        p->i++;
        jj_node *e = primary ? parse_primary(p) : parse_expr(p);
        if (!e || vec_push(p, &v, e)) {
            free(v.p);
            return NULL;
        }
    }
    jj_node *t = node(p, N_TUPLE, line);
    if (!t || vec_done(p, &v, &t->args, &t->nargs) || fix_height(p, t)) {
        free(v.p);
        return NULL;
    }
    return t;
}

/* ---------------------------------------------------------------- statements */

/* Parses statements until {% one-of-names %} (not consumed). */
static int parse_body(parser *p, const char *const *names, const char *block, int line,
                      jj_node ***out, size_t *n) {
    vec v = {0};
    while (!is_statement(p, names)) {
        if (is(p, TK_EOF)) {
            free(v.p);
            return fail(p, FR_EFORMAT, line, "unterminated '%s' block (missing 'end%s')", block,
                        block);
        }
        jj_node *s = NULL;
        if (parse_any(p, &s)) {
            free(v.p);
            return p->rc;
        }
        if (s && vec_push(p, &v, s)) {
            free(v.p);
            return p->rc;
        }
    }
    return vec_done(p, &v, out, n);
}

static int end_tag(parser *p, const char *name) {
    if (expect(p, TK_OPEN_STMT, "") || expect_ident(p, name)) return p->rc;
    return expect(p, TK_CLOSE_STMT, name);
}

static int parse_if(parser *p, jj_node *root) {
    static const char *const stop[] = {"elif", "else", "endif", NULL};
    static const char *const end[] = {"endif", NULL};
    jj_node *n = root;
    for (;;) {
        if (!(n->a = parse_expr(p))) return p->rc;
        if (expect(p, TK_CLOSE_STMT, "after the if condition")) return p->rc;
        if (parse_body(p, stop, "if", root->line, &n->body, &n->nbody)) return p->rc;
        if (tok_is_ident(peek(p, 1), "elif")) {
            int line = cur(p)->line;
            p->i += 2;
            jj_node *e = node(p, N_IF, line);
            if (!e) return p->rc;
            n->alt = jj_arena_alloc(p->a, sizeof *n->alt);
            if (!n->alt) return oom(p);
            n->alt[0] = e;
            n->nalt = 1;
            n = e;
            continue;
        }
        if (tok_is_ident(peek(p, 1), "else")) {
            p->i += 2;
            if (expect(p, TK_CLOSE_STMT, "after else")) return p->rc;
            if (parse_body(p, end, "if", root->line, &n->alt, &n->nalt)) return p->rc;
        }
        break;
    }
    return end_tag(p, "endif");
}

static int parse_for(parser *p, jj_node *n) {
    static const char *const stop[] = {"endfor", "else", NULL};
    static const char *const end[] = {"endfor", NULL};
    jj_node *target = parse_seq(p, true);
    if (!target) return p->rc;
    if (target->kind == N_TUPLE) {
        for (size_t k = 0; k < target->nargs; k++)
            if (target->args[k]->kind != N_IDENT)
                return fail(p, FR_EFORMAT, n->line, "for-loop targets must be names");
    } else if (target->kind != N_IDENT) {
        return fail(p, FR_EFORMAT, n->line, "for-loop target must be a name or names");
    }
    if (!is_ident(p, "in"))
        return fail(p, FR_EFORMAT, n->line, "expected 'in' after the for-loop target");
    p->i++;
    jj_node *it = parse_expr(p);
    if (!it) return p->rc;
    n->a = target;
    if (it->kind == N_SELECT) {
        n->b = it->a;
        n->c = it->b;
    } else {
        n->b = it;
    }
    if (expect(p, TK_CLOSE_STMT, "after the for header")) return p->rc;
    if (parse_body(p, stop, "for", n->line, &n->body, &n->nbody)) return p->rc;
    if (tok_is_ident(peek(p, 1), "else")) {
        p->i += 2;
        if (expect(p, TK_CLOSE_STMT, "after else")) return p->rc;
        if (parse_body(p, end, "for", n->line, &n->alt, &n->nalt)) return p->rc;
    }
    return end_tag(p, "endfor");
}

static int parse_set(parser *p, jj_node *n) {
    static const char *const end[] = {"endset", NULL};
    jj_node *target = parse_seq(p, false);
    if (!target) return p->rc;
    if (target->kind == N_TUPLE) {
        for (size_t k = 0; k < target->nargs; k++)
            if (target->args[k]->kind != N_IDENT)
                return fail(p, FR_EFORMAT, n->line, "set can only unpack into names");
    } else if (!(target->kind == N_IDENT ||
                 (target->kind == N_MEMBER && !target->flag && target->b->kind == N_IDENT))) {
        return fail(p, FR_EFORMAT, n->line, "cannot assign to this expression");
    }
    n->a = target;
    if (is(p, TK_EQUALS)) {
        p->i++;
        if (!(n->b = parse_seq(p, false))) return p->rc;
        return expect(p, TK_CLOSE_STMT, "after set");
    }
    if (expect(p, TK_CLOSE_STMT, "after set (or '=')")) return p->rc;
    if (parse_body(p, end, "set", n->line, &n->body, &n->nbody)) return p->rc;
    return end_tag(p, "endset");
}

static int parse_stmt(parser *p, jj_node **out) {
    static const char *const end_macro[] = {"endmacro", NULL};
    static const char *const end_call[] = {"endcall", NULL};
    static const char *const end_filter[] = {"endfilter", NULL};
    int line = cur(p)->line;
    p->i++; /* {% */
    const jj_tok *t = cur(p);
    if (t->type != TK_IDENT)
        return fail(p, FR_EFORMAT, line, "expected a statement name after '{%%', found %s",
                    jj_tok_name(t->type));
    p->i++;
    jj_node *n;
#define NAME(x) tok_is_ident(t, x)
    if (NAME("if")) {
        if (!(n = node(p, N_IF, line)) || parse_if(p, n)) return p->rc;
    } else if (NAME("for")) {
        if (!(n = node(p, N_FOR, line)) || parse_for(p, n)) return p->rc;
    } else if (NAME("set")) {
        if (!(n = node(p, N_SET, line)) || parse_set(p, n)) return p->rc;
    } else if (NAME("macro")) {
        if (!(n = node(p, N_MACRO, line))) return p->rc;
        const jj_tok *name = cur(p);
        if (name->type != TK_IDENT) return fail(p, FR_EFORMAT, line, "expected a macro name");
        p->i++;
        n->s = name->s;
        n->n = name->n;
        if (parse_args(p, true, &n->args, &n->nargs) ||
            expect(p, TK_CLOSE_STMT, "after the macro header") ||
            parse_body(p, end_macro, "macro", line, &n->body, &n->nbody) || end_tag(p, "endmacro"))
            return p->rc;
    } else if (NAME("call")) {
        if (!(n = node(p, N_CALLBLOCK, line))) return p->rc;
        if (is(p, TK_LPAREN) && parse_args(p, true, &n->args, &n->nargs)) return p->rc;
        const jj_tok *name = cur(p);
        if (name->type != TK_IDENT)
            return fail(p, FR_EFORMAT, line, "expected a macro name after call");
        jj_node *callee = parse_primary(p);
        jj_node *c = callee ? node(p, N_CALL, line) : NULL;
        if (!c) return p->rc;
        c->a = callee;
        if (parse_args(p, false, &c->args, &c->nargs) || fix_height(p, c)) return p->rc;
        n->a = c;
        if (expect(p, TK_CLOSE_STMT, "after the call header") ||
            parse_body(p, end_call, "call", line, &n->body, &n->nbody) || end_tag(p, "endcall"))
            return p->rc;
    } else if (NAME("filter")) {
        if (!(n = node(p, N_FILTERBLOCK, line))) return p->rc;
        const jj_tok *name = cur(p);
        if (name->type != TK_IDENT) return fail(p, FR_EFORMAT, line, "expected a filter name");
        p->i++;
        jj_node *f = node(p, N_FILTER, name->line);
        if (!f) return p->rc;
        f->s = name->s;
        f->n = name->n;
        if (is(p, TK_LPAREN)) {
            f->flag = true;
            if (parse_args(p, false, &f->args, &f->nargs)) return p->rc;
        }
        n->a = f;
        if (expect(p, TK_CLOSE_STMT, "after the filter header") ||
            parse_body(p, end_filter, "filter", line, &n->body, &n->nbody) ||
            end_tag(p, "endfilter"))
            return p->rc;
    } else if (NAME("break") || NAME("continue")) {
        if (!(n = node(p, NAME("break") ? N_BREAK : N_CONTINUE, line))) return p->rc;
        if (expect(p, TK_CLOSE_STMT, "")) return p->rc;
    } else if (NAME("do")) {
        if (!(n = node(p, N_DO, line))) return p->rc;
        if (!(n->a = parse_expr(p)) || expect(p, TK_CLOSE_STMT, "after do")) return p->rc;
    } else if (NAME("elif") || NAME("else") || NAME("endif") || NAME("endfor") || NAME("endset") ||
               NAME("endmacro") || NAME("endcall") || NAME("endfilter") || NAME("endraw")) {
        return fail(p, FR_EFORMAT, line, "unexpected '%.*s' (no open block it belongs to)",
                    (int)t->n, t->s);
    } else {
        return fail(p, FR_EUNSUP, line, "unsupported statement '%.*s'",
                    (int)(t->n > 40 ? 40 : t->n), t->s);
    }
#undef NAME
    *out = n;
    return 0;
}

static int parse_any(parser *p, jj_node **out) {
    const jj_tok *t = cur(p);
    *out = NULL;
    switch (t->type) {
    case TK_COMMENT:
        p->i++;
        return 0;
    case TK_TEXT:
    case TK_RAW: {
        jj_node *n = node(p, N_TEXT, t->line);
        if (!n) return p->rc;
        n->s = t->s;
        n->n = t->n;
        p->i++;
        *out = n;
        return 0;
    }
    case TK_OPEN_STMT: {
        if (enter(p, t->line)) return p->rc;
        int rc = parse_stmt(p, out);
        p->depth--;
        return rc;
    }
    case TK_OPEN_EXPR: {
        p->i++;
        jj_node *e = parse_expr(p);
        if (!e || expect(p, TK_CLOSE_EXPR, "to close '{{'")) return p->rc;
        *out = e;
        return 0;
    }
    default:
        return fail(p, FR_EFORMAT, t->line, "unexpected %s", jj_tok_name(t->type));
    }
}

int jj_parse(jinja_template *t, const jj_tok *toks, size_t ntoks, fr_err *err) {
    parser p = {.t = toks, .nt = ntoks, .a = &t->arena, .err = err};
    vec v = {0};
    while (!is(&p, TK_EOF)) {
        jj_node *s = NULL;
        if (parse_any(&p, &s) || (s && vec_push(&p, &v, s))) {
            free(v.p);
            return p.rc ? p.rc : FR_EFORMAT;
        }
    }
    return vec_done(&p, &v, &t->body, &t->nbody);
}
