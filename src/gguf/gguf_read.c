/* gguf_read.c: the GGUF v2/v3 reader. Maps the file (or takes a caller's buffer), validates
 * the whole header against the file size as hostile input, and builds the kv and tensor
 * tables that point into the mapping; owns the name indexes behind gguf_find and
 * gguf_find_tensor, and gguf_close. Every failure message names the file, the key or
 * tensor, and what was expected vs found. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf/gguf.h"

#define GGML_MAX_NAME 64    /* ggml's tensor name buffer, NUL included */
#define KV_MIN_BYTES 13     /* key length (8) + value type (4) + smallest value (1) */
#define TENSOR_MIN_BYTES 32 /* name length 8, n_dims 4, one ne 8, type 4, offset 8 */

typedef struct name_index {
    uint64_t *slots; /* entry index + 1; 0 = empty */
    uint64_t mask;
} name_index;

typedef struct gguf_priv {
    void **allocs; /* everything below the handle that close must free */
    size_t n_allocs, cap_allocs;
    char *path;
    name_index kv_index, tensor_index;
} gguf_priv;

typedef struct reader {
    gguf_file *f;
    gguf_priv *p;
    uint64_t pos;  /* read cursor */
    char ctx[160]; /* what is being read: "header", "key 'x'", "tensor 'y'" */
    fr_err *err;
} reader;

/* ---- helpers ---- */

static int rfail(reader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rfail(reader *r, int code, const char *fmt, ...) {
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fr_fail(r->err, code, "%s: %s: %s", r->f->path, r->ctx, msg);
}

/* printable copy of a name from the file, for messages (cap >= 8) */
static const char *show(char *buf, size_t cap, gguf_str s) {
    size_t n = 0;
    for (; n < s.len && n + 4 < cap; n++) {
        unsigned char c = (unsigned char)s.ptr[n];
        buf[n] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (n < s.len) memcpy(buf + n, "...", 3), n += 3;
    buf[n] = 0;
    return buf;
}

static void *ralloc(reader *r, uint64_t n, uint64_t size, const char *what) {
    uint64_t bytes;
    void *q;
    if (__builtin_mul_overflow(n, size, &bytes) || bytes > SIZE_MAX ||
        !(q = calloc(n ? (size_t)n : 1, (size_t)size))) {
        rfail(r, FR_ENOMEM, "out of memory for %" PRIu64 " %s", n, what);
        return NULL;
    }
    gguf_priv *p = r->p;
    if (p->n_allocs == p->cap_allocs) {
        size_t cap = p->cap_allocs ? 2 * p->cap_allocs : 16;
        void **a = realloc(p->allocs, cap * sizeof *a);
        if (!a) {
            free(q);
            rfail(r, FR_ENOMEM, "out of memory for %" PRIu64 " %s", n, what);
            return NULL;
        }
        p->allocs = a, p->cap_allocs = cap;
    }
    return p->allocs[p->n_allocs++] = q;
}

static uint64_t le(const uint8_t *b, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

static uint64_t remaining(const reader *r) {
    return r->f->size - r->pos;
}

static int rd_bytes(reader *r, uint64_t n, const uint8_t **out, const char *what) {
    *out = r->f->base; /* on failure too: keeps the compiler's flow analysis quiet */
    if (n > remaining(r))
        return rfail(r, FR_EFORMAT,
                     "truncated: %s at offset %" PRIu64 " needs %" PRIu64 " bytes, only %" PRIu64
                     " remain (file size %zu)",
                     what, r->pos, n, remaining(r), r->f->size);
    *out = r->f->base + r->pos;
    r->pos += n;
    return 0;
}

static int rd_uint(reader *r, int n, uint64_t *v, const char *what) {
    const uint8_t *b;
    int rc = rd_bytes(r, (uint64_t)n, &b, what);
    *v = rc ? 0 : le(b, n);
    return rc;
}

static int rd_u32(reader *r, uint32_t *v, const char *what) {
    uint64_t x;
    int rc = rd_uint(r, 4, &x, what);
    *v = (uint32_t)x;
    return rc;
}

static int rd_str(reader *r, gguf_str *s, const char *what) {
    uint64_t len;
    const uint8_t *b;
    int rc = rd_uint(r, 8, &len, what);
    if (rc) return rc;
    if (len > remaining(r))
        return rfail(r, FR_EFORMAT,
                     "%s: string length %" PRIu64 " at offset %" PRIu64 " exceeds the %" PRIu64
                     " bytes left in the file (size %zu)",
                     what, len, r->pos - 8, remaining(r), r->f->size);
    if ((rc = rd_bytes(r, len, &b, what))) return rc;
    s->len = len, s->ptr = (const char *)b;
    return 0;
}

/* ---- name indexes (open addressing, FNV-1a) ---- */

static uint64_t hash_bytes(const char *p, uint64_t n) {
    uint64_t h = 1469598103934665603ull;
    for (uint64_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static int index_init(reader *r, name_index *ix, uint64_t n) {
    uint64_t cap = 8;
    while (cap < 2 * n) cap *= 2;
    ix->slots = ralloc(r, cap, sizeof *ix->slots, "index slots");
    ix->mask = cap - 1;
    return ix->slots ? 0 : FR_ENOMEM;
}

static gguf_str kv_name(const void *tab, uint64_t i) {
    return ((const gguf_kv *)tab)[i].key;
}
static gguf_str tensor_name(const void *tab, uint64_t i) {
    return ((const gguf_tensor *)tab)[i].name;
}

/* Finds name; returns the slot holding it or the empty slot where it would go. */
static uint64_t *index_slot(const name_index *ix, const void *tab,
                            gguf_str (*name_of)(const void *, uint64_t), const char *p,
                            uint64_t n) {
    for (uint64_t h = hash_bytes(p, n) & ix->mask;; h = (h + 1) & ix->mask) {
        uint64_t *s = &ix->slots[h];
        if (!*s) return s;
        gguf_str k = name_of(tab, *s - 1);
        if (k.len == n && !memcmp(k.ptr, p, n)) return s;
    }
}

/* ---- values ---- */

static int parse_array(reader *r, gguf_value *out, int depth);

static int parse_value(reader *r, gguf_vtype t, gguf_value *out) {
    uint64_t x = 0;
    int rc = 0;
    out->type = t;
    switch (t) {
    case GGUF_T_UINT8:
    case GGUF_T_UINT16:
    case GGUF_T_UINT32:
    case GGUF_T_UINT64:
        rc = rd_uint(r, (int)gguf_vtype_size(t), &x, "value");
        out->v.u64 = x;
        return rc;
    case GGUF_T_INT8:
    case GGUF_T_INT16:
    case GGUF_T_INT32:
    case GGUF_T_INT64: {
        int n = (int)gguf_vtype_size(t);
        rc = rd_uint(r, n, &x, "value");
        if (n < 8 && (x >> (8 * n - 1))) x |= ~0ull << (8 * n); /* sign-extend */
        out->v.i64 = (int64_t)x;
        return rc;
    }
    case GGUF_T_FLOAT32: {
        float f;
        uint32_t bits;
        rc = rd_uint(r, 4, &x, "value");
        bits = (uint32_t)x;
        memcpy(&f, &bits, 4);
        out->v.f64 = f;
        return rc;
    }
    case GGUF_T_FLOAT64:
        rc = rd_uint(r, 8, &x, "value");
        memcpy(&out->v.f64, &x, 8);
        return rc;
    case GGUF_T_BOOL: /* lenient: any nonzero byte is true */
        rc = rd_uint(r, 1, &x, "value");
        out->v.b = x != 0;
        return rc;
    case GGUF_T_STRING:
        return rd_str(r, &out->v.str, "string value");
    case GGUF_T_ARRAY:
        return parse_array(r, out, 1);
    default:
        return rfail(r, FR_EFORMAT, "unknown value type %u (expected 0..%d)", (unsigned)t,
                     GGUF_T_COUNT - 1);
    }
}

/* the body of an array (element type, count, elements); depth 1 = a top-level array */
static int parse_array(reader *r, gguf_value *out, int depth) {
    uint32_t et;
    uint64_t n;
    int rc;
    out->type = GGUF_T_ARRAY;
    if (depth > GGUF_MAX_ARRAY_DEPTH)
        return rfail(r, FR_EFORMAT, "arrays nested deeper than %d levels", GGUF_MAX_ARRAY_DEPTH);
    if ((rc = rd_u32(r, &et, "array element type")) || (rc = rd_uint(r, 8, &n, "array count")))
        return rc;
    if (et >= GGUF_T_COUNT)
        return rfail(r, FR_EFORMAT, "unknown array element type %" PRIu32 " (expected 0..%d)", et,
                     GGUF_T_COUNT - 1);
    out->v.arr.type = (gguf_vtype)et;
    out->v.arr.n = n;
    size_t es = gguf_vtype_size((gguf_vtype)et);
    uint64_t min = es ? es : et == GGUF_T_STRING ? 8 : 12; /* smallest element in the file */
    if (n > remaining(r) / min)
        return rfail(r, FR_EFORMAT,
                     "array of %" PRIu64 " %s at offset %" PRIu64 " needs at least %" PRIu64
                     " bytes each, only %" PRIu64 " bytes remain (file size %zu)",
                     n, gguf_vtype_name((gguf_vtype)et), r->pos, min, remaining(r), r->f->size);
    if (es) {
        const uint8_t *b;
        if ((rc = rd_bytes(r, n * es, &b, "array data"))) return rc;
        out->v.arr.data = b;
    } else if (et == GGUF_T_STRING) {
        gguf_str *s = ralloc(r, n, sizeof *s, "array strings");
        if (!s) return FR_ENOMEM;
        out->v.arr.strs = s;
        for (uint64_t i = 0; i < n; i++)
            if ((rc = rd_str(r, &s[i], "array string"))) return rc;
    } else {
        if (n && depth + 1 > GGUF_MAX_ARRAY_DEPTH)
            return rfail(r, FR_EFORMAT, "arrays nested deeper than %d levels",
                         GGUF_MAX_ARRAY_DEPTH);
        gguf_value *items = ralloc(r, n, sizeof *items, "nested arrays");
        if (!items) return FR_ENOMEM;
        out->v.arr.items = items;
        for (uint64_t i = 0; i < n; i++)
            if ((rc = parse_array(r, &items[i], depth + 1))) return rc;
    }
    return 0;
}

/* ---- header ---- */

static int parse_header(reader *r, uint64_t *n_kv, uint64_t *n_tensors) {
    gguf_file *f = r->f;
    const uint8_t *m;
    uint64_t x;
    int rc;
    snprintf(r->ctx, sizeof r->ctx, "header");
    if (f->size == 0) return rfail(r, FR_EFORMAT, "empty file (0 bytes), expected a GGUF header");
    if ((rc = rd_bytes(r, 4, &m, "magic"))) return rc;
    if (memcmp(m, "GGUF", 4)) {
        char c[4];
        for (int i = 0; i < 4; i++) c[i] = m[i] >= 0x20 && m[i] < 0x7f ? (char)m[i] : '?';
        return rfail(r, FR_EFORMAT,
                     "not a GGUF file: magic is '%.4s' (%02x %02x %02x %02x), expected 'GGUF'", c,
                     m[0], m[1], m[2], m[3]);
    }
    if ((rc = rd_uint(r, 4, &x, "version"))) return rc;
    f->version = (uint32_t)x;
    if (f->version == 1)
        return rfail(r, FR_EUNSUP,
                     "GGUF version 1 is not supported (expected 2 or 3); re-convert the model");
    if (f->version != 2 && f->version != 3) {
        if ((f->version & 0xffff) == 0)
            return rfail(r, FR_EUNSUP,
                         "GGUF version %" PRIu32 " (0x%08" PRIx32 ") looks byte-swapped: "
                         "big-endian files are not supported (expected 2 or 3)",
                         f->version, f->version);
        return rfail(r, FR_EUNSUP, "unsupported GGUF version %" PRIu32 " (expected 2 or 3)",
                     f->version);
    }
    if ((rc = rd_uint(r, 8, n_tensors, "n_tensors")) || (rc = rd_uint(r, 8, n_kv, "n_kv")))
        return rc;
    uint64_t rem = remaining(r);
    if (*n_kv > rem / KV_MIN_BYTES)
        return rfail(r, FR_EFORMAT,
                     "n_kv = %" PRIu64 ", but the %" PRIu64
                     " bytes after the header hold at most %" PRIu64 " key/value pairs",
                     *n_kv, rem, rem / KV_MIN_BYTES);
    if (*n_tensors > (rem - *n_kv * KV_MIN_BYTES) / TENSOR_MIN_BYTES)
        return rfail(r, FR_EFORMAT,
                     "n_tensors = %" PRIu64 ", but the %" PRIu64 " bytes after the header and "
                     "%" PRIu64 " key/value pairs hold at most %" PRIu64 " tensor infos",
                     *n_tensors, rem, *n_kv, (rem - *n_kv * KV_MIN_BYTES) / TENSOR_MIN_BYTES);
    return 0;
}

static int parse_kvs(reader *r, uint64_t n_kv) {
    gguf_file *f = r->f;
    char nb[96];
    int rc;
    if (!(f->kv = ralloc(r, n_kv, sizeof *f->kv, "key/value pairs"))) return FR_ENOMEM;
    if ((rc = index_init(r, &r->p->kv_index, n_kv))) return rc;
    for (uint64_t i = 0; i < n_kv; i++) {
        gguf_kv *kv = &f->kv[i];
        uint32_t t;
        snprintf(r->ctx, sizeof r->ctx, "kv #%" PRIu64, i);
        if ((rc = rd_str(r, &kv->key, "key name"))) return rc;
        snprintf(r->ctx, sizeof r->ctx, "key '%s'", show(nb, sizeof nb, kv->key));
        uint64_t *slot = index_slot(&r->p->kv_index, f->kv, kv_name, kv->key.ptr, kv->key.len);
        if (*slot)
            return rfail(r, FR_EFORMAT, "duplicate key (kv #%" PRIu64 " and kv #%" PRIu64 ")",
                         *slot - 1, i);
        if ((rc = rd_u32(r, &t, "value type"))) return rc;
        if (t >= GGUF_T_COUNT)
            return rfail(r, FR_EFORMAT, "unknown value type %" PRIu32 " (expected 0..%d)", t,
                         GGUF_T_COUNT - 1);
        if ((rc = parse_value(r, (gguf_vtype)t, &kv->val))) return rc;
        *slot = i + 1;
        f->n_kv = i + 1;
    }
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *a = gguf_find(f, "general.alignment");
    if (a) {
        snprintf(r->ctx, sizeof r->ctx, "key 'general.alignment'");
        if (a->val.type != GGUF_T_UINT32)
            return rfail(r, FR_EFORMAT, "expected type u32, found %s",
                         gguf_vtype_name(a->val.type));
        uint64_t al = a->val.v.u64;
        if (al == 0 || (al & (al - 1)))
            return rfail(r, FR_EFORMAT, "alignment %" PRIu64 " is not a nonzero power of two", al);
        f->alignment = al;
    }
    return 0;
}

/* ---- tensors ---- */

static int parse_tensor_info(reader *r, uint64_t i) {
    gguf_file *f = r->f;
    gguf_tensor *t = &f->tensors[i];
    char nb[96];
    uint64_t x;
    int rc;
    snprintf(r->ctx, sizeof r->ctx, "tensor #%" PRIu64, i);
    if ((rc = rd_str(r, &t->name, "tensor name"))) return rc;
    snprintf(r->ctx, sizeof r->ctx, "tensor '%s'", show(nb, sizeof nb, t->name));
    if (t->name.len >= GGML_MAX_NAME)
        return rfail(r, FR_EFORMAT, "name is %" PRIu64 " bytes long, the limit is %d", t->name.len,
                     GGML_MAX_NAME - 1);
    uint64_t *slot =
        index_slot(&r->p->tensor_index, f->tensors, tensor_name, t->name.ptr, t->name.len);
    if (*slot)
        return rfail(r, FR_EFORMAT, "duplicate tensor name (tensor #%" PRIu64 " and #%" PRIu64 ")",
                     *slot - 1, i);
    if ((rc = rd_u32(r, &t->n_dims, "n_dims"))) return rc;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return rfail(r, FR_EFORMAT, "n_dims = %" PRIu32 ", expected 1..%d", t->n_dims,
                     GGUF_MAX_DIMS);
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d < t->n_dims) {
            if ((rc = rd_uint(r, 8, &x, "ne"))) return rc;
            t->ne[d] = (int64_t)x;
        }
    }
    if ((rc = rd_u32(r, &t->type, "tensor type")) || (rc = rd_uint(r, 8, &t->offset, "offset")))
        return rc;
    uint64_t nbytes;
    if ((rc = gguf_tensor_size(&nbytes, t->type, t->n_dims, t->ne, r->err)))
        return fr_wrap(r->err, rc, "%s: %s", f->path, r->ctx);
    t->nbytes = (size_t)nbytes;
    *slot = i + 1;
    f->n_tensors = i + 1;
    return 0;
}

typedef struct {
    uint64_t offset, nbytes, idx;
} extent;

static int by_offset(const void *a, const void *b) {
    const extent *x = a, *y = b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

/* places every tensor's data: aligned, inside the file, no two overlapping */
static int place_tensors(reader *r) {
    gguf_file *f = r->f;
    char nb[96], nb2[96];
    uint64_t start;
    if (__builtin_add_overflow(r->pos, f->alignment - 1, &start))
        return rfail(r, FR_EFORMAT, "data section start overflows");
    f->data_offset = start & ~(f->alignment - 1);
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        uint64_t a, end;
        snprintf(r->ctx, sizeof r->ctx, "tensor '%s'", show(nb, sizeof nb, t->name));
        if (t->offset % f->alignment)
            return rfail(r, FR_EFORMAT,
                         "data offset %" PRIu64 " is not a multiple of the alignment %" PRIu64,
                         t->offset, f->alignment);
        if (__builtin_add_overflow(f->data_offset, t->offset, &a) ||
            __builtin_add_overflow(a, (uint64_t)t->nbytes, &end) || end > f->size)
            return rfail(r, FR_EFORMAT,
                         "data [offset %" PRIu64 ", %zu bytes] extends past end of file "
                         "(data section at %" PRIu64 ", file size %zu)",
                         t->offset, t->nbytes, f->data_offset, f->size);
        t->data = f->base + a;
    }
    if (f->n_tensors < 2) return 0;
    extent *ex = ralloc(r, f->n_tensors, sizeof *ex, "tensor extents");
    if (!ex) return FR_ENOMEM;
    for (uint64_t i = 0; i < f->n_tensors; i++)
        ex[i] = (extent){f->tensors[i].offset, f->tensors[i].nbytes, i};
    qsort(ex, f->n_tensors, sizeof *ex, by_offset);
    for (uint64_t i = 1; i < f->n_tensors; i++) {
        if (ex[i - 1].offset + ex[i - 1].nbytes <= ex[i].offset) continue; /* both in file */
        const gguf_tensor *p = &f->tensors[ex[i - 1].idx], *t = &f->tensors[ex[i].idx];
        snprintf(r->ctx, sizeof r->ctx, "tensor '%s'", show(nb, sizeof nb, t->name));
        return rfail(r, FR_EFORMAT,
                     "data [offset %" PRIu64 ", %zu bytes] overlaps tensor '%s' [offset %" PRIu64
                     ", %zu bytes]",
                     t->offset, t->nbytes, show(nb2, sizeof nb2, p->name), p->offset, p->nbytes);
    }
    return 0;
}

static int parse(reader *r) {
    uint64_t n_kv = 0, n_tensors = 0;
    int rc;
    if ((rc = parse_header(r, &n_kv, &n_tensors)) || (rc = parse_kvs(r, n_kv))) return rc;
    gguf_file *f = r->f;
    if (!(f->tensors = ralloc(r, n_tensors, sizeof *f->tensors, "tensor infos"))) return FR_ENOMEM;
    if ((rc = index_init(r, &r->p->tensor_index, n_tensors))) return rc;
    for (uint64_t i = 0; i < n_tensors; i++)
        if ((rc = parse_tensor_info(r, i))) return rc;
    return place_tensors(r);
}

/* ---- open / close ---- */

static int open_common(gguf_file **out, const char *path, const void *buf, size_t size, int mapped,
                       fr_err *err) {
    gguf_file *f = calloc(1, sizeof *f);
    gguf_priv *p = calloc(1, sizeof *p);
    char *pc = strdup(path);
    *out = NULL;
    if (!f || !p || !pc) {
        free(f), free(p), free(pc);
        if (mapped) munmap((void *)buf, size);
        return fr_fail(err, FR_ENOMEM, "%s: out of memory", path);
    }
    p->path = pc;
    f->path = pc;
    f->base = buf, f->size = size, f->mapped = mapped;
    f->priv = p;
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    reader r = {.f = f, .p = p, .err = err};
    int rc = parse(&r);
    if (rc) {
        gguf_close(f);
        return rc;
    }
    *out = f;
    return 0;
}

int gguf_open_mem(gguf_file **out, const void *buf, size_t size, fr_err *err) {
    return open_common(out, "<memory>", buf, size, 0, err);
}

int gguf_open(gguf_file **out, const char *path, fr_err *err) {
    struct stat st;
    void *m;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fr_fail(err, FR_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return fr_fail(err, FR_EIO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return fr_fail(err, FR_EIO, "%s: is a directory, expected a GGUF file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return fr_fail(err, FR_EFORMAT, "%s: header: empty file (0 bytes), expected a GGUF header",
                       path);
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return fr_fail(err, FR_EUNSUP, "%s: file too large to map", path);
    }
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) return fr_fail(err, FR_EIO, "%s: cannot map: %s", path, strerror(e));
    return open_common(out, path, m, (size_t)st.st_size, 1, err);
}

void gguf_close(gguf_file *f) {
    if (!f) return;
    gguf_priv *p = f->priv;
    if (f->mapped) munmap((void *)f->base, f->size);
    if (p) {
        for (size_t i = 0; i < p->n_allocs; i++) free(p->allocs[i]);
        free(p->allocs);
        free(p->path);
        free(p);
    }
    free(f);
}

/* ---- lookup ---- */

const gguf_kv *gguf_find(const gguf_file *f, const char *key) {
    const gguf_priv *p = f->priv;
    if (!p->kv_index.slots) return NULL;
    uint64_t s = *index_slot(&p->kv_index, f->kv, kv_name, key, strlen(key));
    return s && s <= f->n_kv ? &f->kv[s - 1] : NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name) {
    const gguf_priv *p = f->priv;
    if (!p->tensor_index.slots) return NULL;
    uint64_t s = *index_slot(&p->tensor_index, f->tensors, tensor_name, name, strlen(name));
    return s && s <= f->n_tensors ? &f->tensors[s - 1] : NULL;
}
