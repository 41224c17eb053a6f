/* synth.c: writes synthetic GGUF models (see synth.h). Tensors are planned first (names,
 * shapes, init), the header is written, then each tensor is generated, quantized with the
 * reference quantizer and streamed to the file, so memory stays at one tensor. */
#include "synth/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "tok/tok.h"

typedef enum { INIT_LINEAR, INIT_EMBD, INIT_NORM, INIT_BIAS, INIT_ROPE_FREQS } init_kind;

typedef struct {
    char name[96];
    fr_type type;
    uint32_t n_dims;
    int64_t ne[3];
    init_kind init;
    float std;
} plan_t;

typedef struct {
    const fr_synth_spec *s;
    plan_t *p;
    int n, cap;
    uint64_t rng[2];
} synth_t;

static uint64_t rng_next(uint64_t *s) { /* xorshift128+ */
    uint64_t a = s[0], b = s[1];
    s[0] = b;
    a ^= a << 23;
    s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
    return s[1] + b;
}

static float rng_gauss(uint64_t *s) {
    double u1 = ((double)(rng_next(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    double u2 = (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

static void add(synth_t *sy, init_kind init, fr_type type, float std, int n_dims, int64_t a,
                int64_t b, int64_t c, const char *fmt, int il) {
    if (sy->n == sy->cap) sy->p = fr_xrealloc(sy->p, sizeof(plan_t) * (size_t)(sy->cap = sy->cap * 2 + 16));
    plan_t *p = &sy->p[sy->n++];
    snprintf(p->name, sizeof p->name, fmt, il);
    p->type = n_dims == 1 ? FR_TYPE_F32 : type;
    p->n_dims = (uint32_t)n_dims;
    p->ne[0] = a, p->ne[1] = b, p->ne[2] = c;
    p->init = init;
    p->std = std;
}

#define LIN(sy, a, b, fmt, il) add(sy, INIT_LINEAR, (sy)->s->type, 1.0f / sqrtf((float)(a)), 2, a, b, 1, fmt, il)
#define LIN3(sy, a, b, c, fmt, il) add(sy, INIT_LINEAR, (sy)->s->type, 1.0f / sqrtf((float)(a)), 3, a, b, c, fmt, il)
/* MoE/MLA weights whose rows do not fit the type's block fall back as llama-quantize does:
 * to q8_0 when rows are a multiple of 32, else f16 */
static fr_type fit_type(fr_type t, int64_t ne0) {
    if (ne0 % fr_type_get(t)->blck_size == 0) return t;
    return ne0 % 32 == 0 ? FR_TYPE_Q8_0 : FR_TYPE_F16;
}
#define LINF(sy, a, b, fmt, il) add(sy, INIT_LINEAR, fit_type((sy)->s->type, a), 1.0f / sqrtf((float)(a)), 2, a, b, 1, fmt, il)
#define LIN3F(sy, a, b, c, fmt, il) add(sy, INIT_LINEAR, fit_type((sy)->s->type, a), 1.0f / sqrtf((float)(a)), 3, a, b, c, fmt, il)
#define NORM(sy, a, fmt, il) add(sy, INIT_NORM, FR_TYPE_F32, 0.1f, 1, a, 1, 1, fmt, il)
#define BIAS(sy, a, fmt, il) add(sy, INIT_BIAS, FR_TYPE_F32, 0.1f, 1, a, 1, 1, fmt, il)

fr_synth_spec fr_synth_default(const char *arch) {
    fr_synth_spec s = {0};
    s.arch = arch;
    s.type = FR_TYPE_F32;
    s.seed = 1;
    s.n_vocab = 512;
    s.n_embd = 64;
    s.n_layer = 2;
    s.n_head = 4;
    s.n_head_kv = 2;
    s.head_dim = 16;
    s.n_ff = 128;
    s.n_ctx = 2048;
    s.rope_base = 10000.0f;
    s.rope_factor = 1.0f;
    s.tok_model = "gpt2";
    s.out_scale = 1.0f;
    if (!strcmp(arch, "qwen3moe") || !strcmp(arch, "deepseek2")) {
        s.n_expert = 8;
        s.n_expert_used = 2;
        s.n_ff_exp = 32;
        s.norm_topk = true;
        s.gating = 1;
        s.expert_weights_scale = 1.0f;
    }
    if (!strcmp(arch, "deepseek2")) {
        s.n_expert_shared = 1;
        s.n_layer_dense_lead = 1;
        s.kv_lora_rank = 32;
        s.qk_nope = 16;
        s.qk_rope = 16;
        s.v_head_dim = 16;
        s.rope_base = 10000.0f;
        s.yarn_log_mul = 0.1f;
    }
    return s;
}

static void plan_attn_gqa(synth_t *sy, int il, int bias, int qk_norm) {
    const fr_synth_spec *s = sy->s;
    int64_t e = s->n_embd, hd = s->head_dim;
    LIN(sy, e, s->n_head * hd, "blk.%d.attn_q.weight", il);
    LIN(sy, e, s->n_head_kv * hd, "blk.%d.attn_k.weight", il);
    LIN(sy, e, s->n_head_kv * hd, "blk.%d.attn_v.weight", il);
    LIN(sy, s->n_head * hd, e, "blk.%d.attn_output.weight", il);
    if (bias) {
        BIAS(sy, s->n_head * hd, "blk.%d.attn_q.bias", il);
        BIAS(sy, s->n_head_kv * hd, "blk.%d.attn_k.bias", il);
        BIAS(sy, s->n_head_kv * hd, "blk.%d.attn_v.bias", il);
    }
    if (qk_norm) {
        NORM(sy, hd, "blk.%d.attn_q_norm.weight", il);
        NORM(sy, hd, "blk.%d.attn_k_norm.weight", il);
    }
}

static void plan_attn_mla(synth_t *sy, int il) {
    const fr_synth_spec *s = sy->s;
    int64_t e = s->n_embd, h = s->n_head, qk = s->qk_nope + s->qk_rope;
    if (s->q_lora_rank) {
        LINF(sy, e, s->q_lora_rank, "blk.%d.attn_q_a.weight", il);
        NORM(sy, s->q_lora_rank, "blk.%d.attn_q_a_norm.weight", il);
        LINF(sy, s->q_lora_rank, h * qk, "blk.%d.attn_q_b.weight", il);
    } else {
        LINF(sy, e, h * qk, "blk.%d.attn_q.weight", il);
    }
    LINF(sy, e, s->kv_lora_rank + s->qk_rope, "blk.%d.attn_kv_a_mqa.weight", il);
    NORM(sy, s->kv_lora_rank, "blk.%d.attn_kv_a_norm.weight", il);
    if (s->split_kv_b) {
        /* as llama.cpp's converter splits kv_b: k_b transposed per head, v_b as is */
        LIN3F(sy, s->qk_nope, s->kv_lora_rank, h, "blk.%d.attn_k_b.weight", il);
        sy->p[sy->n - 1].std = 1.0f / sqrtf((float)s->kv_lora_rank);
        LIN3F(sy, s->kv_lora_rank, s->v_head_dim, h, "blk.%d.attn_v_b.weight", il);
    } else {
        LINF(sy, s->kv_lora_rank, h * (s->qk_nope + s->v_head_dim), "blk.%d.attn_kv_b.weight", il);
    }
    LINF(sy, h * s->v_head_dim, e, "blk.%d.attn_output.weight", il);
}

static void plan_ffn(synth_t *sy, int il, int moe) {
    const fr_synth_spec *s = sy->s;
    int64_t e = s->n_embd;
    NORM(sy, e, "blk.%d.ffn_norm.weight", il);
    if (!moe) {
        LIN(sy, e, s->n_ff, "blk.%d.ffn_gate.weight", il);
        LIN(sy, e, s->n_ff, "blk.%d.ffn_up.weight", il);
        LIN(sy, s->n_ff, e, "blk.%d.ffn_down.weight", il);
        return;
    }
    /* the router stays f32 as llama.cpp's quantizer keeps it */
    add(sy, INIT_LINEAR, FR_TYPE_F32, 1.0f / sqrtf((float)e), 2, e, s->n_expert, 1,
        "blk.%d.ffn_gate_inp.weight", il);
    if (s->probs_bias) BIAS(sy, s->n_expert, "blk.%d.exp_probs_b.bias", il);
    if (s->fused_gate_up) {
        LIN3F(sy, e, 2 * (int64_t)s->n_ff_exp, s->n_expert, "blk.%d.ffn_gate_up_exps.weight", il);
    } else {
        LIN3F(sy, e, s->n_ff_exp, s->n_expert, "blk.%d.ffn_gate_exps.weight", il);
        LIN3F(sy, e, s->n_ff_exp, s->n_expert, "blk.%d.ffn_up_exps.weight", il);
    }
    LIN3F(sy, s->n_ff_exp, e, s->n_expert, "blk.%d.ffn_down_exps.weight", il);
    if (s->n_expert_shared) {
        int64_t fs = (int64_t)s->n_ff_exp * s->n_expert_shared;
        LINF(sy, e, fs, "blk.%d.ffn_gate_shexp.weight", il);
        LINF(sy, e, fs, "blk.%d.ffn_up_shexp.weight", il);
        LINF(sy, fs, e, "blk.%d.ffn_down_shexp.weight", il);
    }
}

static void plan(synth_t *sy) {
    const fr_synth_spec *s = sy->s;
    int64_t e = s->n_embd;
    add(sy, INIT_EMBD, s->type, 1.0f, 2, e, s->n_vocab, 1, "token_embd.weight", 0);
    NORM(sy, e, "output_norm.weight", 0);
    if (!s->tied)
        add(sy, INIT_LINEAR, s->type, s->out_scale / sqrtf((float)e), 2, e, s->n_vocab, 1, "output.weight", 0);
    if (s->rope_scaling && !strcmp(s->rope_scaling, "llama3"))
        add(sy, INIT_ROPE_FREQS, FR_TYPE_F32, 0, 1, s->head_dim / 2, 1, 1, "rope_freqs.weight", 0);
    int qwen2 = !strcmp(s->arch, "qwen2"), qwen3 = !strncmp(s->arch, "qwen3", 5);
    int ds = !strcmp(s->arch, "deepseek2"), moe = s->n_expert > 0;
    for (int il = 0; il < (int)s->n_layer; il++) {
        NORM(sy, e, "blk.%d.attn_norm.weight", il);
        if (ds) plan_attn_mla(sy, il);
        else plan_attn_gqa(sy, il, qwen2, qwen3);
        plan_ffn(sy, il, moe && (uint32_t)il >= s->n_layer_dense_lead);
    }
}

/* llama.cpp's convert script: Llama 3 per-frequency rope factors */
static void llama3_freqs(float *out, const fr_synth_spec *s) {
    float factor = s->rope_factor > 1 ? s->rope_factor : 8.0f, lo = 1.0f, hi = 4.0f, old = 8192.0f;
    int n = (int)s->head_dim;
    for (int i = 0; i < n / 2; i++) {
        float freq = 1.0f / powf(s->rope_base, (float)(2 * i) / (float)n);
        float wavelen = 2.0f * (float)M_PI / freq;
        if (wavelen < old / hi) out[i] = 1.0f;
        else if (wavelen > old / lo) out[i] = factor;
        else {
            float smooth = (old / wavelen - lo) / (hi - lo);
            out[i] = 1.0f / ((1.0f - smooth) / factor + smooth);
        }
    }
}

static void write_meta(gguf_writer *w, const fr_synth_spec *s, const tok_vocab_spec *v) {
    char k[128];
    const char *a = s->arch;
#define KEY(suffix) (snprintf(k, sizeof k, "%s.%s", a, suffix), k)
    gguf_w_str(w, "general.architecture", a);
    char name[96];
    snprintf(name, sizeof name, "frugal-synth-%s-%s-seed%llu", a, fr_type_name(s->type),
             (unsigned long long)s->seed);
    gguf_w_str(w, "general.name", name);
    gguf_w_u32(w, KEY("context_length"), s->n_ctx);
    gguf_w_u32(w, KEY("embedding_length"), s->n_embd);
    gguf_w_u32(w, KEY("block_count"), s->n_layer);
    gguf_w_u32(w, KEY("feed_forward_length"), s->n_ff);
    gguf_w_u32(w, KEY("attention.head_count"), s->n_head);
    /* deepseek2: the split kv_b layout is MQA over the latent (one kv head), legacy is MHA */
    uint32_t n_head_kv = !strcmp(a, "deepseek2") ? (s->split_kv_b ? 1 : s->n_head) : s->n_head_kv;
    gguf_w_u32(w, KEY("attention.head_count_kv"), n_head_kv);
    gguf_w_f32(w, KEY("attention.layer_norm_rms_epsilon"), 1e-6f);
    gguf_w_f32(w, KEY("rope.freq_base"), s->rope_base);
    gguf_w_u32(w, KEY("vocab_size"), s->n_vocab);
    if (!strcmp(a, "deepseek2")) {
        /* as llama.cpp's converter: the split layout announces itself with the _mla lengths
         * and describes the latent cache row in key_length / value_length */
        gguf_w_u32(w, KEY("rope.dimension_count"), s->qk_rope);
        if (s->split_kv_b) {
            gguf_w_u32(w, KEY("attention.key_length"), s->kv_lora_rank + s->qk_rope);
            gguf_w_u32(w, KEY("attention.value_length"), s->kv_lora_rank);
            gguf_w_u32(w, KEY("attention.key_length_mla"), s->qk_nope + s->qk_rope);
            gguf_w_u32(w, KEY("attention.value_length_mla"), s->v_head_dim);
        } else {
            gguf_w_u32(w, KEY("attention.key_length"), s->qk_nope + s->qk_rope);
            gguf_w_u32(w, KEY("attention.value_length"), s->v_head_dim);
        }
        /* written even when 0: llama.cpp requires the key unless it guesses "lite" from the
         * layer count (27 or 26 layers) */
        gguf_w_u32(w, KEY("attention.q_lora_rank"), s->q_lora_rank);
        gguf_w_u32(w, KEY("attention.kv_lora_rank"), s->kv_lora_rank);
        gguf_w_u32(w, KEY("leading_dense_block_count"), s->n_layer_dense_lead);
        gguf_w_u32(w, KEY("expert_shared_count"), s->n_expert_shared);
        gguf_w_f32(w, KEY("expert_weights_scale"), s->expert_weights_scale);
        gguf_w_bool(w, KEY("expert_weights_norm"), s->norm_topk);
        gguf_w_u32(w, KEY("expert_gating_func"), (uint32_t)s->gating);
        if (s->n_expert_groups) {
            gguf_w_u32(w, KEY("expert_group_count"), s->n_expert_groups);
            gguf_w_u32(w, KEY("expert_group_used_count"), s->n_group_used);
        }
    } else {
        gguf_w_u32(w, KEY("rope.dimension_count"), s->head_dim);
        if (strcmp(a, "llama") != 0 || s->head_dim * s->n_head != s->n_embd) {
            gguf_w_u32(w, KEY("attention.key_length"), s->head_dim);
            gguf_w_u32(w, KEY("attention.value_length"), s->head_dim);
        }
    }
    if (s->n_expert) {
        gguf_w_u32(w, KEY("expert_count"), s->n_expert);
        gguf_w_u32(w, KEY("expert_used_count"), s->n_expert_used);
        gguf_w_u32(w, KEY("expert_feed_forward_length"), s->n_ff_exp);
    }
    if (s->rope_scaling && (!strcmp(s->rope_scaling, "linear") || !strcmp(s->rope_scaling, "yarn"))) {
        gguf_w_str(w, KEY("rope.scaling.type"), s->rope_scaling);
        gguf_w_f32(w, KEY("rope.scaling.factor"), s->rope_factor);
        if (!strcmp(s->rope_scaling, "yarn")) {
            gguf_w_u32(w, KEY("rope.scaling.original_context_length"), s->n_ctx);
            if (!strcmp(a, "deepseek2") && s->yarn_log_mul != 0.0f)
                gguf_w_f32(w, KEY("rope.scaling.yarn_log_multiplier"), s->yarn_log_mul);
        }
    }
#undef KEY
    /* llama.cpp's file types: 0 all f32, 1 f16, 2 q4_0, 7 q8_0, 15 q4_K_M, 17 q5_K_M, 18 q6_K, 32 bf16 */
    static const struct { fr_type t; uint32_t ft; } ftypes[] = {
        {FR_TYPE_F32, 0}, {FR_TYPE_F16, 1}, {FR_TYPE_Q4_0, 2}, {FR_TYPE_Q8_0, 7},
        {FR_TYPE_Q4_K, 15}, {FR_TYPE_Q5_K, 17}, {FR_TYPE_Q6_K, 18}, {FR_TYPE_BF16, 32}};
    for (size_t i = 0; i < sizeof ftypes / sizeof *ftypes; i++)
        if (ftypes[i].t == s->type) gguf_w_u32(w, "general.file_type", ftypes[i].ft);
    if (v) tok_vocab_spec_write(v, w);
}

static int gen_tensor(synth_t *sy, const plan_t *p, FILE *fp, gguf_writer *w, int idx, fr_err *err) {
    int64_t nel = p->ne[0] * p->ne[1] * p->ne[2];
    float *x = malloc(sizeof(float) * (size_t)nel);
    if (!x) return fr_fail(err, FR_ENOMEM, "synth: out of memory for tensor '%s'", p->name);
    switch (p->init) {
    case INIT_LINEAR:
    case INIT_EMBD:
    case INIT_BIAS:
        for (int64_t i = 0; i < nel; i++) x[i] = rng_gauss(sy->rng) * p->std;
        break;
    case INIT_NORM:
        for (int64_t i = 0; i < nel; i++) x[i] = 1.0f + rng_gauss(sy->rng) * p->std;
        break;
    case INIT_ROPE_FREQS:
        llama3_freqs(x, sy->s);
        break;
    }
    const fr_type_traits *tr = fr_type_get(p->type);
    size_t row = fr_row_size(p->type, p->ne[0]);
    int64_t nrows = nel / p->ne[0];
    void *q = x;
    if (p->type != FR_TYPE_F32) {
        q = malloc(row * (size_t)nrows);
        if (!q) {
            free(x);
            return fr_fail(err, FR_ENOMEM, "synth: out of memory for tensor '%s'", p->name);
        }
        for (int64_t r = 0; r < nrows; r++)
            tr->from_float_ref((char *)q + (size_t)r * row, x + r * p->ne[0], p->ne[0]);
    }
    int rc = gguf_writer_write_tensor(w, fp, idx, q, err);
    if (q != x) free(q);
    free(x);
    return rc;
}

int fr_synth_write(const fr_synth_spec *s, const char *path, fr_err *err) {
    const fr_type_traits *tr = fr_type_get(s->type);
    if (!tr->supported || !tr->from_float_ref)
        return fr_fail(err, FR_EINVAL, "synth: cannot write tensors of type %s", tr->name);
    tok_vocab_spec v;
    int rc = tok_vocab_generate(&v, s->tok_model ? s->tok_model : "gpt2", NULL, s->n_vocab, err);
    if (rc) return rc;
    fr_synth_spec sp = *s;
    sp.n_vocab = v.n_vocab;
    synth_t sy = {.s = &sp};
    sy.rng[0] = s->seed * 0x9e3779b97f4a7c15ull + 1;
    sy.rng[1] = s->seed ^ 0xdeadbeefcafef00dull;
    for (int i = 0; i < 8; i++) rng_next(sy.rng);
    plan(&sy);
    for (int i = 0; i < sy.n; i++) {
        if (sy.p[i].ne[0] % fr_type_get(sy.p[i].type)->blck_size) {
            rc = fr_fail(err, FR_EINVAL, "synth: tensor '%s' has %lld columns, not a multiple of "
                         "the %s block size %d", sy.p[i].name, (long long)sy.p[i].ne[0],
                         fr_type_name(sy.p[i].type), fr_type_get(sy.p[i].type)->blck_size);
            goto out;
        }
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        rc = fr_fail(err, FR_EIO, "synth: cannot create '%s'", path);
        goto out;
    }
    gguf_writer *w = gguf_writer_create(3);
    write_meta(w, &sp, &v);
    for (int i = 0; i < sy.n; i++)
        gguf_w_tensor(w, sy.p[i].name, sy.p[i].type, sy.p[i].n_dims, sy.p[i].ne);
    rc = gguf_writer_write_header(w, fp, err);
    for (int i = 0; i < sy.n && !rc; i++) rc = gen_tensor(&sy, &sy.p[i], fp, w, i, err);
    if (!rc) rc = gguf_writer_finish(w, fp, err);
    gguf_writer_free(w);
    if (fclose(fp) && !rc) rc = fr_fail(err, FR_EIO, "synth: write to '%s' failed", path);
out:
    free(sy.p);
    tok_vocab_spec_free(&v);
    return rc;
}
