/* test_model.c: loading synthetic models, clear errors for broken ones, the paged KV cache,
 * and forward-pass invariants: a prompt evaluated as one batch gives the same logits as token
 * by token; sequences in one batch do not see each other; truncating and re-evaluating
 * reproduces the logits; SIMD kernels agree with the scalar reference. (Correctness against
 * llama.cpp itself is tests/oracle/test_logits.sh.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "gguf/gguf.h"
#include "model/ctx.h"
#include "sample/sample.h"
#include "synth/synth.h"
#include "t.h"
#include "t_model.h"

static const char *tiny(const char *arch, fr_type type, const char *name) {
    fr_synth_spec s = fr_synth_default(arch);
    s.type = type;
    s.n_vocab = 400;
    s.n_embd = type == FR_TYPE_Q4_K ? 256 : 64;
    s.n_ff = type == FR_TYPE_Q4_K ? 256 : 96;
    s.head_dim = type == FR_TYPE_Q4_K ? 64 : 16;
    return t_synth(&s, name);
}

static void load_synthetic_models(void) {
    const char *archs[] = {"llama", "qwen2", "qwen3"};
    for (int i = 0; i < 3; i++) {
        const char *p = tiny(archs[i], FR_TYPE_Q8_0, "load.gguf");
        T_CHECK(p, "synth");
        fr_model *m;
        fr_err e;
        int rc = fr_model_load(&m, p, &e);
        T_CHECK(rc == 0, "%s: %s", archs[i], e.msg);
        T_CHECK(!strcmp(m->arch_name, archs[i]), "arch %s", m->arch_name);
        T_CHECK(m->hp.n_embd == 64 && m->hp.n_layer == 2 && m->hp.n_head == 4 && m->hp.n_head_kv == 2,
                "hparams");
        T_CHECK(m->hp.head_dim_k == 16 && m->hp.n_vocab >= 400, "head dim %u vocab %u", m->hp.head_dim_k,
                m->hp.n_vocab);
        T_CHECK(m->hp.rope_type == (i == 0 ? FR_ROPE_NORM : FR_ROPE_NEOX), "rope type");
        T_CHECK((m->layers[0].bq != NULL) == (i == 1), "qwen2 biases");
        T_CHECK((m->layers[0].q_norm != NULL) == (i == 2), "qwen3 q norm");
        T_CHECK(m->vocab != NULL, "tokenizer loaded");
        fr_model_free(m);
    }
}

static void bad_models_have_clear_errors(void) {
    const char *src = tiny("llama", FR_TYPE_F32, "good.gguf");
    T_CHECK(src, "synth");
    const char *bad = t_path("bad.gguf");
    T_CHECK(t_rewrite(src, bad, T_MUT(.drop_tensor = "blk.1.ffn_up.weight")) == 0, "rewrite");
    t_expect_load_error(bad, "blk.1.ffn_up.weight", "missing");
    T_CHECK(t_rewrite(src, bad, T_MUT(.reshape = "blk.0.attn_k.weight", .dim = 0, .val = 32)) == 0, "rewrite");
    t_expect_load_error(bad, "blk.0.attn_k.weight", "expected [64, 32]");
    T_CHECK(t_rewrite(src, bad, T_MUT(.key = "llama.attention.head_count_kv", .key_val = 3)) == 0, "rewrite");
    t_expect_load_error(bad, "head_count_kv 3", NULL);
    T_CHECK(t_rewrite(src, bad, T_MUT(.str_key = "general.architecture", .str_val = "gpt2")) == 0, "rewrite");
    t_expect_load_error(bad, "'gpt2' is not supported", NULL);
    T_CHECK(t_rewrite(src, bad, T_MUT(.key = "llama.block_count", .key_val = 3)) == 0, "rewrite");
    t_expect_load_error(bad, "blk.2.", "missing");
    T_CHECK(t_rewrite(src, bad, T_MUT(.key = "llama.block_count", .key_val = 1)) == 0, "rewrite");
    t_expect_load_error(bad, "blk.1.", "not used");
    t_expect_load_error(t_path("does-not-exist.gguf"), "does-not-exist.gguf", NULL);
}

static void kv_cache_blocks(void) {
    fr_kv_cache kv;
    fr_err e;
    T_CHECK(fr_kv_init(&kv, FR_TYPE_F16, 2, 8, 8, 100, 16, 2, &e) == 0, "%s", e.msg);
    T_CHECK(kv.n_blocks == 7 && kv.n_free == 7, "blocks %d free %d", kv.n_blocks, kv.n_free);
    T_CHECK(fr_kv_reserve(&kv, 0, 40, &e) == 0, "reserve");
    kv.seqs[0].n_pos = 40;
    T_CHECK(kv.seqs[0].n_blocks == 3 && kv.n_free == 4, "after 40: %d blocks", kv.seqs[0].n_blocks);
    T_CHECK(fr_kv_reserve(&kv, 1, 64, &e) == 0, "seq 1");
    kv.seqs[1].n_pos = 64;
    T_CHECK(kv.n_free == 0, "full");
    T_CHECK(fr_kv_reserve(&kv, 0, 9, &e) == FR_ERANGE && strstr(e.msg, "context full"), "full error '%s'", e.msg);
    T_CHECK(fr_kv_reserve(&kv, 0, 8, &e) == 0, "fits in the partial block");
    /* distinct cells for distinct (seq, pos) */
    T_CHECK(fr_kv_cell(&kv, 0, 17) != fr_kv_cell(&kv, 1, 17), "cells differ");
    fr_kv_truncate(&kv, 1, 20);
    T_CHECK(kv.seqs[1].n_blocks == 2 && kv.n_free == 2, "truncate frees blocks: %d free", kv.n_free);
    fr_kv_truncate(&kv, 0, 0);
    T_CHECK(kv.n_free == 5, "clear: %d", kv.n_free);
    fr_kv_free(&kv);
}

static void batch_equals_sequential(void) {
    const char *archs[] = {"llama", "qwen2", "qwen3"};
    for (int a = 0; a < 3; a++) {
        const char *path = tiny(archs[a], FR_TYPE_F32, "seq.gguf");
        fr_model *m;
        fr_err e;
        T_CHECK(path && fr_model_load(&m, path, &e) == 0, "load");
        int n = 40, nv = (int)m->hp.n_vocab;
        int32_t ids[40];
        for (int i = 0; i < n; i++) ids[i] = (i * 37 + 11) % nv;
        float *x = malloc(sizeof(float) * n * nv), *y = malloc(sizeof(float) * n * nv);
        fr_ctx *c1 = t_make_ctx(m, 1, 2, FR_TYPE_F32), *c2 = t_make_ctx(m, 1, 1, FR_TYPE_F32);
        T_CHECK(c1 && c2, "ctx");
        T_CHECK(t_eval(c1, ids, NULL, n, 64, x) == 0 && t_eval(c2, ids, NULL, n, 1, y) == 0, "eval");
        float d = t_max_diff(x, y, (size_t)n * nv);
        T_EXPECT(d <= 1e-4f, "%s: batch vs token-by-token max diff %g", archs[a], d);
        /* truncate to 25 and re-evaluate the rest in chunks of 7 */
        fr_ctx_truncate(c1, 0, 25);
        T_CHECK(t_eval(c1, ids + 25, NULL, n - 25, 7, y + (size_t)25 * nv) == 0, "re-eval");
        d = t_max_diff(x + (size_t)25 * nv, y + (size_t)25 * nv, (size_t)(n - 25) * nv);
        T_EXPECT(d <= 1e-4f, "%s: after truncate max diff %g", archs[a], d);
        free(x);
        free(y);
        fr_ctx_free(c1);
        fr_ctx_free(c2);
        fr_model_free(m);
    }
}

static void sequences_are_isolated(void) {
    const char *path = tiny("qwen3", FR_TYPE_F32, "iso.gguf");
    fr_model *m;
    fr_err e;
    T_CHECK(path && fr_model_load(&m, path, &e) == 0, "load");
    int nv = (int)m->hp.n_vocab, n = 12;
    int32_t a[12], b[12];
    for (int i = 0; i < n; i++) a[i] = (i * 7 + 3) % nv, b[i] = (i * 13 + 5) % nv;
    float *ra = malloc(sizeof(float) * n * nv), *rb = malloc(sizeof(float) * n * nv);
    fr_ctx *c = t_make_ctx(m, 1, 2, FR_TYPE_F32);
    T_CHECK(c && t_eval(c, a, NULL, n, 64, ra) == 0, "a");
    fr_ctx_truncate(c, 0, 0);
    T_CHECK(t_eval(c, b, NULL, n, 64, rb) == 0, "b");
    fr_ctx_free(c);
    /* both sequences interleaved in one batch */
    c = t_make_ctx(m, 2, 2, FR_TYPE_F32);
    T_CHECK(c, "ctx2");
    int32_t ids[24], pos[24], sq[24];
    int8_t want[24];
    for (int i = 0; i < n; i++) {
        ids[2 * i] = a[i], pos[2 * i] = i, sq[2 * i] = 0;
        ids[2 * i + 1] = b[i], pos[2 * i + 1] = i, sq[2 * i + 1] = 1;
    }
    memset(want, 1, sizeof want);
    fr_batch bt = {24, ids, pos, sq, want};
    T_CHECK(fr_decode(c, &bt, &e) == 0, "%s", e.msg);
    float worst = 0;
    for (int i = 0; i < n; i++) {
        float d1 = t_max_diff(fr_ctx_logits(c, 2 * i), ra + (size_t)i * nv, (size_t)nv);
        float d2 = t_max_diff(fr_ctx_logits(c, 2 * i + 1), rb + (size_t)i * nv, (size_t)nv);
        if (d1 > worst) worst = d1;
        if (d2 > worst) worst = d2;
    }
    T_EXPECT(worst <= 1e-4f, "interleaved sequences differ by %g", worst);
    /* a position gap is rejected with a clear message */
    int32_t t1 = 1, p1 = 99;
    fr_batch gap = {1, &t1, &p1, NULL, NULL};
    T_CHECK(fr_decode(c, &gap, &e) == FR_EINVAL && strstr(e.msg, "expected 12"), "gap: %s", e.msg);
    int32_t bad = 1 << 30, p0 = 12;
    fr_batch oob = {1, &bad, &p0, NULL, NULL};
    T_CHECK(fr_decode(c, &oob, &e) == FR_EINVAL && strstr(e.msg, "out of range"), "oob: %s", e.msg);
    free(ra);
    free(rb);
    fr_ctx_free(c);
    fr_model_free(m);
}

static void simd_matches_reference(void) {
    fr_type types[] = {FR_TYPE_Q8_0, FR_TYPE_Q4_K, FR_TYPE_F16};
    for (int ti = 0; ti < 3; ti++) {
        const char *path = tiny("llama", types[ti], "simd.gguf");
        fr_model *m;
        fr_err e;
        T_CHECK(path && fr_model_load(&m, path, &e) == 0, "load");
        int n = 16, nv = (int)m->hp.n_vocab;
        int32_t ids[16];
        for (int i = 0; i < n; i++) ids[i] = (i * 29 + 1) % nv;
        float *ref = malloc(sizeof(float) * n * nv), *fast = malloc(sizeof(float) * n * nv);
        fr_cpu_level top = fr_cpu()->level;
        fr_cpu_force(FR_CPU_GENERIC);
        fr_type_init();
        fr_ctx *c = t_make_ctx(m, 1, 2, FR_TYPE_F32);
        T_CHECK(c && t_eval(c, ids, NULL, n, 64, ref) == 0, "generic eval");
        fr_ctx_free(c);
        for (int lv = FR_CPU_AVX2; lv <= (int)top; lv++) {
            fr_cpu_force((fr_cpu_level)lv);
            fr_type_init();
            c = t_make_ctx(m, 1, 2, FR_TYPE_F32);
            T_CHECK(c && t_eval(c, ids, NULL, n, 64, fast) == 0, "eval");
            fr_ctx_free(c);
            /* The kernels agree to ~1e-7 relative (suite_quant), but a last-bit difference can
             * move a later activation across a quantization step; in a random-weight model that
             * discrete flip shows as up to ~0.05 in the logits (measured: 0.036 for q4_K).
             * So: logits within 0.1, and the distributions nearly identical (argmax agreement). */
            float d = t_max_diff(ref, fast, (size_t)n * nv);
            int agree = 0;
            for (int i = 0; i < n; i++)
                agree += fr_argmax(ref + (size_t)i * nv, nv) == fr_argmax(fast + (size_t)i * nv, nv);
            T_EXPECT(d <= 0.1f && agree >= n - 1, "%s at %s: logits differ from scalar by %g, argmax %d/%d",
                     fr_type_name(types[ti]), fr_cpu_level_name((fr_cpu_level)lv), d, agree, n);
        }
        fr_cpu_force(top);
        fr_type_init();
        free(ref);
        free(fast);
        fr_model_free(m);
    }
}

/* A decode batched with another sequence's prompt (tiled GEMM for the prompt) gives the
 * decoding sequence bit-identical logits to decoding it alone: what continuous batching in
 * the server relies on for "batching changes nothing". */
static void batched_decode_is_exact(void) {
    const char *archs[] = {"qwen3", "qwen3", "qwen3moe", "deepseek2"};
    fr_type types[] = {FR_TYPE_Q8_0, FR_TYPE_Q4_K, FR_TYPE_Q8_0, FR_TYPE_Q8_0};
    for (int ti = 0; ti < 4; ti++) {
        /* rows of several blocks, so float summation order matters (2-block rows would
         * give the same sums in any order and prove nothing) */
        fr_synth_spec sp = fr_synth_default(archs[ti]);
        sp.type = types[ti], sp.n_vocab = 400, sp.n_embd = 256, sp.head_dim = 64, sp.n_ff = 512;
        if (sp.n_expert) sp.n_ff_exp = 256;
        if (sp.kv_lora_rank) sp.kv_lora_rank = 256, sp.qk_nope = 64, sp.qk_rope = 32, sp.v_head_dim = 64;
        const char *path = t_synth(&sp, "exact.gguf");
        fr_model *m;
        fr_err e;
        T_CHECK(path && fr_model_load(&m, path, &e) == 0, "load");
        int nv = (int)m->hp.n_vocab;
        int32_t a[10], b[24];
        for (int i = 0; i < 10; i++) a[i] = (i * 31 + 7) % nv;
        for (int i = 0; i < 24; i++) b[i] = (i * 17 + 3) % nv;
        float *pre = malloc(sizeof(float) * 10 * nv), *alone = malloc(sizeof(float) * nv);
        fr_ctx *c1 = t_make_ctx(m, 1, 2, FR_TYPE_F16), *c2 = t_make_ctx(m, 2, 2, FR_TYPE_F16);
        T_CHECK(c1 && c2, "ctx");
        int32_t next = 5;
        T_CHECK(t_eval(c1, a, NULL, 10, 64, pre) == 0 && t_eval(c1, &next, NULL, 1, 1, alone) == 0, "alone");
        T_CHECK(t_eval(c2, a, NULL, 10, 64, pre) == 0, "prefill");
        /* 24 prompt tokens: enough for MoE experts to get the 4+ slots of their GEMM path */
        int32_t ids[25] = {next}, pos[25] = {10}, seq[25] = {0};
        int8_t want[25] = {1};
        for (int i = 0; i < 24; i++) ids[1 + i] = b[i], pos[1 + i] = i, seq[1 + i] = 1, want[1 + i] = 0;
        fr_batch bt = {25, ids, pos, seq, want};
        T_CHECK(fr_decode(c2, &bt, &e) == 0, "%s", e.msg);
        float d = t_max_diff(fr_ctx_logits(c2, 0), alone, (size_t)nv);
        T_EXPECT(d == 0.0f, "%s %s: decode batched with a prompt differs from decoding alone by %g",
                 archs[ti], fr_type_name(types[ti]), d);
        free(pre);
        free(alone);
        fr_ctx_free(c1);
        fr_ctx_free(c2);
        fr_model_free(m);
    }
}

void suite_model(void) {
    T_CASE(load_synthetic_models);
    T_CASE(bad_models_have_clear_errors);
    T_CASE(kv_cache_blocks);
    T_CASE(batch_equals_sequential);
    T_CASE(sequences_are_isolated);
    T_CASE(simd_matches_reference);
    T_CASE(batched_decode_is_exact);
}
