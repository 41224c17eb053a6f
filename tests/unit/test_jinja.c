/* test_jinja.c: the Jinja interpreter, one small template per feature with the output
 * derived by hand from Jinja's semantics (as @huggingface/jinja renders them: booleans print
 * as true/false, none prints nothing, lists and dicts print as JSON), error cases (unknown
 * filter, unterminated block, 10000-deep nesting, unbounded loops/recursion/output), and the
 * shared templates parsing. */
#include "t.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jinja/jinja.h"

static json_t *vars_of(const char *json) {
    if (!json) return NULL;
    json_error_t je;
    json_t *v = json_loads(json, 0, &je);
    if (!v) fprintf(stderr, "bad test JSON: %s\n", je.text);
    return v;
}

/* Renders tmpl with vars (JSON text or NULL) under lim (NULL: defaults); returns the code. */
static int render_lim(const char *tmpl, size_t len, const char *vars, const jinja_limits *lim,
                      char **out, fr_err *err) {
    json_t *v = vars_of(vars);
    jinja_template *t;
    *out = NULL;
    int rc = jinja_template_parse(&t, tmpl, len, err);
    if (!rc) {
        size_t n;
        rc = jinja_template_render(out, &n, t, v, lim, err);
        if (!rc && strlen(*out) != n) rc = -100;
        jinja_template_free(t);
    }
    json_decref(v);
    return rc;
}

#define EXPECT_RENDER(tmpl, vars, want)                                                            \
    do {                                                                                           \
        char *out_;                                                                                \
        fr_err e_ = {{0}};                                                                         \
        int rc_ = render_lim(tmpl, strlen(tmpl), vars, NULL, &out_, &e_);                          \
        T_EXPECT(rc_ == 0, "%s: failed (%d): %s", tmpl, rc_, e_.msg);                              \
        if (rc_ == 0)                                                                              \
            T_EXPECT(!strcmp(out_, want), "%s:\n  got  [%s]\n  want [%s]", tmpl, out_, want);      \
        free(out_);                                                                                \
    } while (0)

#define EXPECT_ERROR(tmpl, vars, code, substr)                                                     \
    do {                                                                                           \
        char *out_;                                                                                \
        fr_err e_ = {{0}};                                                                         \
        int rc_ = render_lim(tmpl, strlen(tmpl), vars, NULL, &out_, &e_);                          \
        T_EXPECT(rc_ == (code), "%.60s: code %d, want %d (%s)", tmpl, rc_, code, e_.msg);          \
        T_EXPECT(strstr(e_.msg, substr), "%.60s: message '%s' lacks '%s'", tmpl, e_.msg, substr);  \
        free(out_);                                                                                \
    } while (0)

static void text_and_whitespace(void) {
    EXPECT_RENDER("hello", NULL, "hello");
    EXPECT_RENDER("hi\n", NULL, "hi"); /* one trailing newline dropped */
    EXPECT_RENDER("a{# note #}b", NULL, "ab");
    EXPECT_RENDER("a  {{- 'b' -}}  c", NULL, "abc");
    EXPECT_RENDER("a \n{%- if true %} b {% endif -%}\n c", NULL, "a b c");
    EXPECT_RENDER("{% if true %}\nx\n{% endif %}\n", NULL, "x\n");   /* trim_blocks */
    EXPECT_RENDER("a\n    {% if true %}b{% endif %}", NULL, "a\nb"); /* lstrip_blocks */
    EXPECT_RENDER("a\n  {{ 'b' }}", NULL, "a\n  b");                 /* not for expressions */
    EXPECT_RENDER("{% raw %}{{ x }}{% if %}{% endraw %}", NULL, "{{ x }}{% if %}");
    EXPECT_RENDER("x{% generation %}y{% endgeneration %}z", NULL, "xyz");
    /* a generation tag's '-' strips only whitespace the previous tag did not already take */
    EXPECT_RENDER("b c{% endgeneration %} \t\n{%- generation -%}a", NULL, "b c \t\na");
    EXPECT_RENDER("a \n{%- generation -%} \n b", NULL, "ab");
    EXPECT_RENDER("", NULL, "");
}

static void literals_and_arithmetic(void) {
    EXPECT_RENDER("{{ 1 + 2 }}|{{ 7 - 10 }}|{{ 6 * 7 }}|{{ 2 ** 10 }}", NULL, "3|-3|42|1024");
    EXPECT_RENDER("{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ 7 / 2 }}|{{ 10 / 2 }}", NULL,
                  "3|-4|1|3.5|5.0");
    EXPECT_RENDER("{{ 1.0 }}|{{ 0.1 + 0.2 }}|{{ 2.5 * 2 }}|{{ -3 }}", NULL,
                  "1.0|0.30000000000000004|5.0|-3");
    EXPECT_RENDER("{{ 'a' ~ 1 ~ 'b' }}|{{ 'n' + 1 }}|{{ 'ab' * 3 }}", NULL, "a1b|n1|ababab");
    EXPECT_RENDER("{{ 'a' 'b' }}|{{ \"q\\\"\\n\" }}|{{ '\\u00e9' }}", NULL, "ab|q\"\n|\xc3\xa9");
    EXPECT_RENDER("{{ [1, 'x', none, true] }}|{{ {'k': [1]} }}", NULL,
                  "[1, \"x\", null, true]|{\"k\": [1]}");
    EXPECT_RENDER("[{{ none }}][{{ undefined_name }}]{{ true }}{{ false }}", NULL, "[][]truefalse");
}

static void logic_and_comparisons(void) {
    EXPECT_RENDER("{{ 1 < 2 and 2 <= 2 and 3 > 1 and not false }}", NULL, "true");
    EXPECT_RENDER("{{ 'at' in 'cat' }}{{ 'x' not in 'cat' }}{{ 2 in [1, 2] }}{{ 'a' in {'a': 1} }}",
                  NULL, "truetruetruetrue");
    EXPECT_RENDER("{{ 1 == 1.0 }}{{ 'a' != 'b' }}{{ none == none }}{{ [] == [] }}", NULL,
                  "truetruetruefalse");
    EXPECT_RENDER("{{ 0 or 'x' }}|{{ 'y' and 0 }}|{{ none or [] or 'z' }}", NULL, "x|0|z");
    EXPECT_RENDER(
        "{{ 'y' if x else 'n' }}{{ 'y' if 1 }}{{ 'a' if false else 'b' if true else 'c' }}",
        "{\"x\": 0}", "nyb");
    EXPECT_RENDER("{{ x is defined }}{{ y is undefined }}{{ none is none }}{{ 'a' is string }}"
                  "{{ 3 is odd }}{{ {} is mapping }}{{ [1] is iterable }}{{ 1.5 is number }}"
                  "{{ x is not none }}{{ 4 is divisibleby 2 }}{{ 'ab' is lower }}",
                  "{\"x\": 1}", "truetruetruetruetruetruetruetruetruetruetrue");
}

static void subscripts_and_slices(void) {
    EXPECT_RENDER("{{ [1, 2, 3][-1] }}{{ 'hello'[1] }}{{ x.a.b }}{{ x['a']['b'] }}{{ x.l.0 }}",
                  "{\"x\": {\"a\": {\"b\": 5}, \"l\": [7]}}", "3e557");
    EXPECT_RENDER("{{ 'hello'[1:3] }}|{{ 'hello'[::-1] }}|{{ [1, 2, 3, 4][-2:] }}|{{ [1, 2, 3, "
                  "4][::2] }}|{{ 'ab'[5:] }}",
                  NULL, "el|olleh|[3, 4]|[1, 3]|");
    EXPECT_RENDER("{{ '日本語'[1] }}{{ '日本語'[-1:] }}{{ '日本語' | length }}{{ '😀' | length }}",
                  NULL,
                  "\xe6\x9c\xac\xe8\xaa\x9e"
                  "32");
    EXPECT_RENDER("[{{ x.missing }}][{{ x.missing.deeper }}][{{ [1][5] }}]", "{\"x\": {}}",
                  "[][][]");
}

static void string_methods(void) {
    EXPECT_RENDER("{{ ' a b '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\\n\\nx\\n'.lstrip('\\n') "
                  "}}|{{ 'ab  '.rstrip() }}",
                  NULL, "a b|hi|x\n|ab");
    EXPECT_RENDER("{{ 'abc'.upper() }}{{ 'ABC'.lower() }}{{ 'hello world'.title() }}{{ "
                  "'word'.capitalize() }}",
                  NULL, "ABCabcHello WorldWord");
    EXPECT_RENDER("{{ 'a,b,,c'.split(',') }}|{{ '  a  b '.split() }}|{{ 'x-y-z'.split('-', 1) "
                  "}}|{{ 'x-y-z'.rsplit('-', 1) }}",
                  NULL,
                  "[\"a\", \"b\", \"\", \"c\"]|[\"a\", \"b\"]|[\"x\", \"y-z\"]|[\"x-y\", \"z\"]");
    EXPECT_RENDER("{{ 'aXa'.replace('a', 'b') }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ "
                  "'ab'.replace('', '-') }}",
                  NULL, "bXb|bba|-a-b-");
    EXPECT_RENDER(
        "{{ 'hello'.startswith('he') }}{{ 'hello'.endswith(['x', 'lo']) }}{{ 'abcb'.find('b') }}"
        "{{ 'abcb'.rfind('b') }}{{ 'abcb'.count('b') }}",
        NULL, "truetrue132");
    EXPECT_RENDER("{{ '{} and {name}'.format(1, name='x') }}|{{ ', '.join(['a', 'b']) }}", NULL,
                  "1 and x|a, b");
    EXPECT_RENDER("{{ 'abc'.length }}{{ [1, 2].length }}", NULL, "32");
}

static void dicts_and_lists(void) {
    const char *d = "{\"d\": {\"b\": 2, \"a\": 1}}";
    EXPECT_RENDER("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", d, "b=2;a=1;");
    EXPECT_RENDER("{% for k in d %}{{ k }}{% endfor %}|{{ d.keys() }}|{{ d.values() }}", d,
                  "ba|[\"b\", \"a\"]|[2, 1]");
    EXPECT_RENDER("{{ d.get('a') }}|{{ d.get('z', 'dflt') }}|{{ d.get('z') is none }}", d,
                  "1|dflt|true");
    EXPECT_RENDER("{% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %}", d, "a1b2");
    EXPECT_RENDER("{% set ns = namespace(l=[]) %}{% set _ = ns.l.append(1) %}{% do ns.l.append(2) "
                  "%}{{ ns.l }}"
                  "{{ ns.l.pop(0) }}{{ ns.l }}",
                  NULL, "[1, 2]1[2]");
    EXPECT_RENDER("{{ [1, 2] + [3] }}|{{ {'a': 1, 'b': {'c': none}} | tojson }}", NULL,
                  "[1, 2, 3]|{\"a\": 1, \"b\": {\"c\": null}}");
    /* number keys, as in ByteDance Seed-OSS's {0: 0, 512: 128, ...} table (Python semantics) */
    EXPECT_RENDER(
        "{% set t = {512: 128, 0: 0, 'k': 1} %}{% for k, v in t | dictsort(by='value') %}{{ k + 1 "
        "}},{% endfor %}"
        "{{ t[512] }}|{{ t.get(0) }}|{{ 512 in t }}{{ '512' in t }}|{{ t | tojson }}|{{ t | string "
        "}}",
        NULL,
        "1,k1,513,128|0|truefalse|{\"512\": 128, \"0\": 0, \"k\": 1}|{512: 128, 0: 0, 'k': 1}");
}

static void loops(void) {
    EXPECT_RENDER("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first "
                  "}}{{ loop.last }}"
                  "{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }};{% endfor %}",
                  NULL, "10truefalse332;21falsefalse321;32falsetrue310;");
    EXPECT_RENDER(
        "{% for x in [1, 2, 3] %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }} {% endfor %}",
        NULL, "<1>2 1<2>3 2<3> ");
    EXPECT_RENDER("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}{{ loop.index }}{% endfor %}",
                  NULL, "2142");
    EXPECT_RENDER(
        "{% for x in [] %}a{% else %}empty{% endfor %}{% for x in [1] %}a{% else %}b{% endfor %}",
        NULL, "emptya");
    EXPECT_RENDER("{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}{{ x }}"
                  "{% if x == 3 %}{% break %}{% endif %}{% endfor %}",
                  NULL, "13");
    EXPECT_RENDER("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }},{% endfor %}", NULL, "3,7,");
    EXPECT_RENDER("{% for i in range(3) %}{% for j in range(i) %}{{ loop.index }}{% endfor %}{{ "
                  "loop.index }}|{% endfor %}",
                  NULL, "1|12|123|");
    EXPECT_RENDER("{{ range(3) | list }}{{ range(1, 10, 3) | list }}{{ range(5, 0, -2) | list }}",
                  NULL, "[0, 1, 2][1, 4, 7][5, 3, 1]");
    EXPECT_RENDER("{% for c in 'ab' %}{{ c }}.{% endfor %}{% for x in nothing %}x{% endfor %}",
                  NULL, "a.b.");
}

static void assignment_and_scope(void) {
    EXPECT_RENDER("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}",
                  NULL, "21");
    EXPECT_RENDER("{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}", NULL, "2");
    EXPECT_RENDER("{% set ns = namespace(c=0) %}{% for i in range(4) %}{% set ns.c = ns.c + i %}{% "
                  "endfor %}{{ ns.c }}",
                  NULL, "6");
    EXPECT_RENDER("{% set s %}a{{ 1 }}b{% endset %}[{{ s }}]", NULL, "[a1b]");
    EXPECT_RENDER("{% set a, b = 1, 2 %}{{ a }}{{ b }}", NULL, "12");
    EXPECT_RENDER("{% set messages = [] %}{{ messages | length }}", "{\"messages\": [1, 2]}", "0");
}

static void macros_and_blocks(void) {
    EXPECT_RENDER("{% macro f(x, y='d') %}{{ x }}-{{ y }}{% endmacro %}{{ f(1) }},{{ f(1, y=2) "
                  "}},{{ f(y=3, x=4) }}",
                  NULL, "1-d,1-2,4-3");
    EXPECT_RENDER("{% macro f() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, a=3) }}", NULL,
                  "[1, 2]{\"a\": 3}");
    EXPECT_RENDER(
        "{% macro w(t) %}<{{ t }}:{{ caller() }}>{% endmacro %}{% call w('b') %}in{% endcall %}",
        NULL, "<b:in>");
    EXPECT_RENDER("{% filter upper %}abc{{ 'd' }}{% endfilter %}", NULL, "ABCD");
    EXPECT_RENDER(
        "{% macro r(n) %}{% if n > 0 %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(3) }}",
        NULL, "321");
}

static void filters(void) {
    EXPECT_RENDER("{{ '  x  ' | trim }}|{{ 'ab' | upper }}|{{ 'AB' | lower }}|{{ 'ab cd' | title "
                  "}}|{{ 'ab' | capitalize }}",
                  NULL, "x|AB|ab|Ab Cd|Ab");
    EXPECT_RENDER(
        "{{ [3, 1, 2] | sort }}{{ ['b', 'A', 'c'] | sort }}{{ [3, 1, 2] | sort(reverse=true) }}",
        NULL, "[1, 2, 3][\"A\", \"b\", \"c\"][3, 2, 1]");
    EXPECT_RENDER("{{ [1, 2, 2, 1] | unique }}{{ [1, 2] | reverse }}{{ 'ab' | reverse }}{{ [1, 2] "
                  "| first }}{{ [1, 2] | last }}",
                  NULL, "[1, 2][2, 1]ba12");
    EXPECT_RENDER("{{ ['a', 'b'] | join }}|{{ ['a', 1, none] | join(', ') }}|{{ [] | length }}|{{ "
                  "{'a': 1} | length }}",
                  NULL, "ab|a, 1, |0|1");
    EXPECT_RENDER("{{ x | default('d') }}|{{ '' | default('e', true) }}|{{ 0 | default('f') }}",
                  NULL, "d|e|0");
    EXPECT_RENDER("{{ '42' | int + 1 }}|{{ 'x' | int }}|{{ 3.9 | int }}|{{ '2.5' | float }}|{{ -3 "
                  "| abs }}|{{ 2.567 | round(2) }}",
                  NULL, "43|0|3|2.5|3|2.57");
    EXPECT_RENDER("{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}", NULL,
                  "a\n  b\n\n  c|  a\n  b");
    EXPECT_RENDER("{{ 'a-b-c' | replace('-', '+') }}|{{ 1 | string }}{{ [1, 'a'] | string }}|{{ "
                  "{'a': 'b'} | string }}",
                  NULL, "a+b+c|1[1, \"a\"]|{'a': 'b'}");
    EXPECT_RENDER(
        "{{ [1, 2, 3, 4] | select('odd') | list }}{{ [1, 2, 3, 4] | reject('odd') | list }}"
        "{{ [1, 2, 3] | sum }}{{ [3, 1, 2] | min }}{{ [3, 1, 2] | max }}{{ [1, 2, 3] | batch(2) }}",
        NULL, "[1, 3][2, 4]613[[1, 2], [3]]");
    const char *m = "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": "
                    "\"user\", \"content\": \"U\"}, "
                    "{\"role\": \"user\", \"content\": \"V\", \"x\": {\"y\": 1}}]}";
    EXPECT_RENDER(
        "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | "
        "join(',') }}|"
        "{{ messages | rejectattr('role', 'eq', 'user') | map(attribute='content') | list }}|"
        "{{ messages | selectattr('x') | length }}|{{ messages | map(attribute='x.y', default=0) | "
        "list }}",
        m, "U,V|[\"S\"]|1|[0, 0, 1]");
    EXPECT_RENDER(
        "{{ ['a', 'b'] | map('upper') | list }}{{ 'one two  three' | wordcount }}{{ '<a&>' | e }}",
        NULL, "[\"A\", \"B\"]3&lt;a&amp;&gt;");
    EXPECT_RENDER("{{ '{\"a\": [1, 2]}' | from_json | tojson }}", NULL, "{\"a\": [1, 2]}");
}

static void tojson(void) {
    EXPECT_RENDER("{{ {'a': [1, 'x', none, true, 1.5]} | tojson }}", NULL,
                  "{\"a\": [1, \"x\", null, true, 1.5]}");
    EXPECT_RENDER("{{ [1, {'b': 2}, [], {}] | tojson(indent=2) }}", NULL,
                  "[\n  1,\n  {\n    \"b\": 2\n  },\n  [],\n  {}\n]");
    EXPECT_RENDER("{{ 'é\"\\n\\t\\\\</' | tojson }}", NULL, "\"é\\\"\\n\\t\\\\</\"");
    EXPECT_RENDER("{{ 'é😀' | tojson(ensure_ascii=true) }}", NULL, "\"\\u00e9\\ud83d\\ude00\"");
    EXPECT_RENDER("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ {'a': 1} | "
                  "tojson(separators=[',', ':']) }}",
                  NULL, "{\"a\": 2, \"b\": 1}|{\"a\":1}");
    EXPECT_RENDER("{{ x | tojson }}|{{ y | tojson }}",
                  "{\"x\": {\"k\": \"\\u0001\", \"n\": 2.0, \"f\": 0.5}}",
                  "{\"k\": \"\\u0001\", \"n\": 2, \"f\": 0.5}|null");
}

static void globals(void) {
    EXPECT_ERROR("a{{ raise_exception('boom') }}", NULL, FR_EINVAL, "template raised: boom");
    EXPECT_RENDER("{{ True }}{{ False }}[{{ None }}]{{ dict(a=1) }}", NULL,
                  "truefalse[]{\"a\": 1}");
    EXPECT_RENDER("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}", NULL, "12");
    /* strftime_now reads the clock from the limits (here 1970-01-01 00:00 in the local zone) */
    setenv("TZ", "UTC", 1);
    tzset();
    jinja_limits lim;
    jinja_limits_default(&lim);
    lim.now = 86400 * 31 + 3600 * 5 + 60 * 7;
    const char *t = "{{ strftime_now('%Y-%m-%d %H:%M %b %B %d %%') }}";
    char *out;
    fr_err e = {{0}};
    T_CHECK(render_lim(t, strlen(t), NULL, &lim, &out, &e) == 0, "%s", e.msg);
    T_EXPECT(!strcmp(out, "1970-02-01 05:07 Feb February 01 %"), "got %s", out);
    free(out);
}

static void chat_template(void) {
    /* a ChatML-style template over real message JSON */
    const char *tmpl = "{%- for message in messages %}\n"
                       "    {{- '<|im_start|>' + message.role + '\\n' + message.content | trim + "
                       "'<|im_end|>\\n' }}\n"
                       "{%- endfor %}\n"
                       "{%- if add_generation_prompt %}\n"
                       "    {{- '<|im_start|>assistant\\n' }}\n"
                       "{%- endif %}\n";
    EXPECT_RENDER(
        tmpl,
        "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief. \"}, "
        "{\"role\": \"user\", \"content\": \"你好 😀\"}], \"add_generation_prompt\": true}",
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n你好 "
        "😀<|im_end|>\n<|im_start|>assistant\n");
    /* one parsed template, rendered twice with different variables */
    jinja_template *t;
    fr_err e = {{0}};
    T_CHECK(jinja_template_parse(&t, "{{ x }}", 7, &e) == 0, "%s", e.msg);
    for (int i = 0; i < 2; i++) {
        json_t *v = json_pack("{s:i}", "x", i);
        char *out;
        size_t n;
        T_EXPECT(jinja_template_render(&out, &n, t, v, NULL, &e) == 0, "%s", e.msg);
        T_EXPECT(n == 1 && out[0] == '0' + i, "render %d gave %s", i, out);
        free(out);
        json_decref(v);
    }
    jinja_template_free(t);
}

static void errors(void) {
    EXPECT_ERROR("{{ x | frobnicate }}", NULL, FR_EUNSUP,
                 "unsupported filter 'frobnicate' at line 1");
    EXPECT_ERROR("a\nb\n{%- if true %}\n{{ x | nope(1) }}{% endif %}", NULL, FR_EUNSUP,
                 "unsupported filter 'nope' at line 4");
    EXPECT_ERROR("{{ 1 is frob }}", NULL, FR_EUNSUP, "unsupported test 'frob'");
    EXPECT_ERROR("{{ 'a'.zfill(3) }}", NULL, FR_EUNSUP, "unsupported method 'zfill'");
    EXPECT_ERROR("{{ nofunc(1) }}", NULL, FR_EUNSUP, "unknown function 'nofunc'");
    EXPECT_ERROR("x\n{% if x %}abc", NULL, FR_EFORMAT,
                 "unterminated 'if' block (missing 'endif') at line 2");
    EXPECT_ERROR("{% for x in y %}", NULL, FR_EFORMAT, "unterminated 'for'");
    EXPECT_ERROR("{{ x", NULL, FR_EFORMAT, "at line 1");
    EXPECT_ERROR("{{ 'abc }}", NULL, FR_EFORMAT, "unterminated string");
    EXPECT_ERROR("{# abc", NULL, FR_EFORMAT, "unterminated comment");
    EXPECT_ERROR("{% endif %}", NULL, FR_EFORMAT, "unexpected 'endif'");
    EXPECT_ERROR("{% include 'x.j2' %}", NULL, FR_EUNSUP, "unsupported statement 'include'");
    EXPECT_ERROR("{{ 1 / 0 }}", NULL, FR_EINVAL, "division by zero");
    EXPECT_ERROR("{{ 'a' - 1 }}", NULL, FR_EINVAL, "unsupported operand");
    EXPECT_ERROR("{% for x in 5 %}{% endfor %}", NULL, FR_EINVAL, "cannot iterate");
    EXPECT_ERROR("{% set x.y = 1 %}", "{\"x\": {}}", FR_EINVAL, "only on a namespace");
    EXPECT_ERROR("{{ x $ y }}", NULL, FR_EFORMAT, "unexpected character '$'");
    EXPECT_ERROR("{% break %}", NULL, FR_EINVAL, "outside a loop");
}

/* s repeated n times */
static char *rep(const char *s, int n) {
    size_t l = strlen(s);
    char *p = malloc(l * (size_t)n + 1);
    for (int i = 0; i < n; i++) memcpy(p + l * (size_t)i, s, l);
    p[l * (size_t)n] = 0;
    return p;
}

static void expect_code(const char *what, const char *tmpl, const jinja_limits *lim, int code) {
    char *out;
    fr_err e = {{0}};
    int rc = render_lim(tmpl, strlen(tmpl), NULL, lim, &out, &e);
    T_EXPECT(rc == code, "%s: code %d, want %d (%s)", what, rc, code, e.msg);
    free(out);
}

static void deep_nesting(void) {
    const int N = 10000;
    char *a = rep("{% if true %}", N), *b = rep("{% endif %}", N);
    char *t = malloc(strlen(a) + strlen(b) + 2);
    sprintf(t, "%sx%s", a, b);
    expect_code("10000 nested ifs", t, NULL, FR_ERANGE);
    free(a);
    free(b);
    free(t);
    /* prefix, repeated opener, middle, repeated closer, suffix */
    const char *cases[][5] = {{"{{ ", "(", "1", ")", " }}"},
                              {"{{ ", "[", "", "]", " }}"},
                              {"{{ ", "{'a':", "1", "}", " }}"},
                              {"{{ ", "-", "1", "", " }}"},
                              {"{{ ", "not ", "1", "", " }}"},
                              {"{{ 1", "+1", "", "", " }}"},
                              {"{{ x", ".y", "", "", " }}"},
                              {"{{ x", "|trim", "", "", " }}"},
                              {"{{ 1", " if 1 else 1", "", "", " }}"},
                              {"{{ f", "()", "", "", " }}"},
                              {"", "{% for x in y %}", "", "{% endfor %}", ""},
                              {"", "{% macro m() %}", "", "{% endmacro %}", ""}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char *open = rep(cases[k][1], N), *close = rep(cases[k][3], N);
        char *s = malloc(strlen(open) + strlen(close) + 64);
        sprintf(s, "%s%s%s%s%s", cases[k][0], open, cases[k][2], close, cases[k][4]);
        char *out;
        fr_err e = {{0}};
        int rc = render_lim(s, strlen(s), NULL, NULL, &out, &e);
        T_EXPECT(rc == FR_ERANGE, "10000 x '%s': code %d (%s)", cases[k][1], rc, e.msg);
        free(out);
        free(s);
        free(open);
        free(close);
    }
}

static void bounded_work(void) {
    jinja_limits lim;
    jinja_limits_default(&lim);
    lim.max_steps = 100000;
    lim.max_output = 1 << 20;
    lim.max_memory = 64 << 20;
    expect_code("huge range", "{% for i in range(100000000) %}{% endfor %}", &lim, FR_ERANGE);
    expect_code("nested loops",
                "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
                &lim, FR_ERANGE);
    expect_code("output", "{% set s = 'x' * 1000 %}{% for i in range(5000) %}{{ s }}{% endfor %}",
                &lim, FR_ERANGE);
    expect_code("string doubling",
                "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s "
                "%}{% endfor %}",
                &lim, FR_ERANGE);
    expect_code("list doubling",
                "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l "
                "%}{% endfor %}",
                &lim, FR_ERANGE);
    expect_code("recursion", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", &lim, FR_ERANGE);
    expect_code(
        "fan-out",
        "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}",
        &lim, FR_ERANGE);
    expect_code("self-containing namespace",
                "{% set ns = namespace() %}{% set ns.me = ns %}{{ ns | tojson }}", &lim, FR_ERANGE);
    expect_code("self-containing list", "{% set l = [] %}{% do l.append(l) %}{{ l }}", &lim,
                FR_ERANGE);
    /* a 90000-deep list is released without deep recursion */
    expect_code("deep list",
                "{% set ns = namespace(l=[]) %}{% for i in range(90000) %}{% set ns.l = [ns.l] "
                "%}{% endfor %}ok",
                &lim, 0);
}

static void odd_inputs(void) {
    const char *bad[] = {"{{",
                         "{%",
                         "{#",
                         "}}",
                         "%}",
                         "{{ }}",
                         "{% %}",
                         "{{ x.0.1 }}",
                         "{{ 'a' ~ }}",
                         "{{ [1,2,3][::0] }}",
                         "\xff\xfe{{ '\xff' }}\xc3",
                         "{% for %}",
                         "{% set %}",
                         "{% macro %}",
                         "{{ x(**y) }}",
                         "{{ (1, 2)[1] }}",
                         "{{ -'a' }}",
                         "{{ {[1]: 2} }}",
                         "{{ {1.5: 2} }}",
                         "{% set x = 1 %}{{ x.__class__ }}",
                         "{{ 'a' | join(1) }}",
                         "{% call x %}",
                         "{{ 1 is }}",
                         "{{ a | }}",
                         "{{ loop.index }}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *out;
        fr_err e = {{0}};
        int rc = render_lim(bad[i], strlen(bad[i]), NULL, NULL, &out, &e);
        T_EXPECT(rc <= 0, "%s: code %d", bad[i], rc);
        T_EXPECT(rc == 0 || e.msg[0], "%s: error without a message", bad[i]);
        free(out);
    }
    /* NUL bytes in text and in strings are kept */
    char *out;
    fr_err e = {{0}};
    size_t n;
    jinja_template *t;
    T_CHECK(jinja_template_parse(&t, "a\0b{{ '\0' }}", 12, &e) == 0, "%s", e.msg);
    T_CHECK(jinja_template_render(&out, &n, t, NULL, NULL, &e) == 0, "%s", e.msg);
    T_EXPECT(n == 4 && !memcmp(out, "a\0b\0", 4), "NUL bytes lost (%zu bytes)", n);
    free(out);
    jinja_template_free(t);
}

/* Every shared template must at least parse (rendering is compared by tests/oracle). */
static void shared_templates_parse(void) {
    const char *sh = t_shared_dir();
    if (!sh) {
        t_skip("no shared directory");
        return;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/templates", sh);
    DIR *d = opendir(dir);
    if (!d) {
        t_skip("no %s", dir);
        return;
    }
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 7 || strcmp(de->d_name + l - 6, ".jinja")) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        static char buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        jinja_template *t;
        fr_err e = {{0}};
        int rc = jinja_template_parse(&t, buf, len, &e);
        T_EXPECT(rc == 0, "%s: %s", de->d_name, e.msg);
        if (!rc) {
            /* and renders a plain conversation or fails cleanly */
            json_t *v = json_loads(
                "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
                "\"add_generation_prompt\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}",
                0, NULL);
            char *out;
            size_t on;
            int r = jinja_template_render(&out, &on, t, v, NULL, &e);
            T_EXPECT(r == 0 || e.msg[0], "%s: render error without message", de->d_name);
            free(out);
            json_decref(v);
            jinja_template_free(t);
        }
        n++;
    }
    closedir(d);
    T_EXPECT(n > 0, "no templates in %s", dir);
}

void suite_jinja(void) {
    T_CASE(text_and_whitespace);
    T_CASE(literals_and_arithmetic);
    T_CASE(logic_and_comparisons);
    T_CASE(subscripts_and_slices);
    T_CASE(string_methods);
    T_CASE(dicts_and_lists);
    T_CASE(loops);
    T_CASE(assignment_and_scope);
    T_CASE(macros_and_blocks);
    T_CASE(filters);
    T_CASE(tojson);
    T_CASE(globals);
    T_CASE(chat_template);
    T_CASE(errors);
    T_CASE(deep_nesting);
    T_CASE(bounded_work);
    T_CASE(odd_inputs);
    T_CASE(shared_templates_parse);
}
