/* gguf_write.c: the streaming GGUF v2/v3 writer. Metadata and tensor infos are collected
 * (values deep-copied, so callers may pass borrowed data), then the header is written with
 * tensor offsets laid out in declaration order, each aligned (general.alignment when set as a
 * u32, else 32) and padded with zeros; tensor data is then streamed one tensor at a time.
 * Misuse found while collecting (bad type, bad shape, duplicate tensor) is remembered and
 * reported by gguf_writer_write_header. Output position is counted here, so fp may be a
 * pipe. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"

typedef struct wkv {
    char *key;
    gguf_value val;
} wkv; /* val owns its memory */

typedef struct wtensor {
    char *name;
    uint32_t type, n_dims;
    int64_t ne[GGUF_MAX_DIMS];
    uint64_t nbytes, offset; /* offset relative to the data section */
} wtensor;

struct gguf_writer {
    uint32_t version;
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
    int bad; /* first misuse while collecting (FR_E* code), reported at write time */
    fr_err bad_msg;
    int state;    /* 0 collecting, 1 header written (streaming tensors), 2 finished */
    size_t next;  /* next tensor to stream */
    uint64_t pos; /* bytes written so far */
    uint64_t alignment;
};

static void misuse(gguf_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void misuse(gguf_writer *w, const char *fmt, ...) {
    if (w->bad) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->bad_msg.msg, sizeof w->bad_msg.msg, fmt, ap);
    va_end(ap);
    w->bad = FR_EINVAL;
}

gguf_writer *gguf_writer_create(uint32_t version) {
    gguf_writer *w = fr_xcalloc(1, sizeof *w);
    w->version = version;
    w->alignment = GGUF_DEFAULT_ALIGNMENT;
    if (version != 2 && version != 3)
        misuse(w, "gguf writer: version %" PRIu32 " requested, can write 2 or 3", version);
    return w;
}

static void value_free(gguf_value *v) {
    if (v->type == GGUF_T_STRING) {
        free((void *)v->v.str.ptr);
    } else if (v->type == GGUF_T_ARRAY) {
        free((void *)v->v.arr.data);
        if (v->v.arr.strs)
            for (uint64_t i = 0; i < v->v.arr.n; i++) free((void *)v->v.arr.strs[i].ptr);
        free(v->v.arr.strs);
        if (v->v.arr.items)
            for (uint64_t i = 0; i < v->v.arr.n; i++) value_free(&v->v.arr.items[i]);
        free(v->v.arr.items);
    }
    memset(v, 0, sizeof *v);
}

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) free(w->kv[i].key), value_free(&w->kv[i].val);
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->kv);
    free(w->t);
    free(w);
}

static gguf_str str_dup(gguf_str s) {
    char *p = fr_xmalloc((size_t)s.len + 1);
    if (s.len) memcpy(p, s.ptr, (size_t)s.len);
    p[s.len] = 0;
    return (gguf_str){s.len, p};
}

/* deep copy of src into dst (dst zeroed); 0 ok, -1 misuse (recorded) */
static int value_copy(gguf_writer *w, const char *key, gguf_value *dst, const gguf_value *src,
                      int depth) {
    dst->type = src->type;
    if ((unsigned)src->type >= GGUF_T_COUNT) {
        misuse(w, "gguf writer: key '%s': unknown value type %u", key, (unsigned)src->type);
        return -1;
    }
    if (src->type == GGUF_T_STRING) {
        dst->v.str = str_dup(src->v.str);
        return 0;
    }
    if (src->type != GGUF_T_ARRAY) {
        dst->v = src->v;
        return 0;
    }
    gguf_vtype et = src->v.arr.type;
    uint64_t n = src->v.arr.n;
    if (depth > GGUF_MAX_ARRAY_DEPTH) {
        misuse(w, "gguf writer: key '%s': arrays nested deeper than %d levels", key,
               GGUF_MAX_ARRAY_DEPTH);
        return -1;
    }
    if ((unsigned)et >= GGUF_T_COUNT) {
        misuse(w, "gguf writer: key '%s': unknown array element type %u", key, (unsigned)et);
        return -1;
    }
    dst->v.arr.type = et;
    dst->v.arr.n = n;
    size_t es = gguf_vtype_size(et);
    if (es) {
        FR_ASSERT(n <= SIZE_MAX / es);
        void *d = fr_xmalloc((size_t)(n * es));
        if (n) memcpy(d, src->v.arr.data, (size_t)(n * es));
        dst->v.arr.data = d;
    } else if (et == GGUF_T_STRING) {
        dst->v.arr.strs = fr_xcalloc((size_t)n, sizeof(gguf_str));
        for (uint64_t i = 0; i < n; i++) dst->v.arr.strs[i] = str_dup(src->v.arr.strs[i]);
    } else {
        dst->v.arr.items = fr_xcalloc((size_t)n, sizeof(gguf_value));
        for (uint64_t i = 0; i < n; i++) {
            if (src->v.arr.items[i].type != GGUF_T_ARRAY) {
                misuse(w, "gguf writer: key '%s': element %" PRIu64 " of an array of arrays is %s",
                       key, i, gguf_vtype_name(src->v.arr.items[i].type));
                return -1;
            }
            if (value_copy(w, key, &dst->v.arr.items[i], &src->v.arr.items[i], depth + 1))
                return -1;
        }
    }
    return 0;
}

void gguf_w_value(gguf_writer *w, const char *key, const gguf_value *v) {
    gguf_value copy = {0};
    if (w->state) {
        misuse(w, "gguf writer: key '%s' set after the header was written", key);
        return;
    }
    if (value_copy(w, key, &copy, v, 1)) {
        value_free(&copy);
        return;
    }
    for (size_t i = 0; i < w->n_kv; i++) {
        if (!strcmp(w->kv[i].key, key)) {
            value_free(&w->kv[i].val);
            w->kv[i].val = copy;
            return;
        }
    }
    if (w->n_kv == w->cap_kv) {
        w->cap_kv = w->cap_kv ? 2 * w->cap_kv : 16;
        w->kv = fr_xrealloc(w->kv, w->cap_kv * sizeof *w->kv);
    }
    w->kv[w->n_kv++] = (wkv){fr_xstrdup(key), copy};
}

static void w_scalar(gguf_writer *w, const char *key, gguf_vtype t, gguf_value v) {
    v.type = t;
    gguf_w_value(w, key, &v);
}

void gguf_w_u8(gguf_writer *w, const char *key, uint8_t v) {
    w_scalar(w, key, GGUF_T_UINT8, (gguf_value){.v.u64 = v});
}
void gguf_w_i8(gguf_writer *w, const char *key, int8_t v) {
    w_scalar(w, key, GGUF_T_INT8, (gguf_value){.v.i64 = v});
}
void gguf_w_u16(gguf_writer *w, const char *key, uint16_t v) {
    w_scalar(w, key, GGUF_T_UINT16, (gguf_value){.v.u64 = v});
}
void gguf_w_i16(gguf_writer *w, const char *key, int16_t v) {
    w_scalar(w, key, GGUF_T_INT16, (gguf_value){.v.i64 = v});
}
void gguf_w_u32(gguf_writer *w, const char *key, uint32_t v) {
    w_scalar(w, key, GGUF_T_UINT32, (gguf_value){.v.u64 = v});
}
void gguf_w_i32(gguf_writer *w, const char *key, int32_t v) {
    w_scalar(w, key, GGUF_T_INT32, (gguf_value){.v.i64 = v});
}
void gguf_w_u64(gguf_writer *w, const char *key, uint64_t v) {
    w_scalar(w, key, GGUF_T_UINT64, (gguf_value){.v.u64 = v});
}
void gguf_w_i64(gguf_writer *w, const char *key, int64_t v) {
    w_scalar(w, key, GGUF_T_INT64, (gguf_value){.v.i64 = v});
}
void gguf_w_f32(gguf_writer *w, const char *key, float v) {
    w_scalar(w, key, GGUF_T_FLOAT32, (gguf_value){.v.f64 = v});
}
void gguf_w_f64(gguf_writer *w, const char *key, double v) {
    w_scalar(w, key, GGUF_T_FLOAT64, (gguf_value){.v.f64 = v});
}
void gguf_w_bool(gguf_writer *w, const char *key, bool v) {
    w_scalar(w, key, GGUF_T_BOOL, (gguf_value){.v.b = v});
}
void gguf_w_str(gguf_writer *w, const char *key, const char *v) {
    w_scalar(w, key, GGUF_T_STRING, (gguf_value){.v.str = {strlen(v), v}});
}

void gguf_w_arr(gguf_writer *w, const char *key, gguf_vtype elem, const void *data, uint64_t n) {
    if (!gguf_vtype_size(elem)) {
        misuse(w, "gguf writer: key '%s': gguf_w_arr takes scalar elements, not %s", key,
               gguf_vtype_name(elem));
        return;
    }
    gguf_value v = {.type = GGUF_T_ARRAY};
    v.v.arr.type = elem, v.v.arr.n = n, v.v.arr.data = data;
    gguf_w_value(w, key, &v);
}

void gguf_w_arr_str(gguf_writer *w, const char *key, const char *const *strs, uint64_t n) {
    gguf_str *s = fr_xcalloc((size_t)n, sizeof *s);
    for (uint64_t i = 0; i < n; i++) s[i] = (gguf_str){strlen(strs[i]), strs[i]};
    gguf_value v = {.type = GGUF_T_ARRAY};
    v.v.arr.type = GGUF_T_STRING, v.v.arr.n = n, v.v.arr.strs = s;
    gguf_w_value(w, key, &v);
    free(s);
}

int gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                  const int64_t *ne) {
    wtensor t = {.type = type, .n_dims = n_dims};
    fr_err e;
    if (w->state) {
        misuse(w, "gguf writer: tensor '%s' added after the header was written", name);
        return -1;
    }
    if (strlen(name) >= 64) {
        misuse(w, "gguf writer: tensor '%s': name longer than 63 bytes", name);
        return -1;
    }
    for (size_t i = 0; i < w->n_t; i++) {
        if (!strcmp(w->t[i].name, name)) {
            misuse(w, "gguf writer: tensor '%s' added twice", name);
            return -1;
        }
    }
    if (gguf_tensor_size(&t.nbytes, type, n_dims, ne, &e)) {
        misuse(w, "gguf writer: tensor '%s': %s", name, e.msg);
        return -1;
    }
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) t.ne[d] = d < n_dims ? ne[d] : 1;
    t.name = fr_xstrdup(name);
    if (w->n_t == w->cap_t) {
        w->cap_t = w->cap_t ? 2 * w->cap_t : 16;
        w->t = fr_xrealloc(w->t, w->cap_t * sizeof *w->t);
    }
    w->t[w->n_t] = t;
    return (int)w->n_t++;
}

/* ---- output ---- */

static int put(gguf_writer *w, FILE *fp, const void *p, size_t n, fr_err *err) {
    if (n && fwrite(p, 1, n, fp) != n)
        return fr_fail(err, FR_EIO, "gguf writer: write failed at byte %" PRIu64, w->pos);
    w->pos += n;
    return 0;
}

static int put_le(gguf_writer *w, FILE *fp, uint64_t v, int n, fr_err *err) {
    uint8_t b[8];
    for (int i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
    return put(w, fp, b, (size_t)n, err);
}

static int put_str(gguf_writer *w, FILE *fp, gguf_str s, fr_err *err) {
    int rc = put_le(w, fp, s.len, 8, err);
    return rc ? rc : put(w, fp, s.ptr, (size_t)s.len, err);
}

static int put_pad(gguf_writer *w, FILE *fp, fr_err *err) {
    static const uint8_t zeros[256];
    while (w->pos % w->alignment) {
        uint64_t n = w->alignment - w->pos % w->alignment;
        int rc = put(w, fp, zeros, n < sizeof zeros ? (size_t)n : sizeof zeros, err);
        if (rc) return rc;
    }
    return 0;
}

/* a value without its type tag; arrays as element type, count, elements */
static int put_value(gguf_writer *w, FILE *fp, const gguf_value *v, fr_err *err) {
    int rc = 0;
    switch (v->type) {
    case GGUF_T_FLOAT32: {
        float f = (float)v->v.f64;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        return put_le(w, fp, bits, 4, err);
    }
    case GGUF_T_FLOAT64: {
        uint64_t bits;
        memcpy(&bits, &v->v.f64, 8);
        return put_le(w, fp, bits, 8, err);
    }
    case GGUF_T_BOOL:
        return put_le(w, fp, v->v.b, 1, err);
    case GGUF_T_STRING:
        return put_str(w, fp, v->v.str, err);
    case GGUF_T_ARRAY: {
        gguf_vtype et = v->v.arr.type;
        uint64_t n = v->v.arr.n;
        if ((rc = put_le(w, fp, et, 4, err)) || (rc = put_le(w, fp, n, 8, err))) return rc;
        if (gguf_vtype_size(et))
            return put(w, fp, v->v.arr.data, (size_t)(n * gguf_vtype_size(et)), err);
        for (uint64_t i = 0; i < n && !rc; i++)
            rc = et == GGUF_T_STRING ? put_str(w, fp, v->v.arr.strs[i], err)
                                     : put_value(w, fp, &v->v.arr.items[i], err);
        return rc;
    }
    default: /* integers, stored widened */
        return put_le(w, fp, v->v.u64, (int)gguf_vtype_size(v->type), err);
    }
}

int gguf_writer_write_header(gguf_writer *w, FILE *fp, fr_err *err) {
    int rc;
    if (w->bad) return fr_fail(err, w->bad, "%s", w->bad_msg.msg);
    if (w->state) return fr_fail(err, FR_EINVAL, "gguf writer: header already written");
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key, "general.alignment")) continue;
        const gguf_value *a = &w->kv[i].val;
        if (a->type != GGUF_T_UINT32)
            return fr_fail(err, FR_EINVAL,
                           "gguf writer: key 'general.alignment': expected u32, found %s",
                           gguf_vtype_name(a->type));
        if (a->v.u64 == 0 || (a->v.u64 & (a->v.u64 - 1)))
            return fr_fail(err, FR_EINVAL,
                           "gguf writer: key 'general.alignment': %" PRIu64
                           " is not a power of two",
                           a->v.u64);
        w->alignment = a->v.u64;
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        w->t[i].offset = off;
        off += (w->t[i].nbytes + w->alignment - 1) / w->alignment * w->alignment;
    }
    if ((rc = put(w, fp, "GGUF", 4, err)) || (rc = put_le(w, fp, w->version, 4, err)) ||
        (rc = put_le(w, fp, w->n_t, 8, err)) || (rc = put_le(w, fp, w->n_kv, 8, err)))
        return rc;
    for (size_t i = 0; i < w->n_kv; i++) {
        const wkv *kv = &w->kv[i];
        if ((rc = put_str(w, fp, (gguf_str){strlen(kv->key), kv->key}, err)) ||
            (rc = put_le(w, fp, kv->val.type, 4, err)) || (rc = put_value(w, fp, &kv->val, err)))
            return rc;
    }
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        if ((rc = put_str(w, fp, (gguf_str){strlen(t->name), t->name}, err)) ||
            (rc = put_le(w, fp, t->n_dims, 4, err)))
            return rc;
        for (uint32_t d = 0; d < t->n_dims; d++)
            if ((rc = put_le(w, fp, (uint64_t)t->ne[d], 8, err))) return rc;
        if ((rc = put_le(w, fp, t->type, 4, err)) || (rc = put_le(w, fp, t->offset, 8, err)))
            return rc;
    }
    if ((rc = put_pad(w, fp, err))) return rc;
    w->pos = 0; /* from here on: position inside the data section */
    w->state = 1;
    return 0;
}

int gguf_writer_write_tensor(gguf_writer *w, FILE *fp, int idx, const void *data, fr_err *err) {
    if (w->state != 1)
        return fr_fail(err, FR_EINVAL,
                       "gguf writer: tensor data before the header or after finish");
    if (idx < 0 || (size_t)idx != w->next || w->next >= w->n_t)
        return fr_fail(err, FR_EINVAL, "gguf writer: tensor %d written, expected tensor %zu of %zu",
                       idx, w->next, w->n_t);
    const wtensor *t = &w->t[idx];
    FR_ASSERT(w->pos == t->offset);
    int rc = put(w, fp, data, (size_t)t->nbytes, err);
    if (!rc) rc = put_pad(w, fp, err);
    if (rc) return fr_wrap(err, rc, "tensor '%s'", t->name);
    w->next++;
    return 0;
}

int gguf_writer_finish(gguf_writer *w, FILE *fp, fr_err *err) {
    if (w->state != 1)
        return fr_fail(err, FR_EINVAL, "gguf writer: finish without a header (or twice)");
    if (w->next != w->n_t)
        return fr_fail(err, FR_EINVAL, "gguf writer: finish after %zu of %zu tensors", w->next,
                       w->n_t);
    w->state = 2;
    if (fflush(fp) || ferror(fp)) return fr_fail(err, FR_EIO, "gguf writer: flush failed");
    return 0;
}
