/* arch_deepseek2.c: the "deepseek2" architecture (DeepSeek-V2, V2-Lite, V2.5, V3, V3.1, R1,
 * Kimi K2): multi-head latent attention (MLA) and mixture-of-experts FFNs after
 * leading_dense_block_count dense layers.
 *
 * Attention: the query comes from attn_q (q_lora_rank 0, V2-Lite style) or from the
 * compressed attn_q_a -> attn_q_a_norm -> attn_q_b; keys and values from the latent
 * attn_kv_a_mqa = [kv_lora_rank | rope part], whose latent is RMS-normed (attn_kv_a_norm)
 * and expanded per head by either layout llama.cpp has written:
 *   legacy: attn_kv_b [kv_lora_rank, n_head * (nope + v_dim)], key_length = nope + rope,
 *           value_length = v_dim;
 *   split:  attn_k_b [nope, kv_lora_rank, n_head] and attn_v_b [kv_lora_rank, v_dim, n_head],
 *           announced by key_length_mla = nope + rope and value_length_mla = v_dim (then
 *           key_length = kv_lora_rank + rope and value_length = kv_lora_rank).
 * After loading, head_dim_k / head_dim_v hold the per-head sizes nope + rope and v_dim for
 * both layouts. RoPE is the normal (adjacent pair) kind, on the last n_rot dims of each query
 * head and on the shared k_pe.
 *
 * YaRN: llama.cpp (our reference) divides the yarn_log_multiplier key by 0.1, keeps the rope
 * rotation magnitude at the file's attn_factor and moves the YaRN magnitude correction into
 * the kq scale: kq_scale = mscale^2 / sqrt(nope + rope) with mscale = attn_factor_org * (1 +
 * 0.1 * log_mul * ln(factor)). The same arithmetic is reproduced here, in the same order.
 *
 * Router: expert_gating_func (absent = softmax, as old V2 files), exp_probs_b selection bias,
 * expert groups, expert_weights_norm, expert_weights_scale (0 or 1 = none). Experts come as
 * separate ffn_gate_exps/ffn_up_exps or one fused ffn_gate_up_exps.
 * Not supported (clear error): multi-token-prediction layers (nextn_predict_layers) and the
 * attention temperature scaling some deepseek2-arch files (Mistral Large 3) carry. */
#include <math.h>

#include "model/moe.h"

static float get_mscale(float scale, float mscale) {
    return scale <= 1.0f ? 1.0f : (0.1f * mscale * logf(scale) + 1.0f);
}

/* llama.cpp's YaRN attention factors for deepseek2 (llama-context.cpp and deepseek2.cpp) */
static void yarn_factors(fr_hparams *hp, float log_mul) {
    float fs = hp->rope_freq_scale, raf = hp->yarn_attn_factor;
    float a = 1.0f;
    if (hp->yarn_ext_factor != 0.0f) {
        float factor = 1.0f / fs;
        a = log_mul != 0.0f ? get_mscale(factor, log_mul) / get_mscale(factor, log_mul)
                            : get_mscale(factor, 1.0f);
        a *= 1.0f / (1.0f + 0.1f * logf(factor));
    }
    a *= raf;
    hp->yarn_attn_factor = a; /* what the rope rotation is scaled by (before YaRN's own) */
    float attn_factor_org = a * (1.0f + 0.1f * logf(1.0f / fs));
    float mscale = attn_factor_org * (1.0f + 0.1f * log_mul * logf(1.0f / fs));
    hp->attn_scale = 1.0f * mscale * mscale / sqrtf((float)hp->head_dim_k);
}

static void ld_attn_mla(fr_loader *ld, int il, int split) {
    const fr_hparams *hp = &ld->m->hp;
    fr_layer *L = &ld->m->layers[il];
    int64_t e = hp->n_embd, h = hp->n_head, dk = hp->head_dim_k, dv = hp->head_dim_v;
    int64_t nope = dk - hp->n_rot, c = hp->kv_lora_rank, ql = hp->q_lora_rank;
    L->attn_norm = LD_T1(ld, LD_REQUIRED, e, "blk.%d.attn_norm.weight", il);
    if (ql) {
        L->wq_a = LD_T2(ld, LD_REQUIRED, e, ql, "blk.%d.attn_q_a.weight", il);
        L->q_a_norm = LD_T1(ld, LD_REQUIRED, ql, "blk.%d.attn_q_a_norm.weight", il);
        L->wq_b = LD_T2(ld, LD_REQUIRED, ql, h * dk, "blk.%d.attn_q_b.weight", il);
    } else {
        L->wq = LD_T2(ld, LD_REQUIRED, e, h * dk, "blk.%d.attn_q.weight", il);
    }
    L->wkv_a_mqa = LD_T2(ld, LD_REQUIRED, e, c + hp->n_rot, "blk.%d.attn_kv_a_mqa.weight", il);
    L->kv_a_norm = LD_T1(ld, LD_REQUIRED, c, "blk.%d.attn_kv_a_norm.weight", il);
    if (split) {
        L->wk_b = LD_T3(ld, LD_REQUIRED, nope, c, h, "blk.%d.attn_k_b.weight", il);
        L->wv_b = LD_T3(ld, LD_REQUIRED, c, dv, h, "blk.%d.attn_v_b.weight", il);
    } else {
        L->wkv_b = LD_T2(ld, LD_REQUIRED, c, h * (nope + dv), "blk.%d.attn_kv_b.weight", il);
    }
    L->wo = LD_T2(ld, LD_REQUIRED, h * dv, e, "blk.%d.attn_output.weight", il);
}

int arch_deepseek2_load(fr_loader *ld) {
    fr_model *m = ld->m;
    fr_hparams *hp = &m->hp;
    const char *a = m->arch_name;
    ld_common_hparams(ld, hp);
    if (ld->rc) return ld->rc;
    uint32_t klen = hp->head_dim_k, vlen = hp->head_dim_v, k_mla = 0, v_mla = 0;
    ld_u32(ld, "attention.key_length_mla", &k_mla, LD_OPTIONAL);
    ld_u32(ld, "attention.value_length_mla", &v_mla, LD_OPTIONAL);
    ld_require(ld, (k_mla == 0) == (v_mla == 0),
               "keys '%s.attention.key_length_mla' (%u) and '%s.attention.value_length_mla' (%u) "
               "must be both present or both absent",
               a, k_mla, a, v_mla);
    int split = k_mla != 0;
    ld_u32(ld, "attention.kv_lora_rank", &hp->kv_lora_rank, LD_REQUIRED);
    ld_u32(ld, "attention.q_lora_rank", &hp->q_lora_rank, LD_OPTIONAL);
    ld_require(ld, hp->kv_lora_rank >= 1 && hp->kv_lora_rank <= 65536,
               "key '%s.attention.kv_lora_rank' is %u, expected 1..65536", a, hp->kv_lora_rank);
    ld_require(ld, hp->q_lora_rank <= 65536,
               "key '%s.attention.q_lora_rank' is %u, expected <= 65536", a, hp->q_lora_rank);
    if (ld->rc) return ld->rc;
    if (split) {
        /* the split layout treats MLA as MQA over [latent | rope]: the generic lengths must
         * describe that cache row */
        ld_require(ld, klen == hp->kv_lora_rank + hp->n_rot,
                   "inconsistent ranks: attention.key_length %u != kv_lora_rank %u + "
                   "rope.dimension_count %u (required with key_length_mla)",
                   klen, hp->kv_lora_rank, hp->n_rot);
        ld_require(ld, vlen == hp->kv_lora_rank,
                   "inconsistent ranks: attention.value_length %u != kv_lora_rank %u (required "
                   "with value_length_mla)",
                   vlen, hp->kv_lora_rank);
        hp->head_dim_k = k_mla;
        hp->head_dim_v = v_mla;
    }
    hp->head_dim_k_mla = hp->head_dim_k;
    hp->head_dim_v_mla = hp->head_dim_v;
    ld_require(ld, hp->n_rot >= 2 && hp->n_rot < hp->head_dim_k,
               "inconsistent ranks: rope.dimension_count %u must be in [2, %s %u) so that each "
               "head has a non-rope part",
               hp->n_rot, split ? "key_length_mla" : "key_length", hp->head_dim_k);
    ld_require(ld, hp->head_dim_v >= 1 && hp->head_dim_k <= 4096 && hp->head_dim_v <= 4096,
               "head sizes %u/%u out of range", hp->head_dim_k, hp->head_dim_v);

    /* FFN: dense leading layers, then experts */
    ld_u32(ld, "leading_dense_block_count", &hp->n_layer_dense_lead, LD_OPTIONAL);
    ld_require(ld, hp->n_layer_dense_lead <= hp->n_layer,
               "key '%s.leading_dense_block_count' is %u but there are only %u blocks", a,
               hp->n_layer_dense_lead, hp->n_layer);
    ld_u32(ld, "feed_forward_length", &hp->n_ff,
           hp->n_layer_dense_lead ? LD_REQUIRED : LD_OPTIONAL);
    int moe = hp->n_layer_dense_lead < hp->n_layer;
    if (moe) {
        ld_moe_hparams(ld, hp);
        ld_u32(ld, "expert_feed_forward_length", &hp->n_ff_exp, LD_REQUIRED);
        ld_require(ld, hp->n_ff_exp >= 1, "key '%s.expert_feed_forward_length' is 0", a);
        ld_u32(ld, "expert_shared_count", &hp->n_expert_shared, LD_OPTIONAL);
        ld_require(ld, hp->n_expert_shared <= 64,
                   "key '%s.expert_shared_count' is %u, expected <= 64", a, hp->n_expert_shared);
        ld_f32(ld, "expert_weights_scale", &hp->expert_weights_scale, LD_OPTIONAL);
        ld_bool(ld, "expert_weights_norm", &hp->expert_weights_norm, LD_OPTIONAL);
        uint32_t g = 0;
        ld_u32(ld, "expert_gating_func", &g, LD_OPTIONAL);
        if (g == 0 || g == 1)
            hp->gating = FR_GATE_SOFTMAX;
        else if (g == 2)
            hp->gating = FR_GATE_SIGMOID;
        else if (!ld->rc)
            ld->rc = fr_fail(ld->err, FR_EUNSUP,
                             "%s: key '%s.expert_gating_func' is %u; frugal supports 1 (softmax) "
                             "and 2 (sigmoid)",
                             m->path, a, g);
    }
    uint32_t nextn = 0;
    float temp_scale = 0.0f;
    ld_u32(ld, "nextn_predict_layers", &nextn, LD_OPTIONAL);
    ld_f32(ld, "attention.temperature_scale", &temp_scale, LD_OPTIONAL);
    if (!ld->rc && (nextn || temp_scale != 0.0f))
        ld->rc = fr_fail(
            ld->err, FR_EUNSUP, "%s: %s is not supported by frugal yet", m->path,
            nextn ? "a multi-token-prediction layer ('deepseek2.nextn_predict_layers')"
                  : "attention temperature scaling ('deepseek2.attention.temperature_scale')");
    hp->rope_type = FR_ROPE_NORM;
    float log_mul = hp->yarn_log_mul != 0.0f ? hp->yarn_log_mul / 0.1f : 0.0f;
    if (!ld->rc) yarn_factors(hp, log_mul);

    ld_io_tensors(ld);
    for (int il = 0; il < (int)hp->n_layer && !ld->rc; il++) {
        ld_attn_mla(ld, il, split);
        if ((uint32_t)il < hp->n_layer_dense_lead) {
            ld_ffn_dense(ld, il);
        } else {
            ld_ffn_moe_any(ld, il, hp->n_expert_shared > 0);
            m->layers[il].exp_probs_b =
                LD_T1(ld, LD_OPTIONAL, hp->n_expert, "blk.%d.exp_probs_b.bias", il);
        }
    }
    return ld->rc;
}
