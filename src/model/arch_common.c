/* arch_common.c: tensor binders for the blocks architectures share: GQA attention, the
 * dense SwiGLU FFN and the mixture-of-experts FFN. */
#include "model/loader.h"

void ld_attn_gqa(fr_loader *ld, int il, int bias, int qk_norm) {
    const fr_hparams *hp = &ld->m->hp;
    fr_layer *L = &ld->m->layers[il];
    int64_t e = hp->n_embd, q = (int64_t)hp->n_head * hp->head_dim_k;
    int64_t k = (int64_t)hp->n_head_kv * hp->head_dim_k, v = (int64_t)hp->n_head_kv * hp->head_dim_v;
    int64_t o = (int64_t)hp->n_head * hp->head_dim_v;
    L->attn_norm = LD_T1(ld, LD_REQUIRED, e, "blk.%d.attn_norm.weight", il);
    L->wq = LD_T2(ld, LD_REQUIRED, e, q, "blk.%d.attn_q.weight", il);
    L->wk = LD_T2(ld, LD_REQUIRED, e, k, "blk.%d.attn_k.weight", il);
    L->wv = LD_T2(ld, LD_REQUIRED, e, v, "blk.%d.attn_v.weight", il);
    L->wo = LD_T2(ld, LD_REQUIRED, o, e, "blk.%d.attn_output.weight", il);
    if (bias != LD_BIAS_NONE) {
        int req = bias == LD_BIAS_QKV ? LD_REQUIRED : LD_OPTIONAL;
        L->bq = LD_T1(ld, req, q, "blk.%d.attn_q.bias", il);
        L->bk = LD_T1(ld, req, k, "blk.%d.attn_k.bias", il);
        L->bv = LD_T1(ld, req, v, "blk.%d.attn_v.bias", il);
        L->bo = LD_T1(ld, LD_OPTIONAL, e, "blk.%d.attn_output.bias", il);
    }
    if (qk_norm) {
        L->q_norm = LD_T1(ld, LD_REQUIRED, hp->head_dim_k, "blk.%d.attn_q_norm.weight", il);
        L->k_norm = LD_T1(ld, LD_REQUIRED, hp->head_dim_k, "blk.%d.attn_k_norm.weight", il);
    }
}

void ld_ffn_dense(fr_loader *ld, int il) {
    const fr_hparams *hp = &ld->m->hp;
    fr_layer *L = &ld->m->layers[il];
    int64_t e = hp->n_embd, f = hp->n_ff;
    L->ffn_norm = LD_T1(ld, LD_REQUIRED, e, "blk.%d.ffn_norm.weight", il);
    L->ffn_gate = LD_T2(ld, LD_REQUIRED, e, f, "blk.%d.ffn_gate.weight", il);
    L->ffn_up = LD_T2(ld, LD_REQUIRED, e, f, "blk.%d.ffn_up.weight", il);
    L->ffn_down = LD_T2(ld, LD_REQUIRED, f, e, "blk.%d.ffn_down.weight", il);
}

void ld_ffn_moe(fr_loader *ld, int il, int shared) {
    const fr_hparams *hp = &ld->m->hp;
    fr_layer *L = &ld->m->layers[il];
    int64_t e = hp->n_embd, f = hp->n_ff_exp, x = hp->n_expert;
    L->is_moe = true;
    L->ffn_norm = LD_T1(ld, LD_REQUIRED, e, "blk.%d.ffn_norm.weight", il);
    L->ffn_gate_inp = LD_T2(ld, LD_REQUIRED, e, x, "blk.%d.ffn_gate_inp.weight", il);
    L->ffn_gate_exps = LD_T3(ld, LD_REQUIRED, e, f, x, "blk.%d.ffn_gate_exps.weight", il);
    L->ffn_up_exps = LD_T3(ld, LD_REQUIRED, e, f, x, "blk.%d.ffn_up_exps.weight", il);
    L->ffn_down_exps = LD_T3(ld, LD_REQUIRED, f, e, x, "blk.%d.ffn_down_exps.weight", il);
    if (shared) {
        int64_t fs = (int64_t)hp->n_ff_exp * hp->n_expert_shared;
        L->ffn_gate_shexp = LD_T2(ld, LD_REQUIRED, e, fs, "blk.%d.ffn_gate_shexp.weight", il);
        L->ffn_up_shexp = LD_T2(ld, LD_REQUIRED, e, fs, "blk.%d.ffn_up_shexp.weight", il);
        L->ffn_down_shexp = LD_T2(ld, LD_REQUIRED, fs, e, "blk.%d.ffn_down_shexp.weight", il);
    }
}
