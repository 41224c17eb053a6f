/* jinja_int.h: internals shared by the src/jinja files: text helpers, tokens, the AST,
 * runtime values (refcounted, every heap object registered with its render so that
 * cycles and error paths are swept at the end), scopes and the evaluator's entry points. */
#ifndef FR_JINJA_INT_H
#define FR_JINJA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jinja/jinja.h"

#define JJ_MAX_PARSE_DEPTH 256   /* nested statements / brackets / unary operators */
#define JJ_MAX_TREE_HEIGHT 512   /* height of one expression tree (a+b+c+... chains) */
#define JJ_MAX_VALUE_DEPTH 2100  /* nesting of lists/dicts printed or converted */
#define JJ_MAX_RANGE 10000000    /* elements of one range() */
#define JJ_MAX_WORK (4ull << 30) /* bytes of strings one render may create in total */

/* ---------------------------------------------------------------- text (jinja_text.c) */

/* Growable byte buffer, always NUL-terminated when p != NULL. limit = 0: unlimited. */
typedef struct jj_buf {
    char *p;
    size_t n, cap, limit;
} jj_buf;

/* 0 ok; -1 when the buffer would exceed its limit or malloc fails (nothing appended). */
int jj_buf_put(jj_buf *b, const char *s, size_t n);
int jj_buf_putc(jj_buf *b, char c);
int jj_buf_puts(jj_buf *b, const char *s);
void jj_buf_free(jj_buf *b);

/* Decodes one UTF-8 sequence at s (n > 0 bytes); an invalid byte decodes as itself
 * (cp = the byte, length 1). Returns the length. */
size_t jj_utf8_next(const char *s, size_t n, uint32_t *cp);
/* Start of the character that ends at s[n-1] (n > 0). */
size_t jj_utf8_prev(const char *s, size_t n);
size_t jj_utf8_put(char *dst, uint32_t cp); /* 1..4 bytes */
/* JavaScript's whitespace (\s, String.prototype.trim). */
bool jj_is_space(uint32_t cp);
size_t jj_space_prefix(const char *s, size_t n); /* bytes of leading whitespace */
size_t jj_space_suffix(const char *s, size_t n); /* bytes of trailing whitespace */
size_t jj_utf16_len(const char *s, size_t n);    /* JavaScript's string length */
/* Unicode case mapping like JavaScript's toUpperCase/toLowerCase (glibc's C.UTF-8 tables,
 * plus ß -> SS, İ -> i̇ and the final sigma); ASCII only if that locale is missing. */
uint32_t jj_case_one(uint32_t cp, bool upper);
int jj_case_convert(jj_buf *b, const char *s, size_t n, bool upper);
size_t jj_cp_count(const char *s, size_t n); /* code points (invalid bytes count 1) */

/* Number formatting as JavaScript's String(number) (shortest round trip). buf >= 32. */
void jj_fmt_js_number(char *buf, double v);
/* JSON.stringify of a string (ensure_ascii escapes U+007F and above as \uXXXX). */
int jj_json_quote(jj_buf *b, const char *s, size_t n, bool ensure_ascii);
/* JavaScript parseInt(s, 10) / parseFloat(s): false when the result is NaN. */
bool jj_js_parse_int(const char *s, size_t n, double *out);
bool jj_js_parse_float(const char *s, size_t n, double *out);
/* JavaScript Number(s) (used by loose ==): NaN when not a number. */
double jj_js_to_number(const char *s, size_t n);

/* ----------------------------------------------------------- arena (template lifetime) */

typedef struct jj_arena_blk jj_arena_blk;
typedef struct jj_arena {
    jj_arena_blk *head;
    size_t used, cap;
} jj_arena;

void *jj_arena_alloc(jj_arena *a, size_t n); /* zeroed, 16-aligned; NULL on OOM */
char *jj_arena_dup(jj_arena *a, const char *s, size_t n);
void jj_arena_free(jj_arena *a);

/* --------------------------------------------------------------- tokens (jinja_lex.c) */

typedef enum {
    TK_EOF,
    TK_TEXT,
    TK_NUM,
    TK_STR,
    TK_IDENT,
    TK_EQUALS,
    TK_LPAREN,
    TK_RPAREN,
    TK_OPEN_STMT,
    TK_CLOSE_STMT,
    TK_OPEN_EXPR,
    TK_CLOSE_EXPR,
    TK_LBRACKET,
    TK_RBRACKET,
    TK_LBRACE,
    TK_RBRACE,
    TK_COMMA,
    TK_DOT,
    TK_COLON,
    TK_PIPE,
    TK_ADD,   /* + - ~ (binary) */
    TK_MUL,   /* * / // % */
    TK_POW,   /* ** */
    TK_CMP,   /* < > <= >= == != */
    TK_UNARY, /* + - before an operand */
    TK_COMMENT,
    TK_RAW, /* the body of {% raw %} ... {% endraw %} (text) */
} jj_tok_type;

typedef struct jj_tok {
    jj_tok_type type;
    int line;
    const char *s; /* TEXT/RAW/STR: the (unescaped) text; others: the source spelling */
    size_t n;
} jj_tok;

/* Tokenizes like @huggingface/jinja with trim_blocks and lstrip_blocks (its preprocessing
 * included). Tokens and their texts live in a; *toks ends with a TK_EOF token. */
int jj_lex(jj_tok **toks, size_t *ntoks, jj_arena *a, const char *src, size_t len, fr_err *err);
const char *jj_tok_name(jj_tok_type t);

/* ------------------------------------------------------------------ AST (jinja_parse.c) */

typedef enum {
    /* statements */
    N_TEXT,
    N_IF,
    N_FOR,
    N_SET,
    N_MACRO,
    N_CALLBLOCK,
    N_FILTERBLOCK,
    N_BREAK,
    N_CONTINUE,
    N_DO,
    /* expressions */
    N_INT,
    N_FLOAT,
    N_STR,
    N_IDENT,
    N_LIST,
    N_TUPLE,
    N_DICT,
    N_BINOP,
    N_UNARY,
    N_NOT,
    N_AND,
    N_OR,
    N_TERNARY,
    N_SELECT,
    N_MEMBER,
    N_SLICE,
    N_CALL,
    N_KWARG,
    N_SPREAD,
    N_KWSPREAD,
    N_FILTER,
    N_TEST,
} jj_node_kind;

typedef enum {
    OP_ADD,
    OP_SUB,
    OP_CONCAT,
    OP_MUL,
    OP_DIV,
    OP_FLOORDIV,
    OP_MOD,
    OP_POW,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_GT,
    OP_LE,
    OP_GE,
    OP_IN,
    OP_NOTIN,
    OP_NEG,
    OP_POS,
} jj_op;

typedef struct jj_node jj_node;
struct jj_node {
    jj_node_kind kind;
    int op; /* jj_op for N_BINOP / N_UNARY */
    int line;
    int height;    /* expression tree height */
    bool flag;     /* N_MEMBER: computed ([...]); N_TEST: negated; N_FILTER: has (args) */
    const char *s; /* N_TEXT/N_STR: text; N_IDENT/N_KWARG/N_FILTER/N_TEST/N_MACRO: name */
    size_t n;
    int64_t i; /* N_INT */
    double f;  /* N_FLOAT */
    jj_node *a, *b, *c;
    /* N_IF: a=test, body, alt; N_FOR: a=target, b=iterable, c=filter test, body, alt;
       N_SET: a=target, b=value|NULL, body; N_MACRO/N_CALLBLOCK: args=params, body
       (N_CALLBLOCK: a=the N_CALL); N_FILTERBLOCK: a=N_FILTER (a=NULL operand), body;
       N_LIST/N_TUPLE: args=items; N_DICT: args=keys, alt=values; N_CALL: a=callee, args;
       N_FILTER/N_TEST: a=operand, args; N_MEMBER: a=object, b=property;
       N_SLICE: a,b,c=start,stop,step (each may be NULL); N_TERNARY: a=cond, b, c;
       N_SELECT: a=value, b=cond; N_KWARG: a=value; N_SPREAD/N_KWSPREAD: a */
    jj_node **args, **body, **alt;
    size_t nargs, nbody, nalt;
};

struct jinja_template {
    jj_arena arena;
    jj_node **body;
    size_t nbody;
};

int jj_parse(jinja_template *t, const jj_tok *toks, size_t ntoks, fr_err *err);

/* ------------------------------------------------------------- values (jinja_value.c) */

typedef enum {
    JV_UNDEF,
    JV_NONE,
    JV_BOOL,
    JV_INT,
    JV_FLOAT,
    JV_STR,
    JV_LIST,
    JV_DICT,
    JV_NS,
    JV_FUNC
} jv_type;

typedef enum { JO_STR, JO_LIST, JO_DICT, JO_FUNC, JO_SCOPE } jo_kind;

/* Header of every heap object; all live objects of a render are on its list. */
typedef struct jj_obj {
    struct jj_obj *prev, *next;
    uint32_t rc;
    uint8_t kind;
    size_t bytes; /* accounted against max_memory */
} jj_obj;

typedef struct jj_str {
    jj_obj h;
    size_t len;
    char data[]; /* len bytes + NUL */
} jj_str;

typedef struct jv {
    uint8_t t;   /* jv_type */
    uint8_t big; /* JV_FLOAT holding an integer too large for int64 (prints as one) */
    union {
        bool b;
        int64_t i;
        double f;
        jj_str *s;
        struct jj_list *l;
        struct jj_dict *d; /* JV_DICT and JV_NS */
        struct jj_func *fn;
        jj_obj *o;
    } u;
} jv;

typedef struct jj_list {
    jj_obj h;
    size_t n, cap;
    jv *items;
} jj_list;

typedef struct jj_dict { /* insertion-ordered */
    jj_obj h;
    size_t n, cap;
    jj_str **keys; /* the key's text (for a number key: its decimal form) */
    jv *vals;
    uint8_t *kt; /* per key: JV_STR or JV_INT (a {512: ...} literal); NULL: all strings */
} jj_dict;

typedef struct jj_scope jj_scope;

typedef enum { FK_GLOBAL, FK_METHOD, FK_MACRO, FK_CALLER } jj_fkind;

typedef struct jj_func {
    jj_obj h;
    uint8_t fkind;
    int id;              /* FK_GLOBAL / FK_METHOD: which */
    jv self;             /* FK_METHOD: the bound object */
    const jj_node *node; /* FK_MACRO / FK_CALLER */
    jj_scope *scope;     /* FK_CALLER: the scope of the call block */
} jj_func;

/* Variables of one scope; names are borrowed from the template or the vars JSON. */
struct jj_scope {
    jj_obj h;
    jj_scope *parent; /* holds a reference */
    size_t n, cap;
    const char **names;
    size_t *lens;
    jv *vals;
};

/* The state of one render. */
typedef struct jj_rt {
    fr_err *err;
    int status; /* first error code (0 = none) */
    jinja_limits lim;
    uint64_t steps;
    int depth;
    size_t mem;
    jj_obj live;   /* sentinel of the list of live objects */
    uint64_t work; /* bytes of strings created (bounded by JJ_MAX_WORK) */
    jj_str *loop_keys[9];
} jj_rt;

#define JV_UNDEF_V ((jv){.t = JV_UNDEF})
#define JV_NONE_V ((jv){.t = JV_NONE})
static inline jv jv_bool(bool b) {
    jv v = {.t = JV_BOOL};
    v.u.b = b;
    return v;
}
static inline jv jv_int(int64_t i) {
    jv v = {.t = JV_INT};
    v.u.i = i;
    return v;
}
static inline jv jv_float(double f) {
    jv v = {.t = JV_FLOAT};
    v.u.f = f;
    return v;
}
static inline jv jv_bigint(double f) {
    jv v = {.t = JV_FLOAT, .big = 1};
    v.u.f = f;
    return v;
}
static inline bool jv_is_obj(jv v) {
    return v.t >= JV_STR;
}
static inline bool jv_is_num(jv v) {
    return v.t == JV_INT || v.t == JV_FLOAT;
}
static inline double jv_num(jv v) {
    return v.t == JV_INT ? (double)v.u.i : v.t == JV_FLOAT ? v.u.f : v.u.b;
}

/* Errors: record the first one (formatted with its line) and return its code. */
int jj_fail(jj_rt *rt, int code, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void jj_rt_init(jj_rt *rt, const jinja_limits *lim, fr_err *err);
void jj_rt_sweep(jj_rt *rt); /* frees every object still live */

void jv_incref(jv v);
void jv_decref(jj_rt *rt, jv v);
static inline jv jv_ref(jv v) {
    jv_incref(v);
    return v;
}

/* Constructors return 0 or a negative error (recorded in rt). */
int jv_str_new(jj_rt *rt, const char *s, size_t n, jv *out);
int jv_str_from_buf(jj_rt *rt, jj_buf *b, jv *out); /* takes the buffer's bytes */
int jv_list_new(jj_rt *rt, size_t cap, jv *out);
int jv_list_push(jj_rt *rt, jj_list *l, jv item); /* steals item (also on failure) */
int jv_dict_new(jj_rt *rt, bool ns, jv *out);
/* Sets key (borrowed, copied into a string if needed) to val (stolen). */
int jv_dict_set(jj_rt *rt, jj_dict *d, const char *key, size_t klen, jv val);
int jv_dict_set_str(jj_rt *rt, jj_dict *d, jj_str *key, jv val); /* key borrowed */
jv *jv_dict_get(const jj_dict *d, const char *key, size_t klen); /* string keys */
/* Keys of any scalar type (strings, integers; integral floats and bools count as integers). */
int jv_dict_set_key(jj_rt *rt, jj_dict *d, jv key, jv val, int line); /* key borrowed */
jv *jv_dict_get_key(const jj_dict *d, jv key);
jv jv_dict_key(const jj_dict *d, size_t i); /* key i as a new reference */
int jv_dict_copy_entry(jj_rt *rt, jj_dict *dst, const jj_dict *src, size_t i);
bool jv_dict_del(jj_rt *rt, jj_dict *d, jv key);
int jv_func_new(jj_rt *rt, jj_fkind kind, int id, jv *out);
void *jj_obj_alloc(jj_rt *rt, size_t bytes, jo_kind kind); /* NULL: error recorded */

/* Scopes */
int jj_scope_new(jj_rt *rt, jj_scope *parent, jj_scope **out);
int jj_scope_set(jj_rt *rt, jj_scope *sc, const char *name, size_t n, jv val); /* steals */
jv jj_scope_get(const jj_scope *sc, const char *name, size_t n); /* borrowed or UNDEF */
void jj_scope_release(jj_rt *rt, jj_scope *sc);

/* jinja_print.c: meaning and text forms of values */
const char *jv_type_name(jv v); /* "string", "list", ... for messages */
bool jv_truthy(jv v);
int jv_loose_eq(jj_rt *rt, jv a, jv b, int line, bool *res); /* JavaScript == (==, !=) */
bool jv_strict_eq(jv a, jv b);                               /* === (in, equalto, unique) */

/* Rendering as {{ v }} does (RuntimeValue.toString). */
int jv_to_display(jj_rt *rt, jj_buf *b, jv v, int line);
/* Python's repr (str of a dict, for the string filter where @huggingface/jinja throws). */
int jv_to_pyrepr(jj_rt *rt, jj_buf *b, jv v, int line);
/* String(v.value) as @huggingface/jinja's ~, + and join use it. */
int jv_to_raw(jj_rt *rt, jj_buf *b, jv v, int line);

typedef struct jj_json_opts {
    int indent; /* 0: none */
    bool ensure_ascii, sort_keys;
    const char *item_sep, *key_sep; /* NULL: defaults */
    bool undef_null;                /* undefined -> null (tojson) or undefined (display) */
} jj_json_opts;
int jv_to_json(jj_rt *rt, jj_buf *b, jv v, const jj_json_opts *o, int line);
int jv_from_json(jj_rt *rt, const json_t *j, jv *out);

/* jinja_value.c: total order used by sort/dictsort/min/max: <0, 0, >0; error for mixed types. */
int jv_compare(jj_rt *rt, jv a, jv b, bool case_sensitive, int line, int *res);
/* Stable sort of items[0..n) by jv_compare (keyed by keys[] when non-NULL). */
int jj_sort(jj_rt *rt, jv *items, jv *keys, size_t n, bool case_sensitive, bool reverse, int line);

/* -------------------------------------- eval (jinja_eval.c) and statements (jinja_exec.c) */

enum { JJ_BREAK = 1, JJ_CONTINUE = 2 };

/* Evaluated call arguments: positional, then keyword (names borrowed). */
typedef struct jj_args {
    jv *pos;
    size_t npos;
    const char **kw;
    size_t *kwlen;
    jv *kwv;
    size_t nkw;
    jv *held; /* values kept alive for the names (a **dict's keys) */
    size_t nheld;
} jj_args;

int jj_eval(jj_rt *rt, const jj_node *n, jj_scope *sc, jv *out);
int jj_exec(jj_rt *rt, jj_node *const *body, size_t n, jj_scope *sc, jj_buf *out); /* exec.c */
int jj_eval_args(jj_rt *rt, jj_node *const *nodes, size_t n, jj_scope *sc, jj_args *a);
void jj_args_free(jj_rt *rt, jj_args *a);
/* Keyword argument by name, else positional i (i < 0: keyword only); NULL if absent. */
jv *jj_arg(jj_args *a, int i, const char *kw);
int jj_step(jj_rt *rt, int line); /* counts one step against max_steps */
int jj_new_buf(jj_rt *rt, jj_buf *b);
/* Calls a callable value (macro, caller, builtin, method). */
int jj_call_value(jj_rt *rt, jv fn, jj_args *args, jj_scope *sc, int line, jv *out);
/* Attribute/item access as obj.name / obj[key]. */
int jj_getattr(jj_rt *rt, jv obj, const char *name, size_t n, int line, jv *out);

/* ---------------------------------------------------- filters/tests (jinja_filters.c) */

int jj_filter(jj_rt *rt, const char *name, size_t n, jv operand, jj_args *args, jj_scope *sc,
              int line, jv *out);
int jj_test(jj_rt *rt, const char *name, size_t n, jv operand, jj_args *args, int line, bool *res);
/* Value at a dotted attribute path ("a.b.0"), UNDEF when missing. Borrowed. */
jv jj_attr_path(jv item, const char *path, size_t n);

/* ------------------------------------------------ methods/globals (jinja_methods.c) */

/* Method id of name on self's type, or -1. Properties (string/list length) return a
 * value directly through jj_getattr instead. */
int jj_method_find(jv self, const char *name, size_t n);
int jj_method_call(jj_rt *rt, int id, jv self, jj_args *args, int line, jv *out);
/* Installs the globals (namespace, range, raise_exception, strftime_now, dict, true, ...). */
int jj_globals_install(jj_rt *rt, jj_scope *sc);
int jj_global_call(jj_rt *rt, int id, jj_args *args, int line, jv *out);
const char *jj_global_name(int id);
const char *jj_method_name(int id);

/* String operations shared by filters and methods (results are new strings). */
int jj_str_strip(jj_rt *rt, jv s, jv *chars, bool left, bool right, jv *out);
int jj_str_replace(jj_rt *rt, jv s, jv old, jv new_, int64_t count, jv *out);
int jj_str_case(jj_rt *rt, jv s, int mode /* 0 lower 1 upper 2 title 3 capitalize */, jv *out);

#endif
