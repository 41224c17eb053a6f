/* fuzz_gguf.c: libFuzzer target for the GGUF reader. Opens the input with gguf_open_mem,
 * touches every kv (formatted, typed getters, array elements) and every tensor's first and
 * last data byte, and when the file opened and has no key with an embedded NUL, writes it
 * back with the writer and checks that the copy opens with the same keys and tensors. */
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"

static volatile uint64_t sink;

static void touch_value(const gguf_value *v, int depth) {
    if (v->type == GGUF_T_STRING) {
        if (v->v.str.len) sink += (unsigned char)v->v.str.ptr[v->v.str.len - 1];
    } else if (v->type == GGUF_T_ARRAY) {
        for (uint64_t i = 0; i < v->v.arr.n; i++) {
            gguf_vtype t = v->v.arr.type;
            if (t == GGUF_T_STRING) {
                gguf_value s = {.type = GGUF_T_STRING, .v.str = v->v.arr.strs[i]};
                touch_value(&s, depth);
            } else if (t == GGUF_T_ARRAY) {
                if (depth > GGUF_MAX_ARRAY_DEPTH) abort();
                touch_value(&v->v.arr.items[i], depth + 1);
            } else {
                sink += (uint64_t)gguf_arr_i64(v, i) + (gguf_arr_f64(v, i) > 0);
            }
        }
    }
}

static int has_nul(gguf_str s) {
    return s.len && memchr(s.ptr, 0, (size_t)s.len) != NULL;
}

/* writer round trip of an accepted file: the copy must open and agree */
static void rewrite(const gguf_file *f) {
    gguf_writer *w = gguf_writer_create(f->version);
    char key[4096];
    for (uint64_t i = 0; i < f->n_kv; i++) {
        if (has_nul(f->kv[i].key) || f->kv[i].key.len >= sizeof key) goto out;
        gguf_w_value(w, gguf_str_copy(key, sizeof key, f->kv[i].key), &f->kv[i].val);
    }
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor *t = &f->tensors[i];
        if (has_nul(t->name)) goto out;
        if (gguf_w_tensor(w, gguf_str_copy(key, sizeof key, t->name), t->type, t->n_dims, t->ne) !=
            (int)i)
            abort();
    }
    char *buf = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&buf, &n);
    fr_err e;
    int rc = gguf_writer_write_header(w, fp, &e);
    for (uint64_t i = 0; !rc && i < f->n_tensors; i++)
        rc = gguf_writer_write_tensor(w, fp, (int)i, f->tensors[i].data, &e);
    if (!rc) rc = gguf_writer_finish(w, fp, &e);
    fclose(fp);
    if (rc) abort(); /* an accepted file must be writable */
    gguf_file *g;
    if (gguf_open_mem(&g, buf, n, &e)) abort();
    if (g->n_kv != f->n_kv || g->n_tensors != f->n_tensors || g->alignment != f->alignment) abort();
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor *a = &f->tensors[i], *b = &g->tensors[i];
        if (a->nbytes != b->nbytes || a->type != b->type || memcmp(a->ne, b->ne, sizeof a->ne) ||
            memcmp(a->data, b->data, a->nbytes))
            abort();
    }
    gguf_close(g);
    free(buf);
out:
    gguf_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf_file *f;
    fr_err e;
    if (gguf_open_mem(&f, data, size, &e)) {
        if (f || !e.msg[0]) abort();
        return 0;
    }
    char buf[512], key[256];
    for (uint64_t i = 0; i < f->n_kv; i++) {
        const gguf_kv *kv = &f->kv[i];
        gguf_value_format(buf, sizeof buf, &kv->val, 16);
        touch_value(&kv->val, 1);
        gguf_str_copy(key, sizeof key, kv->key);
        if (!has_nul(kv->key) && kv->key.len < sizeof key && gguf_find(f, key) != kv) abort();
        uint32_t u;
        int32_t s;
        uint64_t u64;
        float fl;
        bool b;
        gguf_str str;
        const gguf_value *arr;
        gguf_get_u32(f, key, &u, &e);
        gguf_get_i32(f, key, &s, &e);
        gguf_get_u64(f, key, &u64, &e);
        gguf_get_f32(f, key, &fl, &e);
        gguf_get_bool(f, key, &b, &e);
        gguf_get_str(f, key, &str, &e);
        gguf_get_arr(f, key, GGUF_T_COUNT, &arr, &e);
    }
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor *t = &f->tensors[i];
        const uint8_t *p = t->data;
        if (p < f->base || p + t->nbytes > f->base + f->size) abort();
        if (t->nbytes) sink += p[0] + p[t->nbytes - 1];
        gguf_str_copy(key, sizeof key, t->name);
        if (!has_nul(t->name) && gguf_find_tensor(f, key) != t) abort();
    }
    if (f->alignment <= 65536) rewrite(f); /* the copy is padded to the alignment (up to 2^31) */
    gguf_close(f);
    return 0;
}
