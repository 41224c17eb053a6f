/* gguf_types.c: GGUF value types (names, sizes, printing) and the reader's private copy of
 * ggml's tensor type table (name, block size, bytes per block) with the overflow-checked
 * tensor byte-size computation. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gguf/gguf.h"

typedef struct {
    const char *name;
    uint32_t blck_size; /* elements per block; 0: unknown/removed type id */
    uint32_t type_size; /* bytes per block */
} ggml_type_row;

/* ids and geometry as in ggml's type_traits (ids 4, 5, 31..33, 36..38 were removed) */
static const ggml_type_row ggml_types[] = {
    [0] = {"f32", 1, 4},         [1] = {"f16", 1, 2},         [2] = {"q4_0", 32, 18},
    [3] = {"q4_1", 32, 20},      [6] = {"q5_0", 32, 22},      [7] = {"q5_1", 32, 24},
    [8] = {"q8_0", 32, 34},      [9] = {"q8_1", 32, 36},      [10] = {"q2_K", 256, 84},
    [11] = {"q3_K", 256, 110},   [12] = {"q4_K", 256, 144},   [13] = {"q5_K", 256, 176},
    [14] = {"q6_K", 256, 210},   [15] = {"q8_K", 256, 292},   [16] = {"iq2_xxs", 256, 66},
    [17] = {"iq2_xs", 256, 74},  [18] = {"iq3_xxs", 256, 98}, [19] = {"iq1_s", 256, 50},
    [20] = {"iq4_nl", 32, 18},   [21] = {"iq3_s", 256, 110},  [22] = {"iq2_s", 256, 82},
    [23] = {"iq4_xs", 256, 136}, [24] = {"i8", 1, 1},         [25] = {"i16", 1, 2},
    [26] = {"i32", 1, 4},        [27] = {"i64", 1, 8},        [28] = {"f64", 1, 8},
    [29] = {"iq1_m", 256, 56},   [30] = {"bf16", 1, 2},       [34] = {"tq1_0", 256, 54},
    [35] = {"tq2_0", 256, 66},   [39] = {"mxfp4", 32, 17},
};

bool gguf_type_info(uint32_t type, const char **name, uint32_t *blck_size, uint32_t *type_size) {
    const ggml_type_row *r = NULL;
    if (type < sizeof ggml_types / sizeof *ggml_types && ggml_types[type].blck_size)
        r = &ggml_types[type];
    if (name) *name = r ? r->name : "?";
    if (blck_size) *blck_size = r ? r->blck_size : 0;
    if (type_size) *type_size = r ? r->type_size : 0;
    return r != NULL;
}

static void shape_str(char *buf, size_t cap, uint32_t n_dims, const int64_t *ne) {
    size_t o = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < n_dims && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%" PRId64, i ? ", " : "[", ne[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

int gguf_tensor_size(uint64_t *nbytes, uint32_t type, uint32_t n_dims, const int64_t *ne,
                     fr_err *err) {
    const char *name;
    uint32_t bs, ts;
    char shape[128];
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
        return fr_fail(err, FR_EFORMAT, "n_dims = %" PRIu32 ", expected 1..%d", n_dims,
                       GGUF_MAX_DIMS);
    shape_str(shape, sizeof shape, n_dims, ne);
    if (!gguf_type_info(type, &name, &bs, &ts))
        return fr_fail(err, FR_EFORMAT, "unknown tensor type %" PRIu32 " (shape %s)", type, shape);
    int64_t n = 1;
    for (uint32_t i = 0; i < n_dims; i++) {
        if (ne[i] < 0)
            return fr_fail(err, FR_EFORMAT, "ne[%" PRIu32 "] = %" PRId64 " is negative (shape %s)",
                           i, ne[i], shape);
        if (__builtin_mul_overflow(n, ne[i], &n))
            return fr_fail(err, FR_EFORMAT, "element count of shape %s overflows int64", shape);
    }
    if (ne[0] % bs)
        return fr_fail(err, FR_EFORMAT,
                       "type %s needs ne[0] to be a multiple of its block size %" PRIu32
                       ", found ne[0] = %" PRId64,
                       name, bs, ne[0]);
    uint64_t b; /* bytes of one row, then of the whole tensor */
    if (__builtin_mul_overflow((uint64_t)(ne[0] / bs), (uint64_t)ts, &b))
        return fr_fail(err, FR_EFORMAT, "byte size of %s %s overflows", name, shape);
    for (uint32_t i = 1; i < n_dims; i++)
        if (__builtin_mul_overflow(b, (uint64_t)ne[i], &b) || b > (uint64_t)INT64_MAX)
            return fr_fail(err, FR_EFORMAT, "byte size of %s %s overflows", name, shape);
    if (b > (uint64_t)INT64_MAX || b > SIZE_MAX)
        return fr_fail(err, FR_EFORMAT, "byte size of %s %s overflows", name, shape);
    *nbytes = b;
    return 0;
}

static const char *const vtype_names[GGUF_T_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64",
};
static const uint8_t vtype_sizes[GGUF_T_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

const char *gguf_vtype_name(gguf_vtype t) {
    return (unsigned)t < GGUF_T_COUNT ? vtype_names[t] : "?";
}

size_t gguf_vtype_size(gguf_vtype t) {
    return (unsigned)t < GGUF_T_COUNT ? vtype_sizes[t] : 0;
}

/* ---- printing ---- */

typedef struct {
    char *buf;
    size_t cap, len;
} sbuf; /* appends, truncating */

static void sb_put(sbuf *s, const char *p, size_t n) {
    if (s->len + 1 >= s->cap) return;
    size_t room = s->cap - 1 - s->len;
    if (n > room) n = room;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = 0;
}

static void sb_printf(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *s, const char *fmt, ...) {
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) sb_put(s, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void sb_quoted(sbuf *s, gguf_str str) {
    const uint64_t max = 80;
    sb_put(s, "\"", 1);
    for (uint64_t i = 0; i < str.len && i < max; i++) {
        unsigned char c = (unsigned char)str.ptr[i];
        if (c == '"' || c == '\\') {
            sb_put(s, "\\", 1);
            sb_put(s, (const char *)&c, 1);
        } else if (c == '\n')
            sb_put(s, "\\n", 2);
        else if (c == '\t')
            sb_put(s, "\\t", 2);
        else if (c < 0x20 || c == 0x7f)
            sb_printf(s, "\\x%02x", c);
        else
            sb_put(s, (const char *)&c, 1);
    }
    sb_put(s, "\"", 1);
    if (str.len > max) sb_printf(s, "...(%" PRIu64 " bytes)", str.len);
}

static void sb_value(sbuf *s, const gguf_value *v, uint64_t max_elems, int depth);

static void sb_scalar(sbuf *s, gguf_vtype t, const gguf_value *v) {
    switch (t) {
    case GGUF_T_UINT8:
    case GGUF_T_UINT16:
    case GGUF_T_UINT32:
    case GGUF_T_UINT64:
        sb_printf(s, "%" PRIu64, v->v.u64);
        break;
    case GGUF_T_INT8:
    case GGUF_T_INT16:
    case GGUF_T_INT32:
    case GGUF_T_INT64:
        sb_printf(s, "%" PRId64, v->v.i64);
        break;
    case GGUF_T_FLOAT32:
        sb_printf(s, "%.9g", v->v.f64);
        break;
    case GGUF_T_FLOAT64:
        sb_printf(s, "%.17g", v->v.f64);
        break;
    case GGUF_T_BOOL:
        sb_printf(s, "%s", v->v.b ? "true" : "false");
        break;
    default:
        sb_printf(s, "?");
        break;
    }
}

static void sb_value(sbuf *s, const gguf_value *v, uint64_t max_elems, int depth) {
    if (v->type == GGUF_T_STRING) {
        sb_quoted(s, v->v.str);
        return;
    }
    if (v->type != GGUF_T_ARRAY) {
        sb_scalar(s, v->type, v);
        return;
    }
    gguf_vtype et = v->v.arr.type;
    sb_printf(s, "[%s x %" PRIu64 "%s", gguf_vtype_name(et), v->v.arr.n, v->v.arr.n ? ": " : "");
    for (uint64_t i = 0; i < v->v.arr.n && i < max_elems; i++) {
        if (i) sb_put(s, ", ", 2);
        if (et == GGUF_T_STRING)
            sb_quoted(s, v->v.arr.strs[i]);
        else if (et == GGUF_T_ARRAY) {
            if (depth < GGUF_MAX_ARRAY_DEPTH) sb_value(s, &v->v.arr.items[i], max_elems, depth + 1);
        } else {
            gguf_value e = {.type = et};
            if (et == GGUF_T_FLOAT32 || et == GGUF_T_FLOAT64)
                e.v.f64 = gguf_arr_f64(v, i);
            else if (et == GGUF_T_BOOL)
                e.v.b = gguf_arr_i64(v, i) != 0;
            else
                e.v.i64 = gguf_arr_i64(v, i);
            sb_scalar(s, et, &e);
        }
    }
    if (v->v.arr.n > max_elems) sb_put(s, ", ...", 5);
    sb_put(s, "]", 1);
}

char *gguf_value_format(char *buf, size_t cap, const gguf_value *v, uint64_t max_elems) {
    sbuf s = {buf, cap, 0};
    if (!cap) return buf;
    buf[0] = 0;
    sb_value(&s, v, max_elems, 1);
    return buf;
}
