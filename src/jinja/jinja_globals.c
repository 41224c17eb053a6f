/* jinja_globals.c: the global names of a render: namespace(), dict(), range(),
 * raise_exception() (fails the render with "template raised: <msg>"), strftime_now() (the
 * clock comes from jinja_limits.now when set; English month/day names) and true/false/none
 * in both spellings. */
#include "jinja/jinja_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int out_fail(jj_rt *rt) {
    return jj_fail(rt, FR_ERANGE, 0, "rendered text larger than %zu bytes", rt->lim.max_output);
}

static int want_str(jj_rt *rt, jv *v, const char *what, int line) {
    if (!v || v->t != JV_STR)
        return jj_fail(rt, FR_EINVAL, line, "%s must be a string, not %s", what,
                       v ? jv_type_name(*v) : "missing");
    return 0;
}

/* ---------------------------------------------------------------- globals */

enum { G_NAMESPACE, G_RANGE, G_RAISE, G_STRFTIME, G_DICT, G_COUNT };
static const char *const k_globals[G_COUNT] = {"namespace", "range", "raise_exception",
                                               "strftime_now", "dict"};

const char *jj_global_name(int id) {
    return id >= 0 && id < G_COUNT ? k_globals[id] : "?";
}

int jj_globals_install(jj_rt *rt, jj_scope *sc) {
    for (int i = 0; i < G_COUNT; i++) {
        jv f;
        if (jv_func_new(rt, FK_GLOBAL, i, &f) ||
            jj_scope_set(rt, sc, k_globals[i], strlen(k_globals[i]), f))
            return rt->status;
    }
    static const char *const consts[6] = {"true", "false", "none", "True", "False", "None"};
    for (int i = 0; i < 6; i++) {
        jv v = i % 3 == 2 ? JV_NONE_V : jv_bool(i % 3 == 0);
        if (jj_scope_set(rt, sc, consts[i], strlen(consts[i]), v)) return rt->status;
    }
    return 0;
}

static int do_strftime(jj_rt *rt, jv fmt, int line, jv *out) {
    static const char *const months[12] = {"January",   "February", "March",    "April",
                                           "May",       "June",     "July",     "August",
                                           "September", "October",  "November", "December"};
    static const char *const days[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
    time_t now = rt->lim.now >= 0 ? (time_t)rt->lim.now : time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        return jj_fail(rt, FR_EINVAL, line, "strftime_now: cannot read the clock");
    const char *p = fmt.u.s->data;
    size_t n = fmt.u.s->len;
    jj_buf b;
    jj_new_buf(rt, &b);
    for (size_t i = 0; i < n; i++) {
        char tmp[64];
        tmp[0] = 0;
        if (p[i] != '%' || i + 1 >= n) {
            if (jj_buf_putc(&b, p[i])) goto big;
            continue;
        }
        char c = p[++i];
        switch (c) {
        case 'Y':
            snprintf(tmp, sizeof tmp, "%d", tm.tm_year + 1900);
            break;
        case 'y':
            snprintf(tmp, sizeof tmp, "%02d", tm.tm_year % 100);
            break;
        case 'm':
            snprintf(tmp, sizeof tmp, "%02d", tm.tm_mon + 1);
            break;
        case 'd':
            snprintf(tmp, sizeof tmp, "%02d", tm.tm_mday);
            break;
        case 'e':
            snprintf(tmp, sizeof tmp, "%2d", tm.tm_mday);
            break;
        case 'H':
            snprintf(tmp, sizeof tmp, "%02d", tm.tm_hour);
            break;
        case 'I':
            snprintf(tmp, sizeof tmp, "%02d", tm.tm_hour % 12 ? tm.tm_hour % 12 : 12);
            break;
        case 'M':
            snprintf(tmp, sizeof tmp, "%02d", tm.tm_min);
            break;
        case 'S':
            snprintf(tmp, sizeof tmp, "%02d", tm.tm_sec);
            break;
        case 'p':
            snprintf(tmp, sizeof tmp, "%s", tm.tm_hour < 12 ? "AM" : "PM");
            break;
        case 'j':
            snprintf(tmp, sizeof tmp, "%03d", tm.tm_yday + 1);
            break;
        case 'b':
            snprintf(tmp, sizeof tmp, "%.3s", months[tm.tm_mon]);
            break;
        case 'B':
            snprintf(tmp, sizeof tmp, "%s", months[tm.tm_mon]);
            break;
        case 'a':
            snprintf(tmp, sizeof tmp, "%.3s", days[tm.tm_wday]);
            break;
        case 'A':
            snprintf(tmp, sizeof tmp, "%s", days[tm.tm_wday]);
            break;
        case '%':
            snprintf(tmp, sizeof tmp, "%%");
            break;
        default:
            snprintf(tmp, sizeof tmp, "%%%c", c);
            break;
        }
        if (jj_buf_puts(&b, tmp)) goto big;
    }
    return jv_str_from_buf(rt, &b, out);
big:
    jj_buf_free(&b);
    return out_fail(rt);
}

static int ns_from(jj_rt *rt, jv *src, jj_args *a, bool ns, int line, jv *out) {
    if (jv_dict_new(rt, ns, out)) return rt->status;
    if (src && src->t == JV_DICT) {
        for (size_t i = 0; i < src->u.d->n; i++)
            if (jv_dict_copy_entry(rt, out->u.d, src->u.d, i)) return rt->status;
    } else if (src && src->t == JV_LIST) {
        for (size_t i = 0; i < src->u.l->n; i++) {
            jv pr = src->u.l->items[i];
            if (pr.t != JV_LIST || pr.u.l->n != 2 || pr.u.l->items[0].t != JV_STR)
                return jj_fail(rt, FR_EINVAL, line,
                               "%s() expects [key, value] pairs with string keys",
                               ns ? "namespace" : "dict");
            if (jv_dict_set_str(rt, out->u.d, pr.u.l->items[0].u.s, jv_ref(pr.u.l->items[1])))
                return rt->status;
        }
    } else if (src && src->t != JV_UNDEF) {
        return jj_fail(rt, FR_EINVAL, line, "%s() cannot take a %s", ns ? "namespace" : "dict",
                       jv_type_name(*src));
    }
    for (size_t k = 0; k < a->nkw; k++)
        if (jv_dict_set(rt, out->u.d, a->kw[k], a->kwlen[k], jv_ref(a->kwv[k]))) return rt->status;
    return 0;
}

int jj_global_call(jj_rt *rt, int id, jj_args *a, int line, jv *out) {
    *out = JV_UNDEF_V;
    switch (id) {
    case G_NAMESPACE:
    case G_DICT:
        if (a->npos > 1)
            return jj_fail(rt, FR_EINVAL, line, "%s() takes at most 1 positional argument",
                           k_globals[id]);
        return ns_from(rt, jj_arg(a, 0, NULL), a, id == G_NAMESPACE, line, out);
    case G_RANGE: {
        int64_t v[3] = {0, 0, 1};
        if (a->npos < 1 || a->npos > 3)
            return jj_fail(rt, FR_EINVAL, line, "range() takes 1 to 3 arguments");
        for (size_t i = 0; i < a->npos; i++) {
            jv x = a->pos[i];
            if (x.t == JV_BOOL) x = jv_int(x.u.b);
            if (x.t != JV_INT)
                return jj_fail(rt, FR_EINVAL, line, "range() arguments must be integers, not %s",
                               jv_type_name(x));
            v[a->npos == 1 ? 1 : i] = x.u.i;
        }
        int64_t start = v[0], stop = v[1], step = v[2];
        if (!step) return jj_fail(rt, FR_EINVAL, line, "range() step must not be zero");
        double cnt = step > 0 ? ((double)stop - (double)start) / (double)step
                              : ((double)start - (double)stop) / -(double)step;
        if (cnt > JJ_MAX_RANGE)
            return jj_fail(rt, FR_ERANGE, line, "range() of more than %d items", JJ_MAX_RANGE);
        if (jv_list_new(rt, cnt > 0 ? (size_t)cnt + 1 : 0, out)) return rt->status;
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (jv_list_push(rt, out->u.l, jv_int(i))) return rt->status;
            if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
        }
        return 0;
    }
    case G_RAISE: {
        jj_buf b;
        jj_new_buf(rt, &b);
        jv *m = jj_arg(a, 0, NULL);
        if (m) jv_to_raw(rt, &b, *m, line);
        char msg[300];
        snprintf(msg, sizeof msg, "%.*s", (int)(b.n > 280 ? 280 : b.n), b.p ? b.p : "");
        jj_buf_free(&b);
        (void)line; /* the message is the template's own */
        return jj_fail(rt, FR_EINVAL, 0, "template raised: %s", msg);
    }
    case G_STRFTIME: {
        jv *f = jj_arg(a, 0, "format");
        if (want_str(rt, f, "strftime_now() format", line)) return rt->status;
        return do_strftime(rt, *f, line, out);
    }
    }
    return jj_fail(rt, FR_EINVAL, line, "unknown global function");
}
