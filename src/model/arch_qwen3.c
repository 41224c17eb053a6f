/* arch_qwen3.c: the "qwen3" architecture (Qwen3 dense): NeoX RoPE, no biases, RMSNorm of
 * each query and key head (attn_q_norm / attn_k_norm) before RoPE, head size from
 * attention.key_length (independent of embedding_length / head_count). */
#include "model/loader.h"

int arch_qwen3_load(fr_loader *ld) {
    fr_hparams *hp = &ld->m->hp;
    ld_common_hparams(ld, hp);
    ld_u32(ld, "feed_forward_length", &hp->n_ff, LD_REQUIRED);
    hp->rope_type = FR_ROPE_NEOX;
    ld_io_tensors(ld);
    for (int il = 0; il < (int)hp->n_layer && !ld->rc; il++) {
        ld_attn_gqa(ld, il, LD_BIAS_NONE, 1);
        ld_ffn_dense(ld, il);
    }
    return ld->rc;
}
