/* arch_llama.c: the "llama" architecture (Llama 1/2/3, Mistral-style dense): RMSNorm,
 * normal (adjacent-pair) RoPE with optional per-frequency factors (rope_freqs, Llama 3
 * scaling), GQA attention with optional biases, SwiGLU FFN. */
#include "model/loader.h"

int arch_llama_load(fr_loader *ld) {
    fr_model *m = ld->m;
    fr_hparams *hp = &m->hp;
    ld_common_hparams(ld, hp);
    ld_u32(ld, "feed_forward_length", &hp->n_ff, LD_REQUIRED);
    hp->rope_type = FR_ROPE_NORM;
    ld_io_tensors(ld);
    m->rope_freqs = LD_T1(ld, LD_OPTIONAL, hp->n_rot / 2, "rope_freqs.weight");
    for (int il = 0; il < (int)hp->n_layer && !ld->rc; il++) {
        ld_attn_gqa(ld, il, LD_BIAS_OPTIONAL, 0);
        ld_ffn_dense(ld, il);
    }
    return ld->rc;
}
