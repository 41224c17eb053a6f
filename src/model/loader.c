/* loader.c: typed access to "{arch}.*" metadata and checked tensor binding. */
#include "model/loader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *key_of(fr_loader *ld, const char *suffix, char *buf, size_t cap) {
    snprintf(buf, cap, "%s.%s", ld->m->arch_name, suffix);
    return buf;
}

void ld_u32(fr_loader *ld, const char *suffix, uint32_t *out, int required) {
    char key[256];
    if (ld->rc) return;
    key_of(ld, suffix, key, sizeof key);
    int r = gguf_get_u32(ld->m->gguf, key, out, ld->err);
    if (r < 0) ld->rc = r;
    else if (r == 1 && required)
        ld->rc = fr_fail(ld->err, FR_EFORMAT, "%s: required key '%s' is missing", ld->m->path, key);
}

void ld_f32(fr_loader *ld, const char *suffix, float *out, int required) {
    char key[256];
    if (ld->rc) return;
    key_of(ld, suffix, key, sizeof key);
    int r = gguf_get_f32(ld->m->gguf, key, out, ld->err);
    if (r < 0) ld->rc = r;
    else if (r == 1 && required)
        ld->rc = fr_fail(ld->err, FR_EFORMAT, "%s: required key '%s' is missing", ld->m->path, key);
}

void ld_bool(fr_loader *ld, const char *suffix, bool *out, int required) {
    char key[256];
    if (ld->rc) return;
    key_of(ld, suffix, key, sizeof key);
    int r = gguf_get_bool(ld->m->gguf, key, out, ld->err);
    if (r < 0) ld->rc = r;
    else if (r == 1 && required)
        ld->rc = fr_fail(ld->err, FR_EFORMAT, "%s: required key '%s' is missing", ld->m->path, key);
}

void ld_str(fr_loader *ld, const char *suffix, char *buf, size_t cap) {
    char key[256];
    gguf_str s;
    buf[0] = 0;
    if (ld->rc) return;
    key_of(ld, suffix, key, sizeof key);
    int r = gguf_get_str(ld->m->gguf, key, &s, ld->err);
    if (r < 0) ld->rc = r;
    else if (r == 0) gguf_str_copy(buf, cap, s);
}

void ld_require(fr_loader *ld, int cond, const char *fmt, ...) {
    if (ld->rc || cond) return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ld->rc = fr_fail(ld->err, FR_EFORMAT, "%s: %s", ld->m->path, msg);
}

static void fmt_shape(char *buf, size_t cap, int n, const int64_t *ne) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (int i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i ? ", %lld" : "%lld", (long long)ne[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

const fr_tensor *ld_tensor(fr_loader *ld, int required, int n_dims, const int64_t *ne,
                           const char *fmt, ...) {
    char name[128];
    va_list ap;
    if (ld->rc) return NULL;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    fr_model *m = ld->m;
    const gguf_tensor *gt = gguf_find_tensor(m->gguf, name);
    if (!gt) {
        if (required)
            ld->rc = fr_fail(ld->err, FR_EFORMAT, "%s: tensor '%s' is missing (required by arch %s)",
                             m->path, name, m->arch_name);
        return NULL;
    }
    /* shape: dims beyond n_dims must be 1; dims below must match */
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        int64_t want = i < n_dims ? ne[i] : 1;
        if (gt->ne[i] != want) ok = 0;
    }
    if (!ok) {
        char want[96], got[96];
        fmt_shape(want, sizeof want, n_dims, ne);
        fmt_shape(got, sizeof got, (int)gt->n_dims, gt->ne);
        ld->rc = fr_fail(ld->err, FR_EFORMAT, "%s: tensor '%s' has shape %s, expected %s", m->path,
                         name, got, want);
        return NULL;
    }
    const fr_type_traits *tr = fr_type_get((fr_type)gt->type);
    if (!tr->supported) {
        ld->rc = fr_fail(ld->err, FR_EUNSUP,
                         "%s: tensor '%s' has type %s (%u), which frugal cannot compute with yet "
                         "(supported: f32, f16, bf16, q8_0, q4_0, q4_K, q5_K, q6_K)",
                         m->path, name, tr->name, gt->type);
        return NULL;
    }
    if (n_dims == 1 && gt->type != FR_TYPE_F32) {
        ld->rc = fr_fail(ld->err, FR_EUNSUP, "%s: tensor '%s' has type %s, expected f32", m->path,
                         name, tr->name);
        return NULL;
    }
    if (m->n_tensors == m->cap_tensors) {
        /* tensors are referenced by pointer once bound: the array never moves (sized by the
         * file's tensor count in fr_model_load) */
        ld->rc = fr_fail(ld->err, FR_EFORMAT, "%s: tensor '%s' bound twice", m->path, name);
        return NULL;
    }
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].name == gt->name.ptr) {
            ld->rc = fr_fail(ld->err, FR_EFORMAT, "%s: tensor '%s' bound twice", m->path, name);
            return NULL;
        }
    fr_tensor *t = &m->tensors[m->n_tensors++];
    t->name = gt->name.ptr;
    t->type = (fr_type)gt->type;
    t->n_dims = (int)gt->n_dims;
    memcpy(t->ne, gt->ne, sizeof t->ne);
    t->data = gt->data;
    t->nb1 = fr_row_size(t->type, t->ne[0]);
    m->n_params += (uint64_t)(gt->ne[0] * gt->ne[1] * gt->ne[2] * gt->ne[3]);
    m->n_bytes += gt->nbytes;
    return t;
}

void ld_common_hparams(fr_loader *ld, fr_hparams *hp) {
    ld_u32(ld, "context_length", &hp->n_ctx_train, LD_REQUIRED);
    ld_u32(ld, "embedding_length", &hp->n_embd, LD_REQUIRED);
    ld_u32(ld, "block_count", &hp->n_layer, LD_REQUIRED);
    ld_u32(ld, "attention.head_count", &hp->n_head, LD_REQUIRED);
    hp->n_head_kv = hp->n_head;
    ld_u32(ld, "attention.head_count_kv", &hp->n_head_kv, LD_OPTIONAL);
    ld_require(ld, hp->n_embd > 0 && hp->n_layer > 0 && hp->n_head > 0,
               "embedding_length, block_count and head_count must be positive");
    ld_require(ld, hp->n_layer <= 4096 && hp->n_head <= 4096 && hp->n_embd <= (1u << 20),
               "absurd hyper-parameters (block_count %u, head_count %u, embedding_length %u)",
               hp->n_layer, hp->n_head, hp->n_embd);
    ld_require(ld, hp->n_head_kv > 0 && hp->n_head % hp->n_head_kv == 0,
               "head_count %u is not a multiple of head_count_kv %u", hp->n_head, hp->n_head_kv);
    if (ld->rc) return;
    hp->head_dim_k = hp->n_embd / hp->n_head;
    ld_u32(ld, "attention.key_length", &hp->head_dim_k, LD_OPTIONAL);
    hp->head_dim_v = hp->head_dim_k;
    ld_u32(ld, "attention.value_length", &hp->head_dim_v, LD_OPTIONAL);
    hp->rms_eps = 1e-5f;
    ld_f32(ld, "attention.layer_norm_rms_epsilon", &hp->rms_eps, LD_REQUIRED);
    hp->rope_freq_base = 10000.0f;
    ld_f32(ld, "rope.freq_base", &hp->rope_freq_base, LD_OPTIONAL);
    hp->n_rot = hp->head_dim_k;
    ld_u32(ld, "rope.dimension_count", &hp->n_rot, LD_OPTIONAL);
    ld_require(ld, hp->n_rot % 2 == 0 && hp->n_rot <= hp->head_dim_k,
               "rope.dimension_count %u must be even and <= the head size %u", hp->n_rot,
               hp->head_dim_k);
    /* rope scaling: "{arch}.rope.scaling.type" = none|linear|yarn, factor, original ctx */
    char type[32];
    float factor = 0.0f;
    ld_str(ld, "rope.scaling.type", type, sizeof type);
    ld_f32(ld, "rope.scaling.factor", &factor, LD_OPTIONAL);
    if (factor == 0.0f) {
        float scale_linear = 0.0f; /* older files: rope.scale_linear */
        ld_f32(ld, "rope.scale_linear", &scale_linear, LD_OPTIONAL);
        if (scale_linear > 0.0f) { factor = scale_linear; if (!type[0]) strcpy(type, "linear"); }
    }
    hp->rope_freq_scale = 1.0f;
    hp->rope_scaling = FR_ROPE_SCALE_NONE;
    if (!strcmp(type, "linear")) hp->rope_scaling = FR_ROPE_SCALE_LINEAR;
    else if (!strcmp(type, "yarn")) hp->rope_scaling = FR_ROPE_SCALE_YARN;
    else ld_require(ld, !type[0] || !strcmp(type, "none"),
                    "key '%s.rope.scaling.type' is '%s', expected none, linear or yarn",
                    ld->m->arch_name, type);
    if (hp->rope_scaling != FR_ROPE_SCALE_NONE && factor > 0.0f) hp->rope_freq_scale = 1.0f / factor;
    hp->rope_n_ctx_orig = hp->n_ctx_train;
    ld_u32(ld, "rope.scaling.original_context_length", &hp->rope_n_ctx_orig, LD_OPTIONAL);
    hp->yarn_ext_factor = hp->rope_scaling == FR_ROPE_SCALE_YARN ? 1.0f : 0.0f;
    hp->yarn_attn_factor = 1.0f;
    ld_f32(ld, "rope.scaling.attn_factor", &hp->yarn_attn_factor, LD_OPTIONAL);
    hp->yarn_beta_fast = 32.0f;
    hp->yarn_beta_slow = 1.0f;
    ld_f32(ld, "rope.scaling.yarn_beta_fast", &hp->yarn_beta_fast, LD_OPTIONAL);
    ld_f32(ld, "rope.scaling.yarn_beta_slow", &hp->yarn_beta_slow, LD_OPTIONAL);
    ld_f32(ld, "rope.scaling.yarn_log_multiplier", &hp->yarn_log_mul, LD_OPTIONAL);
}

void ld_io_tensors(fr_loader *ld) {
    fr_model *m = ld->m;
    fr_hparams *hp = &m->hp;
    if (ld->rc) return;
    /* the vocabulary size comes from the embedding table */
    const gguf_tensor *te = gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!te) {
        ld->rc = fr_fail(ld->err, FR_EFORMAT, "%s: tensor 'token_embd.weight' is missing", m->path);
        return;
    }
    hp->n_vocab = (uint32_t)te->ne[1];
    uint32_t vs = hp->n_vocab;
    ld_u32(ld, "vocab_size", &vs, LD_OPTIONAL);
    ld_require(ld, vs == hp->n_vocab, "key '%s.vocab_size' is %u but token_embd.weight has %u rows",
               m->arch_name, vs, hp->n_vocab);
    m->tok_embd = LD_T2(ld, LD_REQUIRED, hp->n_embd, hp->n_vocab, "token_embd.weight");
    m->output_norm = LD_T1(ld, LD_REQUIRED, hp->n_embd, "output_norm.weight");
    m->output = LD_T2(ld, LD_OPTIONAL, hp->n_embd, hp->n_vocab, "output.weight");
    if (!m->output) m->output = m->tok_embd;
}
