/* ffn_dense.c: the dense SwiGLU feed-forward block: x += W_down (silu(W_gate xn) * W_up xn). */
#include "model/forward.h"

void blk_ffn_dense(fr_ctx *c, const fr_layer *L, const fr_step *s) {
    const fr_hparams *hp = &c->m->hp;
    int n = s->n;
    int64_t e = hp->n_embd, f = L->ffn_gate->ne[1];
    op_rms_norm(c->xn, c->x, (const float *)L->ffn_norm->data, n, e, hp->rms_eps);
    fr_xq_cache xc = {0};
    float *const ys[2] = {c->ff_a, c->ff_b};
    const fr_tensor *const ws[2] = {L->ffn_gate, L->ffn_up};
    const int64_t outs[2] = {f, f};
    fwd_linear_multi(c, &xc, 2, ys, ws, outs, c->xn, n);
    op_swiglu(c->ff_a, c->ff_a, c->ff_b, (int64_t)n * f);
    fr_xq_cache xd = {0};
    fwd_linear(c, &xd, c->xn, L->ffn_down, 0, e, c->ff_a, n);
    for (size_t i = 0; i < (size_t)n * e; i++) c->x[i] += c->xn[i];
}
