/* test_gguf.c: suite_gguf: GGUF writer -> reader round trips (every value type, nested
 * arrays, v2/v3, custom alignment, tensor data through mmap), the typed getters, and hostile
 * input: every truncation of a valid file, hand-built malformed headers (each must fail with
 * a message naming the key or tensor), and random byte mutations. Also the seed-corpus
 * generator for tests/fuzz/corpus/gguf (FRUGAL_GGUF_CORPUS=dir writes the seeds there). */
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "quant/qtypes.h"
#include "t.h"

/* ---- helpers ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} bb; /* byte builder for hand-made files */

static void bb_raw(bb *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void bb_le(bb *b, uint64_t v, int n) {
    for (int i = 0; i < n; i++) {
        uint8_t c = (uint8_t)(v >> (8 * i));
        bb_raw(b, &c, 1);
    }
}
static void bb_u32(bb *b, uint32_t v) {
    bb_le(b, v, 4);
}
static void bb_u64(bb *b, uint64_t v) {
    bb_le(b, v, 8);
}
static void bb_str(bb *b, const char *s) {
    bb_u64(b, strlen(s)), bb_raw(b, s, strlen(s));
}
static void bb_hdr(bb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    bb_raw(b, "GGUF", 4), bb_u32(b, version), bb_u64(b, n_tensors), bb_u64(b, n_kv);
}
static void bb_kv_u32(bb *b, const char *key, uint32_t v) {
    bb_str(b, key), bb_u32(b, GGUF_T_UINT32), bb_u32(b, v);
}
static void bb_tinfo(bb *b, const char *name, uint32_t n_dims, const int64_t *ne, uint32_t type,
                     uint64_t off) {
    bb_str(b, name), bb_u32(b, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) bb_u64(b, (uint64_t)ne[i]);
    bb_u32(b, type), bb_u64(b, off);
}
static void bb_pad(bb *b, size_t align, size_t extra) { /* pad to align, then extra zeros */
    static const uint8_t z[4096];
    bb_raw(b, z, (align - b->n % align) % align);
    while (extra) {
        size_t k = extra < sizeof z ? extra : sizeof z;
        bb_raw(b, z, k), extra -= k;
    }
}

/* opens an exact-size heap copy, so ASan sees any read past the end; a file that opens is
 * then reopened over the caller's buffer (which outlives the handle) for inspection */
static int open_copy(gguf_file **f, const void *p, size_t n, fr_err *e) {
    void *c = malloc(n ? n : 1);
    if (n) memcpy(c, p, n);
    e->msg[0] = 0;
    int rc = gguf_open_mem(f, c, n, e);
    if (*f) {
        gguf_close(*f);
        rc = gguf_open_mem(f, p, n, e);
    }
    free(c);
    return rc;
}

/* expects open to fail with a message containing n1 and n2 (either may be NULL) */
static int expect_bad(const bb *b, const char *n1, const char *n2, int line) {
    gguf_file *f = NULL;
    fr_err e;
    int rc = open_copy(&f, b->p, b->n, &e);
    if (!rc || f) {
        gguf_close(f);
        t_fail(__FILE__, line, "accepted a bad file (expected error containing '%s')",
               n1 ? n1 : "");
        return 0;
    }
    if ((n1 && !strstr(e.msg, n1)) || (n2 && !strstr(e.msg, n2)) || !strstr(e.msg, "<memory>")) {
        t_fail(__FILE__, line, "message '%s' lacks '%s' / '%s'", e.msg, n1 ? n1 : "", n2 ? n2 : "");
        return 0;
    }
    return 1;
}
#define EXPECT_BAD(b, n1, n2) expect_bad(b, n1, n2, __LINE__)

static int finish_mem(gguf_writer *w, void **tensors, char **buf, size_t *n) {
    FILE *fp = open_memstream(buf, n);
    fr_err e;
    int rc = gguf_writer_write_header(w, fp, &e);
    for (size_t i = 0; !rc && tensors && tensors[i]; i++)
        rc = gguf_writer_write_tensor(w, fp, (int)i, tensors[i], &e);
    if (!rc) rc = gguf_writer_finish(w, fp, &e);
    fclose(fp);
    if (rc) printf("     writer: %s\n", e.msg);
    return rc;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return rng_state;
}

/* a small file with every value type, nested arrays and three tensors */
static void build_sample(gguf_writer *w) {
    static const uint32_t u32s[] = {1, 2, 0xffffffffu};
    static const float f32s[] = {0.5f, -1.25f};
    static const char *const strs[] = {"a", "", "héllo"};
    gguf_w_str(w, "general.architecture", "llama");
    gguf_w_u32(w, "llama.block_count", 2);
    gguf_w_f32(w, "llama.rope.freq_base", 10000.0f);
    gguf_w_bool(w, "flag", true);
    gguf_w_i8(w, "i8", -5);
    gguf_w_u64(w, "u64", 1ull << 40);
    gguf_w_arr(w, "arr.u32", GGUF_T_UINT32, u32s, 3);
    gguf_w_arr(w, "arr.f32", GGUF_T_FLOAT32, f32s, 2);
    gguf_w_arr_str(w, "arr.str", strs, 3);
    gguf_value inner[2] = {{.type = GGUF_T_ARRAY}, {.type = GGUF_T_ARRAY}};
    inner[0].v.arr.type = GGUF_T_UINT32, inner[0].v.arr.n = 2, inner[0].v.arr.data = u32s;
    inner[1].v.arr.type = GGUF_T_STRING, inner[1].v.arr.n = 0;
    gguf_value outer = {.type = GGUF_T_ARRAY};
    outer.v.arr.type = GGUF_T_ARRAY, outer.v.arr.n = 2, outer.v.arr.items = inner;
    gguf_w_value(w, "arr.nested", &outer);
}

/* ---- round trips ---- */

static void check_values(uint32_t version) {
    gguf_writer *w = gguf_writer_create(version);
    static const char nul_str[] = "a\0b\xe2\x9c\x93"; /* NUL byte and UTF-8 check mark */
    static const int16_t i16s[] = {-32768, 0, 32767};
    static const uint8_t bools[] = {1, 0};
    static const double f64s[] = {1e300, -0.0};
    static const int64_t i64s[] = {INT64_MIN, INT64_MAX};
    static const char *const strs[] = {"", "tok\xc3\xa9", "x"};
    gguf_w_u8(w, "u8", 255);
    gguf_w_i8(w, "i8", -128);
    gguf_w_u16(w, "u16", 65535);
    gguf_w_i16(w, "i16", -32768);
    gguf_w_u32(w, "u32", 0xffffffffu);
    gguf_w_i32(w, "i32", INT32_MIN);
    gguf_w_u64(w, "u64", UINT64_MAX);
    gguf_w_i64(w, "i64", INT64_MIN);
    gguf_w_f32(w, "f32", -3.5f);
    gguf_w_f64(w, "f64", 0.1);
    gguf_w_bool(w, "bool", true);
    gguf_w_bool(w, "bool0", false);
    gguf_w_str(w, "str", "first");
    gguf_w_str(w, "str", "héllo wörld ✓"); /* replaces */
    gguf_w_str(w, "empty", "");
    gguf_value v = {.type = GGUF_T_STRING, .v.str = {sizeof nul_str - 1, nul_str}};
    gguf_w_value(w, "nul", &v);
    gguf_w_arr(w, "a.i16", GGUF_T_INT16, i16s, 3);
    gguf_w_arr(w, "a.bool", GGUF_T_BOOL, bools, 2);
    gguf_w_arr(w, "a.f64", GGUF_T_FLOAT64, f64s, 2);
    gguf_w_arr(w, "a.i64", GGUF_T_INT64, i64s, 2);
    gguf_w_arr(w, "a.empty", GGUF_T_UINT8, NULL, 0);
    gguf_w_arr_str(w, "a.str", strs, 3);
    /* arr[arr[arr[i16]]] : [[[-32768, 0, 32767]], []] */
    gguf_value l3 = {.type = GGUF_T_ARRAY},
               l2[2] = {{.type = GGUF_T_ARRAY}, {.type = GGUF_T_ARRAY}};
    l3.v.arr.type = GGUF_T_INT16, l3.v.arr.n = 3, l3.v.arr.data = i16s;
    l2[0].v.arr.type = GGUF_T_ARRAY, l2[0].v.arr.n = 1, l2[0].v.arr.items = &l3;
    l2[1].v.arr.type = GGUF_T_ARRAY, l2[1].v.arr.n = 0;
    gguf_value l1 = {.type = GGUF_T_ARRAY};
    l1.v.arr.type = GGUF_T_ARRAY, l1.v.arr.n = 2, l1.v.arr.items = l2;
    gguf_w_value(w, "a.nested", &l1);

    char *buf = NULL;
    size_t n = 0;
    int rc = finish_mem(w, NULL, &buf, &n);
    gguf_writer_free(w);
    T_CHECK(rc == 0, "write failed");
    gguf_file *f;
    fr_err e;
    rc = gguf_open_mem(&f, buf, n, &e);
    T_CHECK(rc == 0, "open: %s", e.msg);
    T_EXPECT(f->version == version, "version %u", f->version);
    T_EXPECT(f->n_kv == 22, "n_kv %" PRIu64, f->n_kv);
    const gguf_kv *kv;
#define SCALAR(key, T, field, want)                                                                \
    kv = gguf_find(f, key);                                                                        \
    T_EXPECT(kv && kv->val.type == T && kv->val.v.field == (want), "key %s", key)
    SCALAR("u8", GGUF_T_UINT8, u64, 255);
    SCALAR("i8", GGUF_T_INT8, i64, -128);
    SCALAR("u16", GGUF_T_UINT16, u64, 65535);
    SCALAR("i16", GGUF_T_INT16, i64, -32768);
    SCALAR("u32", GGUF_T_UINT32, u64, 0xffffffffu);
    SCALAR("i32", GGUF_T_INT32, i64, INT32_MIN);
    SCALAR("u64", GGUF_T_UINT64, u64, UINT64_MAX);
    SCALAR("i64", GGUF_T_INT64, i64, INT64_MIN);
    SCALAR("f32", GGUF_T_FLOAT32, f64, -3.5);
    SCALAR("f64", GGUF_T_FLOAT64, f64, 0.1);
    SCALAR("bool", GGUF_T_BOOL, b, true);
    SCALAR("bool0", GGUF_T_BOOL, b, false);
#undef SCALAR
    kv = gguf_find(f, "str");
    T_EXPECT(kv && gguf_str_eq(kv->val.v.str, "héllo wörld ✓"), "str");
    kv = gguf_find(f, "empty");
    T_EXPECT(kv && kv->val.v.str.len == 0, "empty str");
    kv = gguf_find(f, "nul");
    T_EXPECT(kv && kv->val.v.str.len == sizeof nul_str - 1 &&
                 !memcmp(kv->val.v.str.ptr, nul_str, sizeof nul_str - 1),
             "string with NUL");
    const gguf_value *a;
    T_CHECK(gguf_get_arr(f, "a.i16", GGUF_T_INT16, &a, &e) == 0, "%s", e.msg);
    T_EXPECT(a->v.arr.n == 3 && gguf_arr_i64(a, 0) == -32768 && gguf_arr_i64(a, 2) == 32767 &&
                 gguf_arr_f64(a, 0) == -32768.0,
             "a.i16");
    T_CHECK(gguf_get_arr(f, "a.bool", GGUF_T_BOOL, &a, &e) == 0, "%s", e.msg);
    T_EXPECT(gguf_arr_i64(a, 0) == 1 && gguf_arr_i64(a, 1) == 0, "a.bool");
    T_CHECK(gguf_get_arr(f, "a.f64", GGUF_T_FLOAT64, &a, &e) == 0, "%s", e.msg);
    T_EXPECT(gguf_arr_f64(a, 0) == 1e300 && gguf_arr_f64(a, 1) == 0.0, "a.f64");
    T_CHECK(gguf_get_arr(f, "a.i64", GGUF_T_INT64, &a, &e) == 0, "%s", e.msg);
    T_EXPECT(gguf_arr_i64(a, 0) == INT64_MIN && gguf_arr_i64(a, 1) == INT64_MAX, "a.i64");
    T_CHECK(gguf_get_arr(f, "a.empty", GGUF_T_COUNT, &a, &e) == 0, "%s", e.msg);
    T_EXPECT(a->v.arr.n == 0 && a->v.arr.type == GGUF_T_UINT8, "a.empty");
    T_CHECK(gguf_get_arr(f, "a.str", GGUF_T_STRING, &a, &e) == 0, "%s", e.msg);
    T_EXPECT(a->v.arr.n == 3 && gguf_str_eq(a->v.arr.strs[0], "") &&
                 gguf_str_eq(a->v.arr.strs[1], "tok\xc3\xa9") && gguf_str_eq(a->v.arr.strs[2], "x"),
             "a.str");
    T_CHECK(gguf_get_arr(f, "a.nested", GGUF_T_ARRAY, &a, &e) == 0, "%s", e.msg);
    T_CHECK(a->v.arr.n == 2 && a->v.arr.items[0].v.arr.type == GGUF_T_ARRAY &&
                a->v.arr.items[0].v.arr.n == 1 && a->v.arr.items[1].v.arr.n == 0,
            "a.nested shape");
    const gguf_value *in = &a->v.arr.items[0].v.arr.items[0];
    T_EXPECT(in->type == GGUF_T_ARRAY && in->v.arr.type == GGUF_T_INT16 && in->v.arr.n == 3 &&
                 gguf_arr_i64(in, 0) == -32768 && gguf_arr_i64(in, 1) == 0,
             "a.nested innermost");
    char s[128];
    gguf_value_format(s, sizeof s, a, 4);
    T_EXPECT(!strcmp(s, "[arr x 2: [arr x 1: [i16 x 3: -32768, 0, 32767]], [arr x 0]]"),
             "format: %s", s);
    gguf_close(f);
    free(buf);
}

static void values_v3(void) {
    check_values(3);
}
static void values_v2(void) {
    check_values(2);
}

static void getters(void) {
    gguf_writer *w = gguf_writer_create(3);
    char *buf = NULL;
    size_t n = 0;
    build_sample(w);
    int rc = finish_mem(w, NULL, &buf, &n);
    gguf_writer_free(w);
    T_CHECK(rc == 0, "write");
    gguf_file *f;
    fr_err e;
    T_CHECK(gguf_open_mem(&f, buf, n, &e) == 0, "%s", e.msg);
    uint32_t u = 7;
    int32_t i = 7;
    uint64_t u64 = 7;
    float fl = 7;
    bool b = false;
    gguf_str s;
    T_EXPECT(gguf_get_u32(f, "missing", &u, &e) == 1 && u == 7, "absent key must return 1");
    T_EXPECT(gguf_get_u32(f, "llama.block_count", &u, &e) == 0 && u == 2, "u32");
    T_EXPECT(gguf_get_i32(f, "llama.block_count", &i, &e) == 0 && i == 2, "i32 from u32");
    T_EXPECT(gguf_get_i32(f, "i8", &i, &e) == 0 && i == -5, "i32 from i8");
    T_EXPECT(gguf_get_u64(f, "u64", &u64, &e) == 0 && u64 == 1ull << 40, "u64");
    T_EXPECT(gguf_get_f32(f, "llama.rope.freq_base", &fl, &e) == 0 && fl == 10000.0f, "f32");
    T_EXPECT(gguf_get_bool(f, "flag", &b, &e) == 0 && b, "bool");
    T_EXPECT(gguf_get_str(f, "general.architecture", &s, &e) == 0 && gguf_str_eq(s, "llama"),
             "str");
    u = 7;
    T_EXPECT(gguf_get_u32(f, "i8", &u, &e) == FR_EFORMAT && u == 7 && strstr(e.msg, "'i8'") &&
                 strstr(e.msg, "-5"),
             "negative into u32: %s", e.msg);
    T_EXPECT(gguf_get_u32(f, "u64", &u, &e) == FR_EFORMAT && strstr(e.msg, "out of range"),
             "2^40 into u32: %s", e.msg);
    T_EXPECT(gguf_get_u32(f, "general.architecture", &u, &e) == FR_EFORMAT &&
                 strstr(e.msg, "general.architecture") && strstr(e.msg, "u32") &&
                 strstr(e.msg, "str"),
             "wrong type: %s", e.msg);
    T_EXPECT(gguf_get_str(f, "flag", &s, &e) == FR_EFORMAT && strstr(e.msg, "bool"), "%s", e.msg);
    T_EXPECT(gguf_get_f32(f, "flag", &fl, &e) == FR_EFORMAT, "bool as f32");
    T_EXPECT(gguf_get_bool(f, "u64", &b, &e) == FR_EFORMAT, "u64 as bool");
    const gguf_value *a;
    T_EXPECT(gguf_get_arr(f, "arr.u32", GGUF_T_FLOAT32, &a, &e) == FR_EFORMAT &&
                 strstr(e.msg, "arr[f32]") && strstr(e.msg, "arr[u32]"),
             "%s", e.msg);
    T_EXPECT(gguf_get_arr(f, "flag", GGUF_T_COUNT, &a, &e) == FR_EFORMAT, "bool as array");
    T_EXPECT(gguf_find(f, "arr.") == NULL && gguf_find(f, "") == NULL, "prefix lookups");
    char c[4];
    T_EXPECT(!strcmp(gguf_str_copy(c, sizeof c, s), "lla"), "str_copy truncates: %s", c);
    gguf_close(f);
    free(buf);
}

/* tensors with data, written to a file and read back through mmap */
static void check_tensors(uint32_t version, uint32_t alignment) {
    enum { NT = 4 };
    static const struct {
        const char *name;
        uint32_t type, n_dims;
        int64_t ne[4];
    } ts[NT] = {
        {"token_embd.weight", 8 /* q8_0 */, 2, {64, 3}},
        {"blk.0.attn_norm.weight", 0 /* f32 */, 1, {5}},
        {"empty", 1 /* f16 */, 2, {0, 4}},
        {"x.4d", 24 /* i8 */, 4, {3, 1, 2, 2}},
    };
    static const size_t want_bytes[NT] = {2 * 34 * 3, 20, 0, 12};
    void *data[NT + 1] = {0};
    gguf_writer *w = gguf_writer_create(version);
    if (alignment) gguf_w_u32(w, "general.alignment", alignment);
    gguf_w_str(w, "general.name", "t");
    for (int i = 0; i < NT; i++) {
        T_CHECK(gguf_w_tensor(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne) == i, "w_tensor");
        data[i] = malloc(want_bytes[i] + 1);
        for (size_t k = 0; k < want_bytes[i]; k++) ((uint8_t *)data[i])[k] = (uint8_t)rng();
    }
    char path[512];
    snprintf(path, sizeof path, "%s/t_%u_%u.gguf", t_tmp_dir(), version, alignment);
    FILE *fp = fopen(path, "wb");
    T_CHECK(fp, "cannot create %s", path);
    fr_err e;
    int rc = gguf_writer_write_header(w, fp, &e);
    /* writing out of order must fail */
    T_EXPECT(rc || gguf_writer_write_tensor(w, fp, 1, data[1], &e) == FR_EINVAL, "out of order");
    for (int i = 0; !rc && i < NT; i++) rc = gguf_writer_write_tensor(w, fp, i, data[i], &e);
    if (!rc) rc = gguf_writer_finish(w, fp, &e);
    fclose(fp);
    gguf_writer_free(w);
    T_CHECK(rc == 0, "write: %s", e.msg);

    gguf_file *f;
    T_CHECK(gguf_open(&f, path, &e) == 0, "open: %s", e.msg);
    uint64_t al = alignment ? alignment : GGUF_DEFAULT_ALIGNMENT;
    T_EXPECT(f->version == version && f->alignment == al, "version %u alignment %" PRIu64,
             f->version, f->alignment);
    T_EXPECT(f->data_offset % al == 0, "data_offset %" PRIu64, f->data_offset);
    T_CHECK(f->n_tensors == NT, "n_tensors");
    for (int i = 0; i < NT; i++) {
        const gguf_tensor *t = gguf_find_tensor(f, ts[i].name);
        T_CHECK(t == &f->tensors[i], "find_tensor %s", ts[i].name);
        T_EXPECT(t->type == ts[i].type && t->n_dims == ts[i].n_dims, "%s type/n_dims", ts[i].name);
        for (int d = 0; d < 4; d++)
            T_EXPECT(t->ne[d] == (d < (int)ts[i].n_dims ? ts[i].ne[d] : 1), "%s ne[%d]", ts[i].name,
                     d);
        T_EXPECT(t->nbytes == want_bytes[i], "%s nbytes %zu", ts[i].name, t->nbytes);
        T_EXPECT(t->offset % al == 0, "%s offset %" PRIu64 " not aligned", ts[i].name, t->offset);
        const uint8_t *p = t->data;
        T_EXPECT(f->mapped && p == f->base + f->data_offset + t->offset && p >= f->base &&
                     p + t->nbytes <= f->base + f->size,
                 "%s: data pointer not in the mapping", ts[i].name);
        T_EXPECT(al > 4096 || (uintptr_t)p % al == 0, "%s: data pointer %p not aligned", ts[i].name,
                 (const void *)p);
        T_EXPECT(!memcmp(p, data[i], t->nbytes), "%s: data differs", ts[i].name);
    }
    T_EXPECT(gguf_find_tensor(f, "nope") == NULL, "absent tensor");
    gguf_close(f);
    for (int i = 0; i < NT; i++) free(data[i]);
    remove(path);
}

static void tensors_v3_default(void) {
    check_tensors(3, 0);
}
static void tensors_v2_align64(void) {
    check_tensors(2, 64);
}
static void tensors_align1(void) {
    check_tensors(3, 1);
}
static void tensors_align_big(void) {
    check_tensors(3, 8192);
}

static void writer_misuse(void) {
    static const int64_t ne[2] = {33, 2};
    char *buf = NULL;
    size_t n = 0;
    fr_err e;
    gguf_writer *w = gguf_writer_create(3);
    T_EXPECT(gguf_w_tensor(w, "bad.q4", 2 /* q4_0 */, 2, ne) < 0, "ne[0]=33 for q4_0 accepted");
    FILE *fp = open_memstream(&buf, &n);
    T_EXPECT(gguf_writer_write_header(w, fp, &e) == FR_EINVAL && strstr(e.msg, "bad.q4") &&
                 strstr(e.msg, "block size"),
             "%s", e.msg);
    fclose(fp), free(buf), gguf_writer_free(w);
    w = gguf_writer_create(3);
    gguf_w_u32(w, "general.alignment", 48);
    fp = open_memstream(&buf, &n);
    T_EXPECT(gguf_writer_write_header(w, fp, &e) == FR_EINVAL && strstr(e.msg, "general.alignment"),
             "%s", e.msg);
    fclose(fp), free(buf), gguf_writer_free(w);
    w = gguf_writer_create(1);
    fp = open_memstream(&buf, &n);
    T_EXPECT(gguf_writer_write_header(w, fp, &e) == FR_EINVAL && strstr(e.msg, "version"), "%s",
             e.msg);
    fclose(fp), free(buf), gguf_writer_free(w);
    w = gguf_writer_create(3);
    T_EXPECT(gguf_w_tensor(w, "a", 0, 1, ne) == 0 && gguf_w_tensor(w, "a", 0, 1, ne) < 0, "dup");
    gguf_writer_free(w);
}

/* ---- hostile input ---- */

static void truncations(void) {
    gguf_writer *w = gguf_writer_create(3);
    static const int64_t ne[2] = {8, 2};
    uint8_t d[64];
    void *data[3] = {d, d, NULL};
    memset(d, 0x5a, sizeof d);
    build_sample(w);
    gguf_w_tensor(w, "a", 0, 1, ne); /* 32 bytes */
    gguf_w_tensor(w, "b", 0, 2, ne); /* 64 bytes: the file ends with its data, no padding */
    char *buf = NULL;
    size_t n = 0;
    int rc = finish_mem(w, data, &buf, &n);
    gguf_writer_free(w);
    T_CHECK(rc == 0, "write");
    gguf_file *f;
    fr_err e;
    T_CHECK(open_copy(&f, buf, n, &e) == 0, "full file: %s", e.msg);
    gguf_close(f);
    for (size_t len = 0; len < n; len++) {
        rc = open_copy(&f, buf, len, &e);
        T_EXPECT(rc < 0 && !f && strstr(e.msg, "<memory>"), "truncated to %zu of %zu: rc %d '%s'",
                 len, n, rc, e.msg);
        if (f) gguf_close(f);
        if (t_failed_now) break;
    }
    free(buf);
}

/* touches everything a consumer would (what the fuzz target does too) */
static uint64_t touch_all(const gguf_file *f) {
    uint64_t h = 0;
    char s[256];
    for (uint64_t i = 0; i < f->n_kv; i++) {
        gguf_value_format(s, sizeof s, &f->kv[i].val, 8);
        h += strlen(s);
    }
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor *t = &f->tensors[i];
        if (t->nbytes)
            h += ((const uint8_t *)t->data)[0] + ((const uint8_t *)t->data)[t->nbytes - 1];
    }
    return h;
}

static void mutations(void) {
    gguf_writer *w = gguf_writer_create(3);
    static const int64_t ne[1] = {32};
    uint8_t d[34];
    void *data[2] = {d, NULL};
    memset(d, 1, sizeof d);
    build_sample(w);
    gguf_w_tensor(w, "q", 8, 1, ne);
    char *buf = NULL;
    size_t n = 0;
    T_CHECK(finish_mem(w, data, &buf, &n) == 0, "write");
    gguf_writer_free(w);
    uint8_t *m = malloc(n);
    int ok = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(m, buf, n);
        int k = 1 + (int)(rng() % 4);
        for (int j = 0; j < k; j++) {
            size_t at = rng() % n;
            m[at] = rng() % 3 == 0 ? (uint8_t)rng() : (uint8_t)(m[at] ^ (1u << (rng() % 8)));
        }
        size_t len = rng() % 8 == 0 ? rng() % (n + 1) : n;
        gguf_file *f;
        fr_err e;
        uint8_t *c = malloc(len ? len : 1);
        memcpy(c, m, len);
        if (gguf_open_mem(&f, c, len, &e) == 0) {
            ok++;
            touch_all(f);
            gguf_close(f);
        } else {
            T_EXPECT(f == NULL && e.msg[0], "failure without message");
        }
        free(c);
    }
    printf("     mutations: %d of 3000 still opened\n", ok);
    free(m);
    free(buf);
}

static void bad_header(void) {
    bb b = {0};
    EXPECT_BAD(&b, "empty", NULL);
    bb_raw(&b, "GGU", 3);
    EXPECT_BAD(&b, "magic", "truncated");
    b.n = 0, bb_raw(&b, "GGML", 4), bb_u32(&b, 3), bb_u64(&b, 0), bb_u64(&b, 0);
    EXPECT_BAD(&b, "magic", "GGML");
    b.n = 0, bb_hdr(&b, 1, 0, 0);
    EXPECT_BAD(&b, "version 1", NULL);
    b.n = 0, bb_hdr(&b, 99, 0, 0);
    EXPECT_BAD(&b, "version 99", NULL);
    b.n = 0, bb_hdr(&b, 0x03000000, 0, 0);
    EXPECT_BAD(&b, "byte-swapped", NULL);
    b.n = 0, bb_hdr(&b, 3, 0, 1ull << 63);
    EXPECT_BAD(&b, "n_kv", NULL);
    b.n = 0, bb_hdr(&b, 3, 1ull << 63, 0), bb_pad(&b, 1, 100);
    EXPECT_BAD(&b, "n_tensors", NULL);
    b.n = 0, bb_hdr(&b, 3, 0, 0);
    gguf_file *f;
    fr_err e;
    T_EXPECT(open_copy(&f, b.p, b.n, &e) == 0 && f->n_kv == 0 && f->n_tensors == 0,
             "minimal file: %s", e.msg);
    gguf_close(f);
    free(b.p);
}

static void bad_kv(void) {
    bb b = {0};
    bb_hdr(&b, 3, 0, 1), bb_u64(&b, 1000), bb_raw(&b, "abcdefghijklmn", 14);
    EXPECT_BAD(&b, "kv #0", "string length 1000");
    b.n = 0, bb_hdr(&b, 3, 0, 1), bb_str(&b, "my.key"), bb_u32(&b, GGUF_T_STRING), bb_u64(&b, 1000),
    bb_raw(&b, "xy", 2);
    EXPECT_BAD(&b, "'my.key'", "string length 1000");
    b.n = 0, bb_hdr(&b, 3, 0, 1), bb_str(&b, "my.arr"), bb_u32(&b, GGUF_T_ARRAY),
    bb_u32(&b, GGUF_T_UINT32), bb_u64(&b, 1ull << 62), bb_pad(&b, 1, 64);
    EXPECT_BAD(&b, "'my.arr'", "array of 4611686018427387904");
    b.n = 0, bb_hdr(&b, 3, 0, 1), bb_str(&b, "my.strs"), bb_u32(&b, GGUF_T_ARRAY),
    bb_u32(&b, GGUF_T_STRING), bb_u64(&b, UINT64_MAX), bb_pad(&b, 1, 64);
    EXPECT_BAD(&b, "'my.strs'", "array of");
    b.n = 0, bb_hdr(&b, 3, 0, 1), bb_str(&b, "deep"), bb_u32(&b, GGUF_T_ARRAY);
    for (int i = 0; i < GGUF_MAX_ARRAY_DEPTH; i++) bb_u32(&b, GGUF_T_ARRAY), bb_u64(&b, 1);
    bb_u32(&b, GGUF_T_UINT8), bb_u64(&b, 1), bb_pad(&b, 1, 16);
    EXPECT_BAD(&b, "'deep'", "nested deeper");
    b.n = 0, bb_hdr(&b, 3, 0, 1), bb_str(&b, "deep.ok"), bb_u32(&b, GGUF_T_ARRAY);
    for (int i = 0; i < GGUF_MAX_ARRAY_DEPTH - 1; i++) bb_u32(&b, GGUF_T_ARRAY), bb_u64(&b, 1);
    bb_u32(&b, GGUF_T_UINT8), bb_u64(&b, 1), bb_pad(&b, 1, 1);
    gguf_file *f;
    fr_err e;
    T_EXPECT(open_copy(&f, b.p, b.n, &e) == 0, "depth %d must be accepted: %s",
             GGUF_MAX_ARRAY_DEPTH, e.msg);
    gguf_close(f);
    b.n = 0, bb_hdr(&b, 3, 0, 1), bb_str(&b, "weird"), bb_u32(&b, 13), bb_pad(&b, 1, 16);
    EXPECT_BAD(&b, "'weird'", "unknown value type 13");
    b.n = 0, bb_hdr(&b, 3, 0, 1), bb_str(&b, "weird.arr"), bb_u32(&b, GGUF_T_ARRAY), bb_u32(&b, 77),
    bb_u64(&b, 1), bb_pad(&b, 1, 16);
    EXPECT_BAD(&b, "'weird.arr'", "77");
    b.n = 0, bb_hdr(&b, 3, 0, 2), bb_kv_u32(&b, "dup", 1), bb_kv_u32(&b, "dup", 2);
    EXPECT_BAD(&b, "'dup'", "duplicate");
    b.n = 0, bb_hdr(&b, 3, 0, 1), bb_kv_u32(&b, "general.alignment", 0);
    EXPECT_BAD(&b, "general.alignment", "power of two");
    b.n = 0, bb_hdr(&b, 3, 0, 1), bb_kv_u32(&b, "general.alignment", 48);
    EXPECT_BAD(&b, "general.alignment", "48");
    b.n = 0, bb_hdr(&b, 3, 0, 1), bb_str(&b, "general.alignment"), bb_u32(&b, GGUF_T_UINT64),
    bb_u64(&b, 32);
    EXPECT_BAD(&b, "general.alignment", "u64");
    /* lenient: bool byte 2 reads as true */
    b.n = 0, bb_hdr(&b, 3, 0, 1), bb_str(&b, "b"), bb_u32(&b, GGUF_T_BOOL), bb_le(&b, 2, 1);
    bool v = false;
    T_EXPECT(open_copy(&f, b.p, b.n, &e) == 0 && gguf_get_bool(f, "b", &v, &e) == 0 && v,
             "bool 2: %s", e.msg);
    gguf_close(f);
    free(b.p);
}

/* one tensor info (after a header with alignment 32 and no kv), then data of `data` bytes */
static void one_tensor(bb *b, const char *name, uint32_t n_dims, const int64_t *ne, uint32_t type,
                       uint64_t off, size_t data) {
    b->n = 0;
    bb_hdr(b, 3, 1, 0);
    bb_tinfo(b, name, n_dims, ne, type, off);
    bb_pad(b, 32, data);
}

static void bad_tensors(void) {
    bb b = {0};
    int64_t ne[5] = {32, 2, 1, 1, 1};
    one_tensor(&b, "ok", 2, ne, 0, 0, 256);
    gguf_file *f;
    fr_err e;
    T_CHECK(open_copy(&f, b.p, b.n, &e) == 0 && f->tensors[0].nbytes == 256, "valid: %s", e.msg);
    gguf_close(f);
    one_tensor(&b, "t.unknown", 2, ne, 99, 0, 256);
    EXPECT_BAD(&b, "'t.unknown'", "unknown tensor type 99");
    one_tensor(&b, "t.removed", 2, ne, 4, 0, 256);
    EXPECT_BAD(&b, "'t.removed'", "unknown tensor type 4");
    one_tensor(&b, "t.dims0", 0, ne, 0, 0, 256);
    EXPECT_BAD(&b, "'t.dims0'", "n_dims = 0");
    one_tensor(&b, "t.dims5", 5, ne, 0, 0, 256);
    EXPECT_BAD(&b, "'t.dims5'", "n_dims = 5");
    int64_t neg[2] = {32, -1};
    one_tensor(&b, "t.neg", 2, neg, 0, 0, 256);
    EXPECT_BAD(&b, "'t.neg'", "negative");
    int64_t odd[2] = {33, 1};
    one_tensor(&b, "t.q4", 2, odd, 2, 0, 256);
    EXPECT_BAD(&b, "'t.q4'", "block size 32");
    int64_t huge[3] = {1ll << 40, 1ll << 20, 1ll << 10};
    one_tensor(&b, "t.huge", 3, huge, 0, 0, 256);
    EXPECT_BAD(&b, "'t.huge'", "overflow");
    int64_t big[1] = {(1ll << 62) / 2};
    one_tensor(&b, "t.bytes", 1, big, 0, 0, 256); /* 2^61 elements * 4 bytes */
    EXPECT_BAD(&b, "'t.bytes'", "overflow");
    one_tensor(&b, "t.past", 2, ne, 0, 0, 255);
    EXPECT_BAD(&b, "'t.past'", "extends past end of file");
    one_tensor(&b, "t.far", 2, ne, 0, 1ull << 63, 256);
    EXPECT_BAD(&b, "'t.far'", "past end");
    one_tensor(&b, "t.misaligned", 2, ne, 0, 16, 512);
    EXPECT_BAD(&b, "'t.misaligned'", "alignment 32");
    char longname[70];
    memset(longname, 'n', 64), longname[64] = 0;
    one_tensor(&b, longname, 2, ne, 0, 0, 256);
    EXPECT_BAD(&b, "nnnnnnnn", "limit is 63");
    longname[63] = 0;
    one_tensor(&b, longname, 2, ne, 0, 0, 256);
    T_EXPECT(open_copy(&f, b.p, b.n, &e) == 0, "63-byte name: %s", e.msg);
    gguf_close(f);
    /* two tensors */
    b.n = 0, bb_hdr(&b, 3, 2, 0), bb_tinfo(&b, "first", 2, ne, 0, 0),
    bb_tinfo(&b, "second", 2, ne, 0, 128), bb_pad(&b, 32, 512);
    EXPECT_BAD(&b, "'first'", "'second'"); /* [0,256) and [128,384) overlap */
    b.n = 0, bb_hdr(&b, 3, 2, 0), bb_tinfo(&b, "same", 2, ne, 0, 0),
    bb_tinfo(&b, "same", 2, ne, 0, 256), bb_pad(&b, 32, 512);
    EXPECT_BAD(&b, "'same'", "duplicate");
    b.n = 0, bb_hdr(&b, 3, 2, 0), bb_tinfo(&b, "hi", 2, ne, 0, 256),
    bb_tinfo(&b, "lo", 2, ne, 0, 0), bb_pad(&b, 32, 512);
    T_EXPECT(open_copy(&f, b.p, b.n, &e) == 0, "out-of-order offsets are fine: %s", e.msg);
    gguf_close(f);
    /* tensor under a custom alignment */
    b.n = 0, bb_hdr(&b, 3, 1, 1), bb_kv_u32(&b, "general.alignment", 256),
    bb_tinfo(&b, "al", 2, ne, 0, 32), bb_pad(&b, 256, 1024);
    EXPECT_BAD(&b, "'al'", "alignment 256");
    free(b.p);
}

static void open_errors(void) {
    gguf_file *f;
    fr_err e;
    char path[512];
    T_EXPECT(gguf_open(&f, "/nonexistent/x.gguf", &e) == FR_EIO && !f &&
                 strstr(e.msg, "/nonexistent/x.gguf"),
             "%s", e.msg);
    snprintf(path, sizeof path, "%s/empty.gguf", t_tmp_dir());
    FILE *fp = fopen(path, "wb");
    T_CHECK(fp, "create");
    fclose(fp);
    T_EXPECT(gguf_open(&f, path, &e) == FR_EFORMAT && !f && strstr(e.msg, path) &&
                 strstr(e.msg, "empty"),
             "%s", e.msg);
    fp = fopen(path, "wb");
    fwrite("GGUF\3\0", 1, 6, fp);
    fclose(fp);
    T_EXPECT(gguf_open(&f, path, &e) == FR_EFORMAT && !f && strstr(e.msg, path) &&
                 strstr(e.msg, "truncated"),
             "%s", e.msg);
    remove(path);
    T_EXPECT(gguf_open(&f, t_tmp_dir(), &e) == FR_EIO && strstr(e.msg, "directory"), "%s", e.msg);
}

/* llama.cpp's vocab files (written by gguf-py, an independent writer): each must open, and
 * writing its metadata back must reproduce the file byte for byte (plus header padding) */
static void shared_vocab(void) {
    char dir[600], path[1200];
    const char *sh = t_shared_dir();
    DIR *d;
    if (!sh || (snprintf(dir, sizeof dir, "%s/vocab", sh), !(d = opendir(dir)))) {
        t_skip("no shared vocab dir");
        return;
    }
    int n_files = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 5, ".gguf")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        gguf_file *f;
        fr_err e;
        T_EXPECT(gguf_open(&f, path, &e) == 0, "%s", e.msg);
        if (!f) continue;
        n_files++;
        const gguf_value *tok;
        T_EXPECT(gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_T_STRING, &tok, &e) == 0 &&
                     tok->v.arr.n > 100,
                 "%s: tokens: %s", path, e.msg);
        gguf_writer *w = gguf_writer_create(f->version);
        char key[256];
        for (uint64_t i = 0; i < f->n_kv; i++)
            gguf_w_value(w, gguf_str_copy(key, sizeof key, f->kv[i].key), &f->kv[i].val);
        char *buf = NULL;
        size_t n = 0;
        T_EXPECT(f->n_tensors == 0, "%s: vocab file with tensors", path);
        if (finish_mem(w, NULL, &buf, &n) == 0) {
            size_t diff = 0;
            while (diff < n && diff < f->size && buf[diff] == (char)f->base[diff]) diff++;
            T_EXPECT(n >= f->size && diff == f->size,
                     "%s: rewrite differs at byte %zu (sizes %zu, %zu)", path, diff, n, f->size);
            for (size_t k = f->size; k < n; k++) T_EXPECT(buf[k] == 0, "%s: padding", path);
        }
        free(buf);
        gguf_writer_free(w);
        gguf_close(f);
    }
    closedir(d);
    printf("     %d vocab files opened and rewritten\n", n_files);
    T_EXPECT(n_files > 0, "no .gguf in %s", dir);
}

/* the private block table must agree with src/quant's (when that is linked in) */
#pragma weak fr_type_get
static void type_table(void) {
    const char *name;
    uint32_t bs, ts;
    T_EXPECT(gguf_type_info(12, &name, &bs, &ts) && !strcmp(name, "q4_K") && bs == 256 && ts == 144,
             "q4_K");
    T_EXPECT(!gguf_type_info(4, &name, NULL, NULL) && !strcmp(name, "?"), "type 4 removed");
    T_EXPECT(!gguf_type_info(1000, NULL, NULL, NULL), "type 1000");
    if (!fr_type_get) {
        t_skip("src/quant not linked: cannot cross-check the block table");
        return;
    }
    for (uint32_t t = 0; t < FR_TYPE_COUNT + 8; t++) {
        const fr_type_traits *q = fr_type_get((fr_type)t);
        bool known = gguf_type_info(t, &name, &bs, &ts);
        if (!q || !q->blck_size) {
            T_EXPECT(!known, "type %u known here but not in src/quant", t);
            continue;
        }
        T_EXPECT(
            known && bs == (uint32_t)q->blck_size && ts == q->type_size && !strcmp(name, q->name),
            "type %u: %s %u %u vs %s %d %zu", t, name, bs, ts, q->name, q->blck_size, q->type_size);
    }
}

/* seeds for the fuzzer: small valid files; written to $FRUGAL_GGUF_CORPUS when set */
static void corpus_seeds(void) {
    const char *dir = getenv("FRUGAL_GGUF_CORPUS");
    for (int s = 0; s < 4; s++) {
        gguf_writer *w = gguf_writer_create(s == 1 ? 2 : 3);
        static const int64_t ne1[1] = {32}, ne2[2] = {256, 1};
        uint8_t d[256];
        void *data[3] = {d, d, NULL};
        memset(d, 0x3c, sizeof d);
        if (s == 0 || s == 3) build_sample(w);
        if (s == 1)
            gguf_w_str(w, "general.architecture", "llama"), gguf_w_u32(w, "general.alignment", 16);
        if (s != 2) gguf_w_tensor(w, "q8", 8, 1, ne1);
        if (s != 2)
            gguf_w_tensor(w, s == 3 ? "q4k" : "f32", s == 3 ? 12 : 0, s == 3 ? 2 : 1,
                          s == 3 ? ne2 : ne1);
        if (s == 2) data[0] = NULL;
        char *buf = NULL;
        size_t n = 0;
        int rc = finish_mem(w, data, &buf, &n);
        gguf_writer_free(w);
        T_CHECK(rc == 0, "seed %d", s);
        gguf_file *f;
        fr_err e;
        T_EXPECT(gguf_open_mem(&f, buf, n, &e) == 0, "seed %d: %s", s, e.msg);
        gguf_close(f);
        if (dir) {
            char path[512];
            snprintf(path, sizeof path, "%s/seed%d.gguf", dir, s);
            FILE *fp = fopen(path, "wb");
            T_EXPECT(fp && fwrite(buf, 1, n, fp) == n, "cannot write %s", path);
            if (fp) fclose(fp);
        }
        free(buf);
    }
}

void suite_gguf(void) {
    T_CASE(values_v3);
    T_CASE(values_v2);
    T_CASE(getters);
    T_CASE(tensors_v3_default);
    T_CASE(tensors_v2_align64);
    T_CASE(tensors_align1);
    T_CASE(tensors_align_big);
    T_CASE(writer_misuse);
    T_CASE(truncations);
    T_CASE(mutations);
    T_CASE(bad_header);
    T_CASE(bad_kv);
    T_CASE(bad_tensors);
    T_CASE(open_errors);
    T_CASE(shared_vocab);
    T_CASE(type_table);
    T_CASE(corpus_seeds);
}
