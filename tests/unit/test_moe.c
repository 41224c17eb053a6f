/* test_moe.c: mixture of experts and multi-head latent attention. The router against hand-
 * derived selections (softmax/sigmoid, selection bias, V3 groups, normalisation, scaling);
 * the MLA cache size against the file's own metadata (and the memory of a 4096-token
 * context); clear errors for broken MoE/MLA files; experts no token chose are never read
 * (their pages are made unreadable); batch/thread/sequence invariance of the forward pass.
 * (Agreement with llama.cpp itself is tests/oracle/test_moe_logits.sh.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gguf/gguf.h"
#include "model/ctx.h"
#include "model/moe.h"
#include "synth/synth.h"
#include "t.h"
#include "t_model.h"

/* a tiny deepseek2: V3 style (q compression, sigmoid + bias, groups) or V2-Lite style */
static fr_synth_spec ds2_spec(int v3, int split) {
    fr_synth_spec s = fr_synth_default("deepseek2");
    s.n_vocab = 400;
    s.n_layer = 3;
    s.n_ff = 96;
    s.split_kv_b = split;
    if (v3) {
        s.q_lora_rank = 48, s.gating = 2, s.probs_bias = true, s.n_expert_groups = 4;
        s.n_group_used = 2, s.expert_weights_scale = 2.5f, s.n_expert_used = 3;
    }
    return s;
}

/* ---- router ---------------------------------------------------------------------------- */

static void router_softmax_topk(void) {
    float logits[6] = {0.1f, 2.0f, -1.0f, 1.5f, 0.3f, 1.9f}, probs[6], scratch[32], w[3];
    int32_t sel[3];
    memcpy(probs, logits, sizeof logits);
    fr_moe_router r = {.n_expert = 6, .n_used = 3, .gating = FR_GATE_SOFTMAX};
    fr_moe_route(sel, w, probs, scratch, &r);
    T_CHECK(sel[0] == 1 && sel[1] == 5 && sel[2] == 3, "selection %d %d %d", sel[0], sel[1],
            sel[2]);
    double z = 0;
    for (int i = 0; i < 6; i++) z += exp(logits[i]);
    T_NEAR(w[0], exp(2.0) / z, 1e-6);
    T_NEAR(w[2], exp(1.5) / z, 1e-6);
    /* normalised: the chosen weights sum to 1, in the same ratios */
    memcpy(probs, logits, sizeof logits);
    r.norm = true;
    fr_moe_route(sel, w, probs, scratch, &r);
    double zk = exp(2.0) + exp(1.9) + exp(1.5);
    T_NEAR(w[0], exp(2.0) / zk, 1e-6);
    T_NEAR(w[1], exp(1.9) / zk, 1e-6);
    T_NEAR(w[0] + w[1] + w[2], 1.0, 1e-6);
    /* and scaled afterwards */
    memcpy(probs, logits, sizeof logits);
    r.scale = 2.5f;
    fr_moe_route(sel, w, probs, scratch, &r);
    T_NEAR(w[0] + w[1] + w[2], 2.5, 1e-5);
}

static void router_bias_changes_selection_only(void) {
    float logits[4] = {1.0f, 0.5f, -2.0f, 0.0f}, bias[4] = {0, 0, 3.0f, 0}, probs[4], scratch[32],
          w[2];
    int32_t sel[2];
    memcpy(probs, logits, sizeof logits);
    fr_moe_router r = {.n_expert = 4, .n_used = 2, .gating = FR_GATE_SIGMOID, .bias = bias};
    fr_moe_route(sel, w, probs, scratch, &r);
    /* expert 2 has the lowest logit but the bias puts it first; its weight stays sigmoid(-2) */
    T_CHECK(sel[0] == 2 && sel[1] == 0, "selection %d %d", sel[0], sel[1]);
    T_NEAR(w[0], 1.0 / (1.0 + exp(2.0)), 1e-6);
    T_NEAR(w[1], 1.0 / (1.0 + exp(-1.0)), 1e-6);
}

static void router_groups(void) {
    /* 8 experts in 4 groups of 2, 2 groups used, 2 experts chosen. Group scores (sum of both
     * members): g0 = 0.9 + 0.0 = 0.9, g1 = 0.5 + 0.5 = 1.0, g2 = 0.6 + 0.45 = 1.05,
     * g3 = 0.1 + 0.1 = 0.2. Groups 2 and 1 win, so expert 0 (the best single score) is out
     * and the choice is expert 4 (0.6), then 2 or 3 (both 0.5: the lower index first). */
    float s[8] = {0.9f, 0.0f, 0.5f, 0.5f, 0.6f, 0.45f, 0.1f, 0.1f}, logit[8], scratch[64], w[2];
    for (int i = 0; i < 8; i++) logit[i] = logf(s[i] / (1.0f - s[i] + 1e-30f) + 1e-30f);
    logit[1] = -30.0f;
    int32_t sel[2];
    fr_moe_router r = {
        .n_expert = 8, .n_used = 2, .n_groups = 4, .n_group_used = 2, .gating = FR_GATE_SIGMOID};
    float m = fr_moe_route(sel, w, logit, scratch, &r);
    T_CHECK(sel[0] == 4 && sel[1] == 2, "selection %d %d", sel[0], sel[1]);
    /* margin: 2 vs 3 tie exactly (0.5 and 0.5) */
    T_CHECK(m < 1e-4f, "margin %g for an exact tie", m);
    /* without groups expert 0 wins */
    for (int i = 0; i < 8; i++) logit[i] = logf(s[i] / (1.0f - s[i] + 1e-30f) + 1e-30f);
    logit[1] = -30.0f;
    r.n_groups = 0;
    m = fr_moe_route(sel, w, logit, scratch, &r);
    T_CHECK(sel[0] == 0 && sel[1] == 4, "ungrouped selection %d %d", sel[0], sel[1]);
    /* margin in logit units: (0.6 - 0.5) / max(0.6*0.4, 0.5*0.5) */
    T_NEAR(m, 0.1 / 0.25, 1e-4);
}

/* ---- the MLA cache --------------------------------------------------------------------- */

static void mla_cache_is_latent(void) {
    for (int split = 0; split < 2; split++) {
        fr_synth_spec s = ds2_spec(1, split);
        if (split) s.kv_lora_rank = 64, s.qk_rope = 32, s.qk_nope = 32, s.n_layer = 4;
        const char *path = t_synth(&s, "mla.gguf");
        T_CHECK(path, "synth");
        /* the expected row from the file's own metadata */
        gguf_file *g;
        fr_err e;
        T_CHECK(gguf_open(&g, path, &e) == 0, "%s", e.msg);
        uint32_t C = 0, R = 0, L = 0, H = 0;
        T_CHECK(gguf_get_u32(g, "deepseek2.attention.kv_lora_rank", &C, &e) == 0 &&
                    gguf_get_u32(g, "deepseek2.rope.dimension_count", &R, &e) == 0 &&
                    gguf_get_u32(g, "deepseek2.block_count", &L, &e) == 0 &&
                    gguf_get_u32(g, "deepseek2.attention.head_count", &H, &e) == 0,
                "keys");
        gguf_close(g);
        fr_model *m;
        T_CHECK(fr_model_load(&m, path, &e) == 0, "%s", e.msg);
        T_CHECK((m->layers[0].wk_b != NULL) == split && (m->layers[0].wkv_b != NULL) == !split,
                "layout");
        for (int f32 = 0; f32 < 2; f32++) {
            fr_ctx_params p = fr_ctx_default_params();
            p.n_ctx = 4096;
            p.n_batch = 64;
            p.n_threads = 1;
            p.kv_type = f32 ? FR_TYPE_F32 : FR_TYPE_F16;
            fr_ctx *c;
            T_CHECK(fr_ctx_create(&c, m, &p, &e) == 0, "%s", e.msg);
            size_t es = f32 ? 4 : 2, per_tok = (size_t)(C + R) * L * es;
            T_CHECK(c->kv.width_k == (int64_t)(C + R) && c->kv.width_v == 0, "row widths %lld/%lld",
                    (long long)c->kv.width_k, (long long)c->kv.width_v);
            T_CHECK(fr_kv_bytes_per_token(&c->kv) == per_tok,
                    "bytes per token %zu, expected (%u + %u) x %u x %zu = %zu",
                    fr_kv_bytes_per_token(&c->kv), C, R, L, es, per_tok);
            T_CHECK(c->kv.bytes == 4096 * per_tok, "cache %zu bytes for 4096 tokens, expected %zu",
                    c->kv.bytes, 4096 * per_tok);
            size_t mha = (size_t)H * (m->hp.head_dim_k + m->hp.head_dim_v) * L * es;
            printf(
                "     deepseek2 (%s, kv_lora %u + rope %u, %u layers, %s cache): %zu bytes/token, "
                "4096-token context %.2f MiB (MHA cache would be %.2f MiB), working buffers %.2f "
                "MiB\n",
                split ? "split" : "kv_b", C, R, L, f32 ? "f32" : "f16", per_tok,
                c->kv.bytes / 1048576.0, 4096.0 * mha / 1048576.0, c->scratch_bytes / 1048576.0);
            fr_ctx_free(c);
        }
        fr_model_free(m);
    }
    /* DeepSeek-V3's own shape: (512 + 64) x 61 layers x 2 bytes */
    printf("     DeepSeek-V3 (512 + 64, 61 layers, f16): %d bytes/token, 4096 tokens %.1f MiB\n",
           (512 + 64) * 61 * 2, (512 + 64) * 61 * 2 * 4096 / 1048576.0);
}

/* ---- broken files ---------------------------------------------------------------------- */

#define MUT T_MUT
#define EXPECT_BAD(src, mu, n1, n2)                                                                \
    do {                                                                                           \
        T_CHECK(t_rewrite(src, bad, mu) == 0, "rewrite");                                            \
        t_expect_load_error(bad, n1, n2);                                                                 \
        if (t_failed_now) return;                                                                  \
    } while (0)

static void bad_moe_files_have_clear_errors(void) {
    fr_synth_spec s = ds2_spec(1, 1);
    const char *src = t_synth(&s, "ds2-good.gguf"), *bad = t_path("ds2-bad.gguf");
    T_CHECK(src, "synth");
    fr_model *m;
    fr_err e;
    T_CHECK(fr_model_load(&m, src, &e) == 0, "the unmutated file loads: %s", e.msg);
    fr_model_free(m);
    /* missing expert tensors */
    EXPECT_BAD(src, MUT(.drop_tensor = "blk.2.ffn_up_exps.weight"), "blk.2.ffn_up_exps.weight",
               "missing");
    EXPECT_BAD(src, MUT(.drop_tensor = "blk.1.ffn_gate_shexp.weight"),
               "blk.1.ffn_gate_shexp.weight", "missing");
    /* expert count mismatches */
    EXPECT_BAD(src, MUT(.key = "deepseek2.expert_used_count", .key_val = 9),
               "expert_used_count' is 9", "expert_count (8)");
    EXPECT_BAD(src, MUT(.key = "deepseek2.expert_used_count", .key_val = 0),
               "expert_used_count' is 0", NULL);
    EXPECT_BAD(src, MUT(.reshape = "blk.1.ffn_gate_exps.weight", .dim = 2, .val = 4),
               "blk.1.ffn_gate_exps.weight", "expected [64, 32, 8]");
    EXPECT_BAD(src, MUT(.reshape = "blk.2.ffn_down_exps.weight", .dim = 2, .val = 16),
               "blk.2.ffn_down_exps.weight", "expected [32, 64, 8]");
    EXPECT_BAD(src, MUT(.key = "deepseek2.expert_count", .key_val = 16),
               "blk.1.ffn_gate_inp.weight", "expected [64, 16]");
    EXPECT_BAD(src, MUT(.reshape = "blk.1.exp_probs_b.bias", .dim = 0, .val = 7),
               "blk.1.exp_probs_b.bias", "expected [8]");
    EXPECT_BAD(src, MUT(.drop_key = "deepseek2.expert_count"), "expert_count' is missing", NULL);
    EXPECT_BAD(src, MUT(.key = "deepseek2.expert_group_count", .key_val = 3),
               "expert_group_count' is 3", NULL);
    EXPECT_BAD(src, MUT(.key = "deepseek2.expert_group_used_count", .key_val = 1),
               "too few experts", NULL);
    EXPECT_BAD(src, MUT(.key = "deepseek2.expert_gating_func", .key_val = 4),
               "expert_gating_func' is 4", NULL);
    EXPECT_BAD(src, MUT(.key = "deepseek2.leading_dense_block_count", .key_val = 2),
               "blk.1.ffn_gate.weight", "missing");
    /* inconsistent ranks */
    EXPECT_BAD(src, MUT(.key = "deepseek2.attention.key_length", .key_val = 50),
               "inconsistent ranks", "key_length 50");
    EXPECT_BAD(src, MUT(.key = "deepseek2.attention.value_length", .key_val = 16),
               "inconsistent ranks", "value_length 16");
    EXPECT_BAD(src, MUT(.drop_key = "deepseek2.attention.value_length_mla"), "value_length_mla",
               "both present");
    EXPECT_BAD(src, MUT(.key = "deepseek2.attention.kv_lora_rank", .key_val = 40),
               "inconsistent ranks", NULL);
    EXPECT_BAD(src, MUT(.key = "deepseek2.rope.dimension_count", .key_val = 32),
               "rope.dimension_count 32", NULL);
    EXPECT_BAD(src, MUT(.reshape = "blk.0.attn_k_b.weight", .dim = 1, .val = 16),
               "blk.0.attn_k_b.weight", "expected [16, 32, 4]");
    EXPECT_BAD(src, MUT(.reshape = "blk.2.attn_kv_a_mqa.weight", .dim = 1, .val = 40),
               "blk.2.attn_kv_a_mqa.weight", "expected [64, 48]");
    EXPECT_BAD(src, MUT(.key = "deepseek2.attention.q_lora_rank", .key_val = 0),
               "blk.0.attn_q.weight", "missing");
    EXPECT_BAD(src, MUT(.key = "deepseek2.nextn_predict_layers", .key_val = 1),
               "multi-token-prediction", "not supported");
    /* fused gate/up experts */
    s.fused_gate_up = true;
    const char *fused = t_synth(&s, "ds2-fused.gguf");
    T_CHECK(fused && fr_model_load(&m, fused, &e) == 0, "fused gate_up loads: %s", e.msg);
    T_CHECK(m->layers[1].ffn_gate_up_exps && !m->layers[1].ffn_gate_exps, "fused binding");
    fr_model_free(m);
    EXPECT_BAD(fused, MUT(.reshape = "blk.2.ffn_gate_up_exps.weight", .dim = 1, .val = 32),
               "blk.2.ffn_gate_up_exps.weight", "expected [64, 64, 8]");
    /* the legacy layout and qwen3moe */
    fr_synth_spec sl = ds2_spec(0, 0);
    const char *lite = t_synth(&sl, "ds2-lite.gguf");
    T_CHECK(lite, "synth");
    EXPECT_BAD(lite, MUT(.reshape = "blk.1.attn_kv_b.weight", .dim = 1, .val = 96),
               "blk.1.attn_kv_b.weight", "expected [32, 128]");
    EXPECT_BAD(lite, MUT(.drop_tensor = "blk.1.attn_kv_b.weight"), "blk.1.attn_kv_b.weight",
               "missing");
    EXPECT_BAD(lite, MUT(.key = "deepseek2.attention.key_length_mla", .key_val = 32),
               "key_length_mla", "both present");
    fr_synth_spec sq = fr_synth_default("qwen3moe");
    sq.n_vocab = 400;
    const char *q3 = t_synth(&sq, "q3moe.gguf");
    T_CHECK(q3, "synth");
    T_CHECK(fr_model_load(&m, q3, &e) == 0, "qwen3moe loads: %s", e.msg);
    T_CHECK(m->hp.expert_weights_norm && m->hp.gating == FR_GATE_SOFTMAX && m->layers[0].is_moe,
            "qwen3moe router");
    fr_model_free(m);
    EXPECT_BAD(q3, MUT(.drop_tensor = "blk.0.ffn_down_exps.weight"), "blk.0.ffn_down_exps.weight",
               "missing");
    EXPECT_BAD(q3, MUT(.key = "qwen3moe.expert_used_count", .key_val = 12),
               "expert_used_count' is 12", NULL);
    EXPECT_BAD(q3, MUT(.reshape = "blk.1.ffn_up_exps.weight", .dim = 1, .val = 16),
               "blk.1.ffn_up_exps.weight", "expected [64, 32, 8]");
}

/* ---- execution ------------------------------------------------------------------------- */

/* one batch, token by token, chunks of 5 on 1 thread, and two interleaved sequences agree */
static void batch_thread_sequence_invariance(void) {
    fr_synth_spec specs[3] = {ds2_spec(1, 1), ds2_spec(0, 0), fr_synth_default("qwen3moe")};
    specs[1].fused_gate_up = true;
    specs[2].n_vocab = 400;
    for (int k = 0; k < 3; k++) {
        const char *path = t_synth(&specs[k], "inv.gguf");
        fr_model *m;
        fr_err e;
        T_CHECK(path && fr_model_load(&m, path, &e) == 0, "load");
        int n = 30, nv = (int)m->hp.n_vocab;
        int32_t ids[60], seq[60];
        for (int i = 0; i < n; i++) ids[i] = (i * 37 + 11 + k) % nv;
        size_t sz = sizeof(float) * (size_t)2 * n * nv;
        float *x = malloc(sz), *y = malloc(sz), *z = malloc(sz);
        fr_ctx *c1 = t_make_ctx(m, 1, 2, FR_TYPE_F32), *c2 = t_make_ctx(m, 1, 1, FR_TYPE_F32);
        T_CHECK(c1 && c2, "ctx");
        T_CHECK(t_eval(c1, ids, NULL, n, 64, x) == 0 && t_eval(c2, ids, NULL, n, 1, y) == 0, "eval");
        float d = t_max_diff(x, y, (size_t)n * nv);
        T_EXPECT(d <= 1e-4f, "%s: batch vs token-by-token max diff %g", m->arch_name, d);
        fr_ctx_truncate(c2, 0, 0);
        T_CHECK(t_eval(c2, ids, NULL, n, 5, y) == 0, "eval 5");
        d = t_max_diff(x, y, (size_t)n * nv);
        T_EXPECT(d <= 1e-4f, "%s: batch vs chunks of 5 (1 thread) max diff %g", m->arch_name, d);
        /* a second sequence interleaved with the first in the same batches */
        fr_ctx *c3 = t_make_ctx(m, 2, 2, FR_TYPE_F32);
        T_CHECK(c3, "ctx3");
        int32_t both[60];
        for (int i = 0; i < n; i++) {
            both[2 * i] = ids[i], seq[2 * i] = 0;
            both[2 * i + 1] = (i * 13 + 5) % nv, seq[2 * i + 1] = 1;
        }
        T_CHECK(t_eval(c3, both, seq, 2 * n, 16, z) == 0, "eval 2 seqs");
        float dm = 0;
        for (int i = 0; i < n; i++) {
            float di = t_max_diff(x + (size_t)i * nv, z + (size_t)2 * i * nv, (size_t)nv);
            dm = di > dm ? di : dm;
        }
        T_EXPECT(dm <= 1e-4f, "%s: interleaved sequences max diff %g", m->arch_name, dm);
        free(x);
        free(y);
        free(z);
        fr_ctx_free(c1);
        fr_ctx_free(c2);
        fr_ctx_free(c3);
        fr_model_free(m);
    }
}

/* Experts no token chose are never read: a selection bias of -1e30 keeps experts 2..7 of
 * every MoE layer out of every choice, and their weight pages are made unreadable (a read
 * would crash the test). The logits must equal those of a run before the protection. */
static void unchosen_experts_are_never_read(void) {
    fr_synth_spec s = ds2_spec(0, 1);
    s.gating = 2, s.probs_bias = true, s.n_expert_used = 2, s.n_expert_shared = 0;
    s.n_embd = 64, s.n_ff_exp = 128; /* expert slices of 32 KiB (f32): whole pages inside */
    const char *path = t_synth(&s, "unused.gguf");
    T_CHECK(path, "synth");
    /* patch the bias in the file: experts 0 and 1 stay, the rest get -1e30 */
    gguf_file *g;
    fr_err e;
    T_CHECK(gguf_open(&g, path, &e) == 0, "%s", e.msg);
    long offs[8];
    int nb = 0;
    for (int il = 0; il < (int)s.n_layer; il++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.exp_probs_b.bias", il);
        const gguf_tensor *t = gguf_find_tensor(g, name);
        if (t) offs[nb++] = (long)((const uint8_t *)t->data - g->base);
    }
    gguf_close(g);
    T_CHECK(nb == (int)(s.n_layer - s.n_layer_dense_lead), "bias tensors %d", nb);
    FILE *fp = fopen(path, "r+b");
    T_CHECK(fp, "open");
    float bias[8] = {0, 0, -1e30f, -1e30f, -1e30f, -1e30f, -1e30f, -1e30f};
    for (int i = 0; i < nb; i++) {
        fseek(fp, offs[i], SEEK_SET);
        fwrite(bias, sizeof bias, 1, fp);
    }
    fclose(fp);
    fr_model *m;
    T_CHECK(fr_model_load(&m, path, &e) == 0, "%s", e.msg);
    int n = 20, nv = (int)m->hp.n_vocab;
    int32_t ids[20];
    for (int i = 0; i < n; i++) ids[i] = (i * 29 + 3) % nv;
    float *x = malloc(sizeof(float) * n * nv), *y = malloc(sizeof(float) * n * nv);
    fr_ctx *c = t_make_ctx(m, 1, 2, FR_TYPE_F32);
    T_CHECK(c && t_eval(c, ids, NULL, n, 64, x) == 0, "eval");
    /* protect experts 2..7 of every expert tensor */
    long pg = sysconf(_SC_PAGESIZE);
    int n_prot = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const fr_tensor *t = &m->tensors[i];
        if (t->n_dims != 3 || !strstr(t->name, "_exps")) continue;
        size_t slice = t->nb1 * (size_t)t->ne[1];
        uintptr_t lo = (uintptr_t)t->data + 2 * slice, hi = (uintptr_t)t->data + 8 * slice;
        lo = (lo + (uintptr_t)pg - 1) / (uintptr_t)pg * (uintptr_t)pg;
        hi = hi / (uintptr_t)pg * (uintptr_t)pg;
        if (hi > lo && mprotect((void *)lo, hi - lo, PROT_NONE) == 0) n_prot++;
    }
    T_CHECK(n_prot == 3 * nb, "protected %d expert tensors", n_prot);
    fr_ctx_truncate(c, 0, 0);
    T_CHECK(t_eval(c, ids, NULL, n, 64, y) == 0, "eval with unchosen experts unreadable");
    float d = t_max_diff(x, y, (size_t)n * nv);
    T_EXPECT(d == 0.0f, "logits changed by %g", d);
    fr_ctx_truncate(c, 0, 0);
    T_CHECK(t_eval(c, ids, NULL, n, 1, y) == 0, "decode token by token");
    d = t_max_diff(x, y, (size_t)n * nv);
    T_EXPECT(d <= 1e-4f, "token by token max diff %g", d);
    free(x);
    free(y);
    fr_ctx_free(c);
    fr_model_free(m); /* unmapping drops the protection */
}

void suite_moe(void) {
    T_CASE(router_softmax_topk);
    T_CASE(router_bias_changes_selection_only);
    T_CASE(router_groups);
    T_CASE(mla_cache_is_latent);
    T_CASE(bad_moe_files_have_clear_errors);
    T_CASE(batch_thread_sequence_invariance);
    T_CASE(unchosen_experts_are_never_read);
}
