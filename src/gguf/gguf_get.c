/* gguf_get.c: typed access to a parsed GGUF file: string helpers, the typed metadata
 * getters (absent -> 1, wrong type or out of range -> FR_EFORMAT naming key, expected and
 * found) and element access for scalar arrays. */
#include <inttypes.h>
#include <string.h>

#include "gguf/gguf.h"

bool gguf_str_eq(gguf_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && (n == 0 || !memcmp(s.ptr, c, n));
}

char *gguf_str_copy(char *buf, size_t cap, gguf_str s) {
    if (!cap) return buf;
    size_t n = s.len < cap - 1 ? (size_t)s.len : cap - 1;
    if (n) memcpy(buf, s.ptr, n);
    buf[n] = 0;
    return buf;
}

static bool is_unsigned(gguf_vtype t) {
    return t == GGUF_T_UINT8 || t == GGUF_T_UINT16 || t == GGUF_T_UINT32 || t == GGUF_T_UINT64;
}

static bool is_signed(gguf_vtype t) {
    return t == GGUF_T_INT8 || t == GGUF_T_INT16 || t == GGUF_T_INT32 || t == GGUF_T_INT64;
}

/* finds key; 1 if absent */
static int lookup(const gguf_file *f, const char *key, const gguf_kv **kv) {
    *kv = gguf_find(f, key);
    return *kv ? 0 : 1;
}

static int wrong_type(const gguf_file *f, const char *key, const char *expected, gguf_vtype found,
                      fr_err *err) {
    return fr_fail(err, FR_EFORMAT, "%s: key '%s': expected %s, found %s", f->path, key, expected,
                   gguf_vtype_name(found));
}

/* any integer value as [lo, hi]; 0 ok */
static int get_int(const gguf_file *f, const char *key, const char *what, int64_t lo, uint64_t hi,
                   uint64_t *bits, fr_err *err) {
    const gguf_kv *kv;
    if (lookup(f, key, &kv)) return 1;
    gguf_vtype t = kv->val.type;
    if (is_unsigned(t)) {
        if (kv->val.v.u64 > hi)
            return fr_fail(err, FR_EFORMAT, "%s: key '%s': value %" PRIu64 " out of range for %s",
                           f->path, key, kv->val.v.u64, what);
    } else if (is_signed(t)) {
        int64_t v = kv->val.v.i64;
        if (v < lo || (v > 0 && (uint64_t)v > hi))
            return fr_fail(err, FR_EFORMAT, "%s: key '%s': value %" PRId64 " out of range for %s",
                           f->path, key, v, what);
    } else {
        return wrong_type(f, key, what, t, err);
    }
    *bits = kv->val.v.u64;
    return 0;
}

int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, fr_err *err) {
    uint64_t b;
    int rc = get_int(f, key, "u32", 0, UINT32_MAX, &b, err);
    if (!rc) *out = (uint32_t)b;
    return rc;
}

int gguf_get_i32(const gguf_file *f, const char *key, int32_t *out, fr_err *err) {
    uint64_t b;
    int rc = get_int(f, key, "i32", INT32_MIN, INT32_MAX, &b, err);
    if (!rc) *out = (int32_t)(int64_t)b;
    return rc;
}

int gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out, fr_err *err) {
    uint64_t b;
    int rc = get_int(f, key, "u64", 0, UINT64_MAX, &b, err);
    if (!rc) *out = b;
    return rc;
}

int gguf_get_f32(const gguf_file *f, const char *key, float *out, fr_err *err) {
    const gguf_kv *kv;
    if (lookup(f, key, &kv)) return 1;
    if (kv->val.type != GGUF_T_FLOAT32 && kv->val.type != GGUF_T_FLOAT64)
        return wrong_type(f, key, "f32 or f64", kv->val.type, err);
    *out = (float)kv->val.v.f64;
    return 0;
}

int gguf_get_bool(const gguf_file *f, const char *key, bool *out, fr_err *err) {
    const gguf_kv *kv;
    if (lookup(f, key, &kv)) return 1;
    if (kv->val.type != GGUF_T_BOOL) return wrong_type(f, key, "bool", kv->val.type, err);
    *out = kv->val.v.b;
    return 0;
}

int gguf_get_str(const gguf_file *f, const char *key, gguf_str *out, fr_err *err) {
    const gguf_kv *kv;
    if (lookup(f, key, &kv)) return 1;
    if (kv->val.type != GGUF_T_STRING) return wrong_type(f, key, "str", kv->val.type, err);
    *out = kv->val.v.str;
    return 0;
}

int gguf_get_arr(const gguf_file *f, const char *key, gguf_vtype elem, const gguf_value **out,
                 fr_err *err) {
    const gguf_kv *kv;
    if (lookup(f, key, &kv)) return 1;
    if (kv->val.type != GGUF_T_ARRAY) {
        char exp[32];
        snprintf(exp, sizeof exp, "arr[%s]", elem == GGUF_T_COUNT ? "any" : gguf_vtype_name(elem));
        return wrong_type(f, key, exp, kv->val.type, err);
    }
    if (elem != GGUF_T_COUNT && kv->val.v.arr.type != elem)
        return fr_fail(err, FR_EFORMAT, "%s: key '%s': expected arr[%s], found arr[%s]", f->path,
                       key, gguf_vtype_name(elem), gguf_vtype_name(kv->val.v.arr.type));
    *out = &kv->val;
    return 0;
}

static uint64_t arr_bits(const gguf_value *arr, uint64_t i, size_t n) {
    const uint8_t *b = (const uint8_t *)arr->v.arr.data + i * n;
    uint64_t v = 0;
    for (size_t k = n; k-- > 0;) v = v << 8 | b[k];
    return v;
}

int64_t gguf_arr_i64(const gguf_value *arr, uint64_t i) {
    gguf_vtype t = arr->v.arr.type;
    size_t n = gguf_vtype_size(t);
    if (!n) return 0;
    if (t == GGUF_T_FLOAT32 || t == GGUF_T_FLOAT64) { /* truncates; saturates; NaN -> 0 */
        double d = gguf_arr_f64(arr, i);
        if (d != d) return 0;
        if (d >= 9223372036854775807.0) return INT64_MAX;
        if (d <= -9223372036854775808.0) return INT64_MIN;
        return (int64_t)d;
    }
    uint64_t v = arr_bits(arr, i, n);
    if (is_signed(t) && n < 8 && (v >> (8 * n - 1))) v |= ~0ull << (8 * n); /* sign-extend */
    if (t == GGUF_T_BOOL) v = v != 0;
    return (int64_t)v;
}

double gguf_arr_f64(const gguf_value *arr, uint64_t i) {
    gguf_vtype t = arr->v.arr.type;
    if (t == GGUF_T_FLOAT32) {
        uint32_t bits = (uint32_t)arr_bits(arr, i, 4);
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    if (t == GGUF_T_FLOAT64) {
        uint64_t bits = arr_bits(arr, i, 8);
        double d;
        memcpy(&d, &bits, 8);
        return d;
    }
    if (t == GGUF_T_UINT64) return (double)arr_bits(arr, i, 8);
    return (double)gguf_arr_i64(arr, i);
}
