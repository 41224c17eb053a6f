/* moe_router.c: expert routing for one token (see moe.h) and the router hyper-parameters
 * the MoE architectures share. */
#include <math.h>
#include <stdio.h>

#include "model/moe.h"

/* index of the largest s[i] among i < n with !taken[i] (lowest index on ties), or -1 */
static int arg_best(const float *s, const unsigned char *taken, int n) {
    int b = -1;
    for (int i = 0; i < n; i++)
        if (!taken[i] && (b < 0 || s[i] > s[b])) b = i;
    return b;
}

/* chooses the k best of s[0..n) in rank order into out; returns the gap between the k-th
 * chosen and the best rejected score in router-logit units: divided by the larger of the two
 * scores' slopes d (dscore/dlogit), INFINITY when nothing finite was rejected */
static float top_k(int32_t *out, const float *s, const float *d, int n, int k,
                   unsigned char *taken) {
    for (int i = 0; i < n; i++) taken[i] = 0;
    for (int j = 0; j < k; j++) {
        int b = arg_best(s, taken, n);
        out[j] = b;
        taken[b] = 1;
    }
    int r = arg_best(s, taken, n);
    if (r < 0 || s[r] == -INFINITY) return INFINITY;
    int q = out[k - 1];
    return (s[q] - s[r]) / fmaxf(fmaxf(d[q], d[r]), 1e-12f);
}

float fr_moe_route(int32_t *sel, float *w, float *probs, float *scratch, const fr_moe_router *r) {
    int E = r->n_expert, K = r->n_used;
    /* probabilities, as ggml's soft_max / sigmoid */
    if (r->gating == FR_GATE_SIGMOID) {
        for (int i = 0; i < E; i++) probs[i] = 1.0f / (1.0f + expf(-probs[i]));
    } else {
        float mx = -INFINITY;
        for (int i = 0; i < E; i++) mx = probs[i] > mx ? probs[i] : mx;
        double sum = 0.0;
        for (int i = 0; i < E; i++) {
            probs[i] = expf(probs[i] - mx);
            sum += probs[i];
        }
        float inv = (float)(1.0 / sum);
        for (int i = 0; i < E; i++) probs[i] *= inv;
    }
    /* selection scores: biased copy; the weights come from the unbiased probs. d: each
     * score's slope against its logit, p (1 - p) for softmax and sigmoid alike */
    int G = r->n_groups > 1 ? r->n_groups : 0;
    float *s = scratch, *d = scratch + E, *gs = scratch + 2 * E, *gd = gs + G;
    unsigned char *taken = (unsigned char *)(gd + G);
    for (int i = 0; i < E; i++) {
        s[i] = r->bias ? probs[i] + r->bias[i] : probs[i];
        d[i] = probs[i] * (1.0f - probs[i]);
    }
    float margin = INFINITY;
    if (G) {
        int per = E / G;
        int32_t best[2], gsel[256];
        for (int g = 0; g < G; g++) {
            const float *sg = s + g * per, *dg = d + g * per;
            top_k(best, sg, dg, per, 2, taken);
            gs[g] = sg[best[0]] + sg[best[1]];
            gd[g] = dg[best[0]] + dg[best[1]];
        }
        margin = top_k(gsel, gs, gd, G, r->n_group_used, taken);
        for (int g = 0; g < G; g++) taken[g] = 0;
        for (int j = 0; j < r->n_group_used; j++) taken[gsel[j]] = 1;
        for (int g = 0; g < G; g++)
            if (!taken[g])
                for (int i = 0; i < per; i++) s[g * per + i] = -INFINITY;
    }
    float m = top_k(sel, s, d, E, K, taken);
    if (m < margin) margin = m;
    for (int j = 0; j < K; j++) w[j] = probs[sel[j]];
    if (r->norm) {
        double sum = 0.0; /* ggml_sum_rows accumulates in double */
        for (int j = 0; j < K; j++) sum += w[j];
        float d = (float)sum;
        if (d < 6.103515625e-5f) d = 6.103515625e-5f; /* llama.cpp clamps to the f16 minimum */
        for (int j = 0; j < K; j++) w[j] /= d;
    }
    if (r->scale != 0.0f && r->scale != 1.0f)
        for (int j = 0; j < K; j++) w[j] *= r->scale;
    return margin;
}

fr_moe_router fr_moe_router_of(const fr_hparams *hp, const fr_layer *L) {
    fr_moe_router r = {
        .n_expert = (int)hp->n_expert,
        .n_used = (int)hp->n_expert_used,
        .n_groups = (int)hp->n_expert_groups,
        .n_group_used = (int)hp->n_group_used,
        .gating = hp->gating,
        .norm = hp->expert_weights_norm,
        .scale = hp->expert_weights_scale,
        .bias = L->exp_probs_b ? (const float *)L->exp_probs_b->data : NULL,
    };
    return r;
}

void ld_moe_hparams(fr_loader *ld, fr_hparams *hp) {
    const char *a = ld->m->arch_name;
    ld_u32(ld, "expert_count", &hp->n_expert, LD_REQUIRED);
    ld_u32(ld, "expert_used_count", &hp->n_expert_used, LD_REQUIRED);
    ld_u32(ld, "expert_group_count", &hp->n_expert_groups, LD_OPTIONAL);
    ld_u32(ld, "expert_group_used_count", &hp->n_group_used, LD_OPTIONAL);
    ld_require(ld, hp->n_expert >= 1 && hp->n_expert <= 4096,
               "key '%s.expert_count' is %u, expected 1..4096", a, hp->n_expert);
    ld_require(ld, hp->n_expert_used >= 1 && hp->n_expert_used <= hp->n_expert,
               "key '%s.expert_used_count' is %u, expected 1..expert_count (%u)", a,
               hp->n_expert_used, hp->n_expert);
    if (hp->n_expert_groups > 1) {
        uint32_t G = hp->n_expert_groups;
        ld_require(ld, G <= 256 && hp->n_expert % G == 0 && hp->n_expert / G >= 2,
                   "key '%s.expert_group_count' is %u: it must divide expert_count (%u) into "
                   "groups of at least 2 experts (at most 256 groups)",
                   a, G, hp->n_expert);
        ld_require(ld, hp->n_group_used >= 1 && hp->n_group_used <= G,
                   "key '%s.expert_group_used_count' is %u, expected 1..expert_group_count (%u)", a,
                   hp->n_group_used, G);
        if (!ld->rc)
            ld_require(ld, hp->n_group_used * (hp->n_expert / G) >= hp->n_expert_used,
                       "expert_group_used_count %u x %u experts per group < expert_used_count %u: "
                       "too few experts to choose from",
                       hp->n_group_used, hp->n_expert / G, hp->n_expert_used);
    }
}

void ld_ffn_moe_any(fr_loader *ld, int il, int shared) {
    char name[96];
    snprintf(name, sizeof name, "blk.%d.ffn_gate_up_exps.weight", il);
    if (ld->rc) return;
    if (!gguf_find_tensor(ld->m->gguf, name)) {
        ld_ffn_moe(ld, il, shared);
        return;
    }
    const fr_hparams *hp = &ld->m->hp;
    fr_layer *L = &ld->m->layers[il];
    int64_t e = hp->n_embd, f = hp->n_ff_exp, x = hp->n_expert;
    L->is_moe = true;
    L->ffn_norm = LD_T1(ld, LD_REQUIRED, e, "blk.%d.ffn_norm.weight", il);
    L->ffn_gate_inp = LD_T2(ld, LD_REQUIRED, e, x, "blk.%d.ffn_gate_inp.weight", il);
    L->ffn_gate_up_exps = LD_T3(ld, LD_REQUIRED, e, 2 * f, x, "blk.%d.ffn_gate_up_exps.weight", il);
    L->ffn_down_exps = LD_T3(ld, LD_REQUIRED, f, e, x, "blk.%d.ffn_down_exps.weight", il);
    if (shared) {
        int64_t fs = f * hp->n_expert_shared;
        L->ffn_gate_shexp = LD_T2(ld, LD_REQUIRED, e, fs, "blk.%d.ffn_gate_shexp.weight", il);
        L->ffn_up_shexp = LD_T2(ld, LD_REQUIRED, e, fs, "blk.%d.ffn_up_shexp.weight", il);
        L->ffn_down_shexp = LD_T2(ld, LD_REQUIRED, fs, e, "blk.%d.ffn_down_shexp.weight", il);
    }
}
