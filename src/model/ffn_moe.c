/* ffn_moe.c: the mixture-of-experts feed-forward block (qwen3moe, deepseek2):
 *   xn = rms_norm(x) * ffn_norm;  route every token (moe_router.c);
 *   y_t = sum over its chosen experts e, best first, of w_e * down_e(silu(gate_e xn) * up_e xn)
 *         (+ the shared experts' SwiGLU FFN, deepseek2);   x += y.
 * Execution is grouped by expert: the batch's (token, rank) slots are bucketed per expert and
 * each chosen expert's gate/up/down rows are read once for all its slots. Threads claim
 * chunks of (expert, row) work from one counter, so decode (few slots) and prefill (many)
 * both spread over every thread. Experts no token chose are never read. The normed input is
 * quantized once per token for all experts (and reused by the shared experts when their
 * type agrees). Environment FRUGAL_MOE_TRACE=FILE logs each routing decision's margin. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/forward.h"
#include "model/moe.h"

typedef struct {
    fr_ctx *c;
    const fr_tensor *wa, *wb; /* gate and up (pass 1) or down (pass 2, wb NULL) */
    float *ya, *yb;           /* [slots, n_rows] outputs */
    const char *x;            /* activation rows in the weights' vec_dot_type */
    size_t x_row;             /* bytes per activation row */
    int x_per_slot;           /* 1: one x row per slot; 0: one per token (slot / K) */
    int64_t n_rows;           /* output rows per expert (F for gate/up, n_embd for down) */
    int64_t stride, off_b;    /* weight rows per expert; wb's first row within an expert */
    int n_active;
    fr_chunker ch;
} moe_job;

/* rows [lo, hi) of the flattened (active expert, row) space */
static void moe_worker(void *arg, int ith, int nth) {
    moe_job *j = arg;
    fr_ctx *c = j->c;
    int K = (int)c->m->hp.n_expert_used;
    int64_t lo, hi, n_in = j->wa->ne[0];
    fr_vec_dot_fn dot_a = fr_type_get(j->wa->type)->vec_dot;
    fr_vec_dot_fn dot_b = j->wb ? fr_type_get(j->wb->type)->vec_dot : NULL;
    (void)ith, (void)nth;
    while (fr_chunker_next(&j->ch, &lo, &hi)) {
        for (int64_t i = lo; i < hi; i++) {
            int e = c->moe_active[i / j->n_rows];
            int64_t r = i % j->n_rows, wr = (int64_t)e * j->stride + r;
            const void *ra = fr_tensor_row(j->wa, wr);
            const void *rb = j->wb ? fr_tensor_row(j->wb, wr + j->off_b) : NULL;
            for (int32_t k = c->moe_off[e]; k < c->moe_off[e + 1]; k++) {
                int32_t slot = c->moe_slots[k];
                const char *xr = j->x + (size_t)(j->x_per_slot ? slot : slot / K) * j->x_row;
                dot_a(n_in, &j->ya[(size_t)slot * j->n_rows + r], ra, xr);
                if (rb) dot_b(n_in, &j->yb[(size_t)slot * j->n_rows + r], rb, xr);
            }
        }
    }
}

static void run_job(moe_job *j) {
    int nth = fr_pool_size(j->c->pool);
    int64_t total = (int64_t)j->n_active * j->n_rows;
    int64_t chunk = total / (nth * 8);
    if (chunk < 4) chunk = 4;
    if (chunk > 64) chunk = 64;
    fr_chunker_init(&j->ch, total, chunk);
    fr_pool_run(j->c->pool, moe_worker, j);
}

/* rows of x quantized to type t into dst (or x itself for f32) */
static const char *quantize(fr_ctx *c, void *dst, fr_type t, const float *x, int n_rows,
                            int64_t n_in) {
    if (t == FR_TYPE_F32) return (const char *)x;
    op_quantize_rows(c->pool, dst, t, x, n_rows, n_in);
    return dst;
}

/* routes the batch and buckets its slots by expert; returns the number of chosen experts */
static int route(fr_ctx *c, const fr_layer *L, const fr_step *s) {
    const fr_hparams *hp = &c->m->hp;
    int E = (int)hp->n_expert, K = (int)hp->n_expert_used, n = s->n;
    fr_moe_router r = fr_moe_router_of(hp, L);
    for (int t = 0; t < n; t++) {
        float margin = fr_moe_route(c->moe_sel + (size_t)t * K, c->moe_w + (size_t)t * K,
                                    c->moe_logits + (size_t)t * E, c->moe_scratch, &r);
        if (c->moe_trace) {
            FILE *f = c->moe_trace;
            fprintf(f, "%d %d %d %.9g", (int)(L - c->m->layers), s->seq[t], s->pos[t], margin);
            for (int k = 0; k < K; k++) fprintf(f, " %d", c->moe_sel[(size_t)t * K + k]);
            fputc('\n', f);
        }
    }
    if (c->moe_trace) fflush(c->moe_trace);
    /* bucket the slots by expert */
    memset(c->moe_cnt, 0, sizeof(int32_t) * (size_t)E);
    for (int i = 0; i < n * K; i++) c->moe_cnt[c->moe_sel[i]]++;
    int n_active = 0;
    c->moe_off[0] = 0;
    for (int e = 0; e < E; e++) {
        c->moe_off[e + 1] = c->moe_off[e] + c->moe_cnt[e];
        if (c->moe_cnt[e]) c->moe_active[n_active++] = e;
        c->moe_cnt[e] = c->moe_off[e]; /* now the fill cursor */
    }
    for (int i = 0; i < n * K; i++) c->moe_slots[c->moe_cnt[c->moe_sel[i]]++] = i;
    return n_active;
}

void blk_ffn_moe(fr_ctx *c, const fr_layer *L, const fr_step *s) {
    const fr_hparams *hp = &c->m->hp;
    int n = s->n, K = (int)hp->n_expert_used;
    int64_t e = hp->n_embd, F = hp->n_ff_exp;
    op_rms_norm(c->xn, c->x, (const float *)L->ffn_norm->data, n, e, hp->rms_eps);

    /* router logits (the router is usually f32) */
    fr_xq_cache xr = {0};
    fwd_linear(c, &xr, c->moe_logits, L->ffn_gate_inp, 0, hp->n_expert, c->xn, n);
    int n_active = route(c, L, s);

    /* gate and up of every chosen expert, grouped by expert (from one fused tensor or two) */
    const fr_tensor *wg = L->ffn_gate_up_exps ? L->ffn_gate_up_exps : L->ffn_gate_exps;
    const fr_tensor *wu = L->ffn_gate_up_exps ? L->ffn_gate_up_exps : L->ffn_up_exps;
    int64_t stride = L->ffn_gate_up_exps ? 2 * F : F, off_u = L->ffn_gate_up_exps ? F : 0;
    fr_type tg = fr_type_get(wg->type)->vec_dot_type, tu = fr_type_get(wu->type)->vec_dot_type;
    const char *xq = quantize(c, c->moe_xq, tg, c->xn, n, e);
    moe_job j = {.c = c,
                 .wa = wg,
                 .wb = wu,
                 .ya = c->moe_h,
                 .yb = c->moe_u,
                 .x = xq,
                 .x_row = fr_row_size(tg, e),
                 .n_rows = F,
                 .stride = stride,
                 .off_b = off_u,
                 .n_active = n_active};
    if (tu != tg) { /* unusual: separate gate and up in different types */
        j.wb = NULL;
        run_job(&j);
        j.wa = wu, j.ya = c->moe_u, j.x = quantize(c, c->xq, tu, c->xn, n, e);
        j.x_row = fr_row_size(tu, e);
    }
    run_job(&j);
    op_swiglu(c->moe_h, c->moe_h, c->moe_u, (int64_t)n * K * F);

    /* down, one activation row per slot */
    fr_type td = fr_type_get(L->ffn_down_exps->type)->vec_dot_type;
    const char *hq = quantize(c, c->moe_hq, td, c->moe_h, n * K, F);
    moe_job jd = {.c = c,
                  .wa = L->ffn_down_exps,
                  .ya = c->moe_y,
                  .x = hq,
                  .x_row = fr_row_size(td, F),
                  .x_per_slot = 1,
                  .n_rows = e,
                  .stride = e,
                  .n_active = n_active};
    run_job(&jd);

    /* weighted sum in rank order (as llama.cpp adds its expert views) */
    for (int t = 0; t < n; t++) {
        float *o = c->moe_out + (size_t)t * e;
        for (int k = 0; k < K; k++) {
            const float *y = c->moe_y + ((size_t)t * K + k) * e;
            float w = c->moe_w[(size_t)t * K + k];
            if (k == 0)
                for (int64_t i = 0; i < e; i++) o[i] = y[i] * w;
            else
                for (int64_t i = 0; i < e; i++) o[i] += y[i] * w;
        }
    }

    /* shared experts: a dense SwiGLU FFN on the same input */
    if (L->ffn_gate_shexp) {
        int64_t fs = L->ffn_gate_shexp->ne[1];
        fr_xq_cache xc = {c->xn, tg, xq}; /* reuses the experts' quantized input when types agree */
        fwd_linear(c, &xc, c->ff_a, L->ffn_gate_shexp, 0, fs, c->xn, n);
        fwd_linear(c, &xc, c->ff_b, L->ffn_up_shexp, 0, fs, c->xn, n);
        op_swiglu(c->ff_a, c->ff_a, c->ff_b, (int64_t)n * fs);
        fr_xq_cache xd = {0};
        fwd_linear(c, &xd, c->xn, L->ffn_down_shexp, 0, e, c->ff_a, n);
        for (size_t i = 0; i < (size_t)n * e; i++) c->moe_out[i] += c->xn[i];
    }
    for (size_t i = 0; i < (size_t)n * e; i++) c->x[i] += c->moe_out[i];
}
