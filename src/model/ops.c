/* ops.c: norms, bias, activations, RoPE, and the threaded matrix-vector product. */
#include "model/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "quant/gemm.h"
#include "quant/vec.h"

void op_rms_norm(float *out, const float *x, const float *w, int n_tok, int64_t n, float eps) {
    for (int t = 0; t < n_tok; t++) {
        const float *xt = x + (size_t)t * n;
        float *ot = out + (size_t)t * n;
        double sum = 0.0; /* ggml accumulates in double too */
        for (int64_t i = 0; i < n; i++) sum += (double)xt[i] * xt[i];
        float scale = 1.0f / sqrtf((float)(sum / (double)n) + eps);
        if (w)
            for (int64_t i = 0; i < n; i++) ot[i] = xt[i] * scale * w[i];
        else
            for (int64_t i = 0; i < n; i++) ot[i] = xt[i] * scale;
    }
}

typedef struct {
    void *dst;
    const fr_type_traits *tr;
    size_t row;
    const float *x;
    int n_tok;
    int64_t n_in;
} quant_job;

static void quant_worker(void *arg, int ith, int nth) {
    quant_job *j = arg;
    for (int t = ith; t < j->n_tok; t += nth)
        j->tr->from_float((char *)j->dst + (size_t)t * j->row, j->x + (size_t)t * j->n_in, j->n_in);
}

void op_quantize_rows(fr_pool *pool, void *dst, fr_type t, const float *x, int n_tok, int64_t n_in) {
    quant_job j = {dst, fr_type_get(t), fr_row_size(t, n_in), x, n_tok, n_in};
    if (t == FR_TYPE_F32) {
        memcpy(dst, x, sizeof(float) * (size_t)n_tok * (size_t)n_in);
        return;
    }
    if ((int64_t)n_tok * n_in <= OP_SMALL_ELEMS) quant_worker(&j, 0, 1); /* e.g. a decode's expert rows */
    else fr_pool_run(pool, quant_worker, &j);
}

/* ---- matrix products: one job over the rows (or 16-row panels) of 1..OP_MM_MAX matrices
 * that read the same activations, so q/k/v or gate/up cost one pool sync, not three ---- */

typedef struct {
    op_mm mm[OP_MM_MAX];
    int n_mm;
    int64_t first[OP_MM_MAX + 1]; /* first global row (or panel) of each matrix */
    const char *xq;               /* [n_tok] rows in the vec_dot_type */
    size_t x_row;
    int n_tok;
    const int32_t *toks; /* vec_dot path: the tokens to compute ([n_tok] indices), NULL: all */
    fr_vec_dot_fn dot;
    /* tiled GEMM path */
    const fr_gemm *g;
    fr_pool *pool;
    char *act; /* [n_tok] rows in the GEMM's activation layout (xq when the same) */
    size_t act_row;
    fr_chunker ch; /* GEMM path: panels */
    fr_split sp;   /* vec_dot path: rows, one contiguous share per thread */
} matmul_job;

/* the matrix holding global index i (row or panel), and i made local to it */
static inline const op_mm *mm_at(const matmul_job *j, int64_t *i) {
    int m = 0;
    while (*i >= j->first[m + 1]) m++;
    *i -= j->first[m];
    return &j->mm[m];
}

static void matmul_worker(void *arg, int ith, int nth) {
    matmul_job *j = arg;
    int64_t lo, hi;
    int cursor = ith;
    (void)nth;
    while (fr_split_next(&j->sp, &cursor, &lo, &hi)) {
        for (int64_t i = lo; i < hi; i++) {
            int64_t r = i;
            const op_mm *m = mm_at(j, &r);
            const void *wr = fr_tensor_row(m->w, m->row0 + r);
            for (int k = 0; k < j->n_tok; k++) {
                int t = j->toks ? j->toks[k] : k;
                j->dot(m->w->ne[0], &m->out[(size_t)t * m->ld_out + r], wr, j->xq + (size_t)t * j->x_row);
            }
        }
    }
}

static void gemm_act_worker(void *arg, int ith, int nth) {
    matmul_job *j = arg;
    for (int t = ith; t < j->n_tok; t += nth)
        j->g->act_from(j->act + (size_t)t * j->act_row, j->xq + (size_t)t * j->x_row, j->mm[0].w->ne[0]);
}

static void gemm_worker(void *arg, int ith, int nth) {
    matmul_job *j = arg;
    const int64_t n_in = j->mm[0].w->ne[0];
    void *panel = fr_pool_scratch(j->pool, ith,
                                  fr_gemm_panel_size(j->g, n_in, fr_type_get(j->mm[0].w->type)->blck_size));
    int64_t lo, hi;
    (void)nth;
    while (fr_chunker_next(&j->ch, &lo, &hi)) {
        for (int64_t i = lo; i < hi; i++) {
            int64_t p = i;
            const op_mm *m = mm_at(j, &p);
            int64_t r0 = p * FR_GEMM_ROWS;
            int nr = (int)(m->n_out - r0 < FR_GEMM_ROWS ? m->n_out - r0 : FR_GEMM_ROWS);
            j->g->pack(panel, fr_tensor_row(m->w, m->row0 + r0), m->w->nb1, nr, n_in);
            j->g->kernel(m->out + r0, m->ld_out, panel, j->act, j->act_row, nr, j->n_tok, n_in);
        }
    }
}

/* FRUGAL_GEMM=0 turns the tiled path off (A/B measurements); otherwise batches of at least
 * this many tokens use it where the kernel level has a GEMM for the weight type. */
static int gemm_min_tokens(void) {
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("FRUGAL_GEMM");
        v = e && !strcmp(e, "0") ? 1 << 30 : 2;
    }
    return v;
}

static void job_init(matmul_job *j, const op_mm *mm, int n_mm, const void *xq, int n_tok) {
    const fr_type_traits *tr = fr_type_get(mm[0].w->type);
    memset(j, 0, sizeof *j);
    FR_ASSERT(n_mm >= 1 && n_mm <= OP_MM_MAX);
    for (int i = 0; i < n_mm; i++) {
        FR_ASSERT(mm[i].w->type == mm[0].w->type && mm[i].w->ne[0] == mm[0].w->ne[0]);
        j->mm[i] = mm[i];
    }
    j->n_mm = n_mm;
    j->xq = xq;
    j->x_row = fr_row_size(tr->vec_dot_type, mm[0].w->ne[0]);
    j->n_tok = n_tok;
    j->dot = tr->vec_dot;
}

static void matmul_gemm(fr_pool *pool, const fr_gemm *g, const op_mm *mm, int n_mm, const void *xq,
                        int n_tok) {
    matmul_job j;
    job_init(&j, mm, n_mm, xq, n_tok);
    const fr_type_traits *tr = fr_type_get(mm[0].w->type);
    const int64_t n_in = mm[0].w->ne[0];
    j.g = g, j.pool = pool, j.act = (char *)xq, j.act_row = j.x_row;
    if (g->act_from) {
        j.act_row = (size_t)(n_in / tr->blck_size) * g->act_block_bytes;
        j.act = fr_pool_scratch(pool, fr_pool_size(pool), j.act_row * (size_t)n_tok);
        fr_pool_run(pool, gemm_act_worker, &j);
    }
    for (int i = 0; i < n_mm; i++) j.first[i + 1] = j.first[i] + (mm[i].n_out + FR_GEMM_ROWS - 1) / FR_GEMM_ROWS;
    fr_chunker_init(&j.ch, j.first[n_mm], 1);
    fr_pool_run(pool, gemm_worker, &j);
}

/* the row-by-row vec_dot path over the listed tokens (toks NULL: all n_tok) */
static void matmul_rows(fr_pool *pool, const op_mm *mm, int n_mm, const void *xq, int n_tok,
                        const int32_t *toks) {
    matmul_job j;
    job_init(&j, mm, n_mm, xq, n_tok);
    j.toks = toks;
    for (int i = 0; i < n_mm; i++) j.first[i + 1] = j.first[i] + mm[i].n_out;
    fr_split_init(&j.sp, j.first[n_mm], fr_pool_size(pool), 0);
    fr_pool_run(pool, matmul_worker, &j);
}

static const fr_gemm *gemm_for(const fr_tensor *w) {
    return fr_cpu()->level > FR_CPU_GENERIC ? fr_gemm_get(w->type, fr_cpu()->level) : NULL;
}

void op_matmul(fr_pool *pool, float *out, int64_t ld_out, const fr_tensor *w, int64_t row0,
               int64_t n_out, const void *xq, int n_tok) {
    op_mm mm = {out, ld_out, w, row0, n_out};
    op_matmul_multi(pool, &mm, 1, xq, n_tok, NULL, NULL);
}

void op_matmul_split(fr_pool *pool, float *out, int64_t ld_out, const fr_tensor *w, int64_t row0,
                     int64_t n_out, const void *xq, int n_tok, const uint8_t *single,
                     int32_t *scratch) {
    op_mm mm = {out, ld_out, w, row0, n_out};
    op_matmul_multi(pool, &mm, 1, xq, n_tok, single, scratch);
}

void op_matmul_multi(fr_pool *pool, const op_mm *mm, int n_mm, const void *xq, int n_tok,
                     const uint8_t *single, int32_t *scratch) {
    int n_single = 0;
    if (single)
        for (int t = 0; t < n_tok; t++)
            if (single[t]) scratch[n_single++] = t;
    const fr_gemm *g = n_tok - n_single >= gemm_min_tokens() ? gemm_for(mm[0].w) : NULL;
    if (!g) {
        matmul_rows(pool, mm, n_mm, xq, n_tok, NULL);
        return;
    }
    /* the GEMM over the whole batch (its per-token results do not depend on the other
     * tokens), then the single tokens again through vec_dot so they match a lone decode */
    matmul_gemm(pool, g, mm, n_mm, xq, n_tok);
    if (n_single) matmul_rows(pool, mm, n_mm, xq, n_single, scratch);
}

float op_softmax_exp(float *x, int32_t n) {
    float mx = -INFINITY;
    for (int32_t j = 0; j < n; j++)
        if (x[j] > mx) mx = x[j];
    double sum = 0.0;
    for (int32_t j = 0; j < n; j++) {
        x[j] = expf(x[j] - mx);
        sum += x[j];
    }
    return (float)(1.0 / sum);
}

void op_add_bias(float *x, const float *b, int n_tok, int64_t n) {
    for (int t = 0; t < n_tok; t++)
        for (int64_t i = 0; i < n; i++) x[(size_t)t * n + i] += b[i];
}

void op_swiglu(float *out, const float *g, const float *u, int64_t n) {
    fr_vec_swiglu_f32(n, out, g, u);
}

static float yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
    return (float)n_dims * logf((float)n_ctx_orig / (n_rot * 2.0f * (float)M_PI)) / (2.0f * logf(base));
}

void op_rope_cache(float *cs, const fr_hparams *hp, const float *freq_factors, int32_t pos) {
    int n_dims = (int)hp->n_rot;
    float theta_scale = powf(hp->rope_freq_base, -2.0f / (float)n_dims);
    float freq_scale = hp->rope_freq_scale, ext = hp->yarn_ext_factor;
    float corr0 = 0, corr1 = 0;
    if (ext != 0.0f) {
        float start = floorf(yarn_corr_dim(n_dims, (int)hp->rope_n_ctx_orig, hp->yarn_beta_fast,
                                           hp->rope_freq_base));
        float end = ceilf(yarn_corr_dim(n_dims, (int)hp->rope_n_ctx_orig, hp->yarn_beta_slow,
                                        hp->rope_freq_base));
        corr0 = start > 0 ? start : 0;
        corr1 = end < (float)(n_dims - 1) ? end : (float)(n_dims - 1);
    }
    float theta = (float)pos;
    for (int i0 = 0; i0 < n_dims; i0 += 2) {
        float ff = freq_factors ? freq_factors[i0 / 2] : 1.0f;
        float theta_extrap = theta / ff;
        float theta_interp = freq_scale * theta_extrap;
        float th = theta_interp, mscale = hp->yarn_attn_factor;
        if (ext != 0.0f) {
            float y = ((float)(i0 / 2) - corr0) / fmaxf(0.001f, corr1 - corr0);
            float ramp = (1.0f - fminf(1.0f, fmaxf(0.0f, y))) * ext;
            th = theta_interp * (1.0f - ramp) + theta_extrap * ramp;
            mscale *= 1.0f + 0.1f * logf(1.0f / freq_scale);
        }
        cs[i0] = cosf(th) * mscale;
        cs[i0 + 1] = sinf(th) * mscale;
        theta *= theta_scale;
    }
}

void op_rope_apply(float *x, const float *cs, int n_heads, int64_t head_dim, int64_t n_rot,
                   fr_rope_type type) {
    for (int h = 0; h < n_heads; h++) {
        float *xh = x + (size_t)h * head_dim;
        for (int64_t i0 = 0; i0 < n_rot; i0 += 2) {
            float c = cs[i0], s = cs[i0 + 1];
            int64_t a = type == FR_ROPE_NEOX ? i0 / 2 : i0;
            int64_t b = type == FR_ROPE_NEOX ? i0 / 2 + n_rot / 2 : i0 + 1;
            float x0 = xh[a], x1 = xh[b];
            xh[a] = x0 * c - x1 * s;
            xh[b] = x0 * s + x1 * c;
        }
    }
}
