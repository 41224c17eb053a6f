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
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "model/forward.h"
#include "model/moe.h"
#include "quant/gemm.h"

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
    fr_chunker ch; /* GEMM path: (expert, panel) items */
    fr_split sp;   /* vec_dot path: (expert, row) items, one contiguous share per thread */
    /* tiled GEMM path (g non-NULL): act holds the activation rows in the GEMM's layout in
     * expert-sorted slot order ([n*K rows of act_row bytes], row k for moe_slots[k]); tmp is
     * [nth][tmp_per_thread] floats of per-thread kernel output ([n_tok_e, 16]) */
    const fr_gemm *g;
    const char *act;
    size_t act_row;
    float *tmp;
    size_t tmp_per_thread;
    fr_pool *pool;
} moe_job;

/* rows [lo, hi) of the flattened (active expert, row) space */
static void moe_worker(void *arg, int ith, int nth) {
    moe_job *j = arg;
    fr_ctx *c = j->c;
    int K = (int)c->m->hp.n_expert_used;
    int64_t lo, hi, n_in = j->wa->ne[0];
    fr_vec_dot_fn dot_a = fr_type_get(j->wa->type)->vec_dot;
    fr_vec_dot_fn dot_b = j->wb ? fr_type_get(j->wb->type)->vec_dot : NULL;
    int cursor = ith;
    (void)nth;
    while (fr_split_next(&j->sp, &cursor, &lo, &hi)) {
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

/* an expert with fewer slots than this uses vec_dot (packing a panel costs about as much as
 * a few row products); FRUGAL_MOE_GEMM_MIN overrides it for measurements */
static int moe_gemm_min(void) {
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("FRUGAL_MOE_GEMM_MIN");
        v = e && atoi(e) > 0 ? atoi(e) : 4;
    }
    return v;
}

/* out rows of slot order from the kernel's [cnt, 16] tile: y[slot * n_rows + r0 + r] */
static void scatter(const moe_job *j, float *y, const float *tmp, int32_t k0, int cnt, int64_t r0,
                    int nr) {
    for (int i = 0; i < cnt; i++)
        memcpy(y + (size_t)j->c->moe_slots[k0 + i] * j->n_rows + r0, tmp + (size_t)i * FR_GEMM_ROWS,
               sizeof(float) * (size_t)nr);
}

/* work items are (active expert, panel of FR_GEMM_ROWS rows); an expert with several slots
 * runs the tiled kernel over them (gate and up from the same packed buffer in turn), a
 * single slot uses vec_dot */
static void moe_gemm_worker(void *arg, int ith, int nth) {
    moe_job *j = arg;
    fr_ctx *c = j->c;
    int K = (int)c->m->hp.n_expert_used;
    int64_t lo, hi, n_in = j->wa->ne[0];
    int64_t n_pan = (j->n_rows + FR_GEMM_ROWS - 1) / FR_GEMM_ROWS;
    void *panel = fr_pool_scratch(j->pool, ith,
                                  fr_gemm_panel_size(j->g, n_in, fr_type_get(j->wa->type)->blck_size));
    float *tmp = j->tmp + (size_t)ith * j->tmp_per_thread;
    fr_vec_dot_fn dot_a = fr_type_get(j->wa->type)->vec_dot;
    (void)nth;
    while (fr_chunker_next(&j->ch, &lo, &hi)) {
        for (int64_t i = lo; i < hi; i++) {
            int e = c->moe_active[i / n_pan];
            int64_t r0 = (i % n_pan) * FR_GEMM_ROWS, wr = (int64_t)e * j->stride + r0;
            int nr = (int)(j->n_rows - r0 < FR_GEMM_ROWS ? j->n_rows - r0 : FR_GEMM_ROWS);
            int32_t k0 = c->moe_off[e];
            int cnt = c->moe_off[e + 1] - k0;
            if (cnt < moe_gemm_min()) {
                for (int r = 0; r < nr; r++) {
                    const void *ra = fr_tensor_row(j->wa, wr + r);
                    const void *rb = j->wb ? fr_tensor_row(j->wb, wr + j->off_b + r) : NULL;
                    for (int32_t k = k0; k < k0 + cnt; k++) {
                        int32_t slot = c->moe_slots[k];
                        const char *xr = j->x + (size_t)(j->x_per_slot ? slot : slot / K) * j->x_row;
                        dot_a(n_in, &j->ya[(size_t)slot * j->n_rows + r0 + r], ra, xr);
                        if (rb) dot_a(n_in, &j->yb[(size_t)slot * j->n_rows + r0 + r], rb, xr);
                    }
                }
                continue;
            }
            const char *act = j->act + (size_t)k0 * j->act_row;
            j->g->pack(panel, fr_tensor_row(j->wa, wr), j->wa->nb1, nr, n_in);
            j->g->kernel(tmp, FR_GEMM_ROWS, panel, act, j->act_row, nr, cnt, n_in);
            scatter(j, j->ya, tmp, k0, cnt, r0, nr);
            if (j->wb) {
                j->g->pack(panel, fr_tensor_row(j->wb, wr + j->off_b), j->wb->nb1, nr, n_in);
                j->g->kernel(tmp, FR_GEMM_ROWS, panel, act, j->act_row, nr, cnt, n_in);
                scatter(j, j->yb, tmp, k0, cnt, r0, nr);
            }
            /* a decode token (alone in its sequence) gets the one-token results, so batching
             * it with other sequences changes nothing (see op_matmul_split) */
            for (int32_t k = k0; k < k0 + cnt; k++) {
                int32_t slot = c->moe_slots[k];
                if (!c->tok_single[slot / K]) continue;
                const char *xr = j->x + (size_t)(j->x_per_slot ? slot : slot / K) * j->x_row;
                for (int r = 0; r < nr; r++) {
                    dot_a(n_in, &j->ya[(size_t)slot * j->n_rows + r0 + r], fr_tensor_row(j->wa, wr + r), xr);
                    if (j->wb)
                        dot_a(n_in, &j->yb[(size_t)slot * j->n_rows + r0 + r],
                              fr_tensor_row(j->wb, wr + j->off_b + r), xr);
                }
            }
        }
    }
}

/* act row k (expert-sorted) = the GEMM layout of x row moe_slots[k] (or its token) */
static void moe_act_worker(void *arg, int ith, int nth) {
    moe_job *j = arg;
    int K = (int)j->c->m->hp.n_expert_used;
    int32_t total = j->c->moe_off[j->c->m->hp.n_expert];
    for (int32_t k = ith; k < total; k += nth) {
        int32_t slot = j->c->moe_slots[k];
        const char *xr = j->x + (size_t)(j->x_per_slot ? slot : slot / K) * j->x_row;
        char *dst = (char *)j->act + (size_t)k * j->act_row;
        if (j->g->act_from) j->g->act_from(dst, xr, j->wa->ne[0]);
        else memcpy(dst, xr, j->x_row);
    }
}

/* FRUGAL_GEMM=0 turns the tiled path off here too (A/B measurements) */
static int moe_gemm_enabled(void) {
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("FRUGAL_GEMM");
        v = !(e && !strcmp(e, "0"));
    }
    return v;
}

/* the tiled path when the batch has several tokens and the kernel level has a GEMM for the
 * weights (both weights of a pair share a type); returns 0 when it ran */
static int run_gemm_job(moe_job *j, int n_tok) {
    fr_ctx *c = j->c;
    if (n_tok < 2 || !moe_gemm_enabled() || fr_cpu()->level <= FR_CPU_GENERIC) return -1;
    if (j->wb && j->wb->type != j->wa->type) return -1;
    const fr_gemm *g = fr_gemm_get(j->wa->type, fr_cpu()->level);
    if (!g) return -1;
    const fr_type_traits *tr = fr_type_get(j->wa->type);
    int nth = fr_pool_size(c->pool);
    int32_t total = c->moe_off[c->m->hp.n_expert], max_cnt = 1;
    for (int i = 0; i < j->n_active; i++) {
        int e = c->moe_active[i];
        if (c->moe_off[e + 1] - c->moe_off[e] > max_cnt) max_cnt = c->moe_off[e + 1] - c->moe_off[e];
    }
    j->g = g;
    j->pool = c->pool;
    j->act_row = g->act_from ? (size_t)(j->wa->ne[0] / tr->blck_size) * g->act_block_bytes : j->x_row;
    j->act = fr_pool_scratch(c->pool, nth, j->act_row * (size_t)total);
    j->tmp_per_thread = (size_t)max_cnt * FR_GEMM_ROWS;
    j->tmp = fr_pool_scratch(c->pool, nth + 1, sizeof(float) * j->tmp_per_thread * (size_t)nth);
    fr_pool_run(c->pool, moe_act_worker, j);
    int64_t n_pan = (j->n_rows + FR_GEMM_ROWS - 1) / FR_GEMM_ROWS;
    fr_chunker_init(&j->ch, (int64_t)j->n_active * n_pan, 1);
    fr_pool_run(c->pool, moe_gemm_worker, j);
    return 0;
}

static void run_job(moe_job *j) {
    fr_split_init(&j->sp, (int64_t)j->n_active * j->n_rows, fr_pool_size(j->c->pool), 0);
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
        if (run_gemm_job(&j, n)) run_job(&j);
        j.wa = wu, j.ya = c->moe_u, j.x = quantize(c, c->xq, tu, c->xn, n, e);
        j.x_row = fr_row_size(tu, e);
    }
    if (run_gemm_job(&j, n)) run_job(&j);
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
    if (run_gemm_job(&jd, n)) run_job(&jd);

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
        float *const ys[2] = {c->ff_a, c->ff_b};
        const fr_tensor *const ws[2] = {L->ffn_gate_shexp, L->ffn_up_shexp};
        const int64_t outs[2] = {fs, fs};
        fwd_linear_multi(c, &xc, 2, ys, ws, outs, c->xn, n);
        op_swiglu(c->ff_a, c->ff_a, c->ff_b, (int64_t)n * fs);
        fr_xq_cache xd = {0};
        fwd_linear(c, &xd, c->xn, L->ffn_down_shexp, 0, e, c->ff_a, n);
        for (size_t i = 0; i < (size_t)n * e; i++) c->moe_out[i] += c->xn[i];
    }
    for (size_t i = 0; i < (size_t)n * e; i++) c->x[i] += c->moe_out[i];
}
