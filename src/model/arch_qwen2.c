/* arch_qwen2.c: the "qwen2" architecture (Qwen1.5/2/2.5 dense): like llama but NeoX-style
 * RoPE (rotating pairs i and i + n_rot/2) and biases on the q, k and v projections. */
#include "model/loader.h"

int arch_qwen2_load(fr_loader *ld) {
    fr_hparams *hp = &ld->m->hp;
    ld_common_hparams(ld, hp);
    ld_u32(ld, "feed_forward_length", &hp->n_ff, LD_REQUIRED);
    hp->rope_type = FR_ROPE_NEOX;
    ld_io_tensors(ld);
    for (int il = 0; il < (int)hp->n_layer && !ld->rc; il++) {
        ld_attn_gqa(ld, il, LD_BIAS_QKV, 0);
        ld_ffn_dense(ld, il);
    }
    return ld->rc;
}
