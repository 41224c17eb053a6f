/* arch_qwen3moe.c: the "qwen3moe" architecture (Qwen3-MoE, e.g. 30B-A3B, 235B-A22B): Qwen3's
 * GQA attention (NeoX RoPE, per-head q/k RMSNorm, no biases) and a mixture-of-experts FFN in
 * every layer: softmax router, top-k, no shared expert. As in llama.cpp (the reference), the
 * chosen weights are always renormalised to sum 1 (Qwen3-MoE's norm_topk_prob is true; the
 * GGUF carries no key for it) and never scaled; expert_feed_forward_length defaults to
 * feed_forward_length / expert_used_count. */
#include "model/moe.h"

int arch_qwen3moe_load(fr_loader *ld) {
    fr_hparams *hp = &ld->m->hp;
    ld_common_hparams(ld, hp);
    ld_moe_hparams(ld, hp);
    ld_u32(ld, "feed_forward_length", &hp->n_ff, LD_OPTIONAL);
    ld_u32(ld, "expert_feed_forward_length", &hp->n_ff_exp, LD_OPTIONAL);
    if (!ld->rc && !hp->n_ff_exp) hp->n_ff_exp = hp->n_ff / hp->n_expert_used;
    ld_require(ld, hp->n_ff_exp > 0,
               "key 'qwen3moe.expert_feed_forward_length' is missing (and feed_forward_length "
               "does not give it)");
    ld_require(ld, hp->n_rot == hp->head_dim_k && hp->head_dim_k == hp->head_dim_v,
               "rope.dimension_count %u, key_length %u and value_length %u must be equal",
               hp->n_rot, hp->head_dim_k, hp->head_dim_v);
    hp->n_ff = 0; /* no dense FFN layers: the width only sized buffers */
    hp->gating = FR_GATE_SOFTMAX;
    hp->expert_weights_norm = true;
    hp->expert_weights_scale = 0.0f;
    hp->rope_type = FR_ROPE_NEOX;
    ld_io_tensors(ld);
    for (int il = 0; il < (int)hp->n_layer && !ld->rc; il++) {
        ld_attn_gqa(ld, il, LD_BIAS_NONE, 1);
        ld_ffn_moe(ld, il, 0);
    }
    return ld->rc;
}
