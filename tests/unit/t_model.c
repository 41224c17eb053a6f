/* t_model.c: shared helpers of the model tests (see t_model.h). */
#include "t_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "t.h"

char *t_path(const char *name) {
    static char buf[8][512];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 512, "%s/%s", t_tmp_dir(), name);
    return p;
}

const char *t_synth(const fr_synth_spec *s, const char *name) {
    const char *path = t_path(name);
    fr_err e;
    if (fr_synth_write(s, path, &e)) {
        printf("synth failed: %s\n", e.msg);
        return NULL;
    }
    return path;
}

int t_rewrite(const char *src, const char *dst, t_mutation mu) {
    gguf_file *f;
    fr_err e;
    if (gguf_open(&f, src, &e)) return -1;
    gguf_writer *w = gguf_writer_create(3);
    int key_done = 0;
    for (uint64_t i = 0; i < f->n_kv; i++) {
        char k[256];
        gguf_str_copy(k, sizeof k, f->kv[i].key);
        if (mu.drop_key && !strcmp(k, mu.drop_key)) continue;
        if (mu.key && !strcmp(k, mu.key))
            gguf_w_u32(w, k, mu.key_val), key_done = 1;
        else if (mu.str_key && !strcmp(k, mu.str_key))
            gguf_w_str(w, k, mu.str_val);
        else
            gguf_w_value(w, k, &f->kv[i].val);
    }
    if (mu.key && !key_done) gguf_w_u32(w, mu.key, mu.key_val);
    int idx[4096], n = 0;
    for (uint64_t i = 0; i < f->n_tensors && n < 4096; i++) {
        char name[256];
        gguf_str_copy(name, sizeof name, f->tensors[i].name);
        if (mu.drop_tensor && !strcmp(name, mu.drop_tensor)) continue;
        int64_t ne[4];
        memcpy(ne, f->tensors[i].ne, sizeof ne);
        uint32_t nd = f->tensors[i].n_dims;
        if (mu.reshape && !strcmp(name, mu.reshape)) {
            ne[mu.dim] = mu.val;
            if ((uint32_t)mu.dim >= nd) nd = (uint32_t)mu.dim + 1;
        }
        gguf_w_tensor(w, name, f->tensors[i].type, nd, ne);
        idx[n++] = (int)i;
    }
    FILE *fp = fopen(dst, "wb");
    int rc = fp ? gguf_writer_write_header(w, fp, &e) : -1;
    for (int j = 0; j < n && !rc; j++) {
        const gguf_tensor *t = &f->tensors[idx[j]];
        char name[256];
        gguf_str_copy(name, sizeof name, t->name);
        if (mu.reshape && !strcmp(name, mu.reshape) && mu.val > t->ne[mu.dim]) {
            /* a grown tensor would read past its data: give the writer a zeroed copy */
            size_t big = t->nbytes / (size_t)t->ne[mu.dim] * (size_t)mu.val;
            void *z = calloc(1, big);
            memcpy(z, t->data, t->nbytes);
            rc = gguf_writer_write_tensor(w, fp, j, z, &e);
            free(z);
        } else {
            rc = gguf_writer_write_tensor(w, fp, j, t->data, &e);
        }
    }
    if (!rc) rc = gguf_writer_finish(w, fp, &e);
    if (fp) fclose(fp);
    gguf_writer_free(w);
    gguf_close(f);
    return rc;
}

void t_expect_load_error(const char *path, const char *needle1, const char *needle2) {
    fr_model *m = NULL;
    fr_err e = {{0}};
    int rc = fr_model_load(&m, path, &e);
    if (rc == 0) fr_model_free(m);
    T_CHECK(rc < 0, "load of %s succeeded", path);
    T_CHECK(strstr(e.msg, needle1) && (!needle2 || strstr(e.msg, needle2)),
            "message '%s' lacks '%s'/'%s'", e.msg, needle1, needle2 ? needle2 : "");
}

fr_ctx *t_make_ctx(const fr_model *m, int n_seq, int threads, fr_type kv) {
    fr_ctx_params p = fr_ctx_default_params();
    p.n_ctx = 256;
    p.n_batch = 64;
    p.kv_type = kv;
    p.n_seq = n_seq;
    p.n_threads = threads;
    fr_ctx *c;
    fr_err e;
    if (fr_ctx_create(&c, m, &p, &e)) {
        printf("ctx: %s\n", e.msg);
        return NULL;
    }
    return c;
}

int t_eval(fr_ctx *c, const int32_t *ids, const int32_t *seq, int n, int chunk, float *out) {
    int32_t pos[256];
    int8_t want[256];
    int32_t next[8] = {0};
    fr_err e;
    int nv = (int)c->m->hp.n_vocab;
    if (n > 256) return -1;
    for (int i = 0; i < n; i++) {
        int s = seq ? seq[i] : 0;
        if (s < 0 || s >= 8) return -1;
        pos[i] = fr_ctx_seq_len(c, s) + next[s]++, want[i] = 1;
    }
    for (int i0 = 0; i0 < n; i0 += chunk) {
        int nb = n - i0 < chunk ? n - i0 : chunk;
        fr_batch b = {nb, ids + i0, pos + i0, seq ? seq + i0 : NULL, want + i0};
        if (fr_decode(c, &b, &e)) {
            printf("decode: %s\n", e.msg);
            return -1;
        }
        for (int j = 0; j < nb; j++)
            memcpy(out + (size_t)(i0 + j) * nv, fr_ctx_logits(c, j), sizeof(float) * nv);
    }
    return 0;
}

float t_max_diff(const float *a, const float *b, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= m)) m = d;
    }
    return m;
}
