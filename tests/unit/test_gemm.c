/* test_gemm.c: suite_gemm: the tiled prefill GEMM (src/quant/gemm.h). For each weight type
 * with a GEMM (quantized and float) and each kernel level: the packed panel bytes equal the
 * scalar packer's, the kernel equals its scalar twin and the scalar vec_dot reference on
 * odd shapes (row counts not a multiple of 16, token counts not a multiple of 8, several
 * blocks; for float weights also row lengths not a multiple of 16), sums that must come out
 * exact do (extreme Q8_0 levels; F16 / BF16 extremes and subnormals), and op_matmul's GEMM
 * path equals its vec_dot path through the thread pool. */
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/pool.h"
#include "model/ops.h"
#include "quant/gemm.h"
#include "quant/quant_impl.h"
#include "t.h"

static uint32_t g_rng = 12345;
static float frand(void) {
    g_rng = g_rng * 1664525u + 1013904223u;
    return (float)((g_rng >> 8) & 0xFFFFFF) / (float)0x1000000 * 2.0f - 1.0f;
}

static const fr_type k_types[] = {FR_TYPE_Q8_0, FR_TYPE_Q4_K, FR_TYPE_Q5_K, FR_TYPE_Q6_K,
                                  FR_TYPE_F16,  FR_TYPE_BF16};

/* n_rows weight rows of n_in in type t (reference quantizer) */
static void *make_weights(fr_type t, int n_rows, int64_t n_in) {
    const fr_type_traits *tr = fr_type_get_ref(t);
    size_t rs = fr_row_size(t, n_in);
    char *w = malloc(rs * (size_t)n_rows);
    float *x = malloc(sizeof(float) * (size_t)n_in);
    for (int r = 0; r < n_rows; r++) {
        for (int64_t i = 0; i < n_in; i++) x[i] = frand() * (1.0f + (float)(r % 5));
        tr->from_float_ref(w + (size_t)r * rs, x, n_in);
    }
    free(x);
    return w;
}

/* n_tok activation rows in t's vec_dot_type, and in the GEMM's layout (g->act_from) */
static void make_acts(const fr_gemm *g, fr_type t, int n_tok, int64_t n_in, void **xq, void **act,
                      size_t *act_row) {
    fr_type vt = fr_type_get_ref(t)->vec_dot_type;
    size_t rs = fr_row_size(vt, n_in);
    *xq = malloc(rs * (size_t)n_tok);
    float *x = malloc(sizeof(float) * (size_t)n_in);
    for (int c = 0; c < n_tok; c++) {
        for (int64_t i = 0; i < n_in; i++) x[i] = frand() * 3.0f;
        fr_type_get_ref(vt)->from_float((char *)*xq + (size_t)c * rs, x, n_in);
    }
    free(x);
    int blck = fr_type_get_ref(t)->blck_size;
    *act_row = g->act_from ? (size_t)(n_in / blck) * g->act_block_bytes : rs;
    if (!g->act_from) {
        *act = *xq;
        return;
    }
    *act = malloc(*act_row * (size_t)n_tok);
    for (int c = 0; c < n_tok; c++)
        g->act_from((char *)*act + (size_t)c * *act_row, (char *)*xq + (size_t)c * rs, n_in);
}

/* |a - b| relative to the largest |output| of the whole product (sums of many products
 * cancel, so per-element relative errors say nothing about near-zero outputs) */
static double max_abs(const float *v, size_t n) {
    double m = 1e-30;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)v[i]) > m) m = fabs((double)v[i]);
    return m;
}

/* one type, one level: pack bytes, kernel vs twin vs vec_dot */
static void check_type(fr_type t, fr_cpu_level lv, int n_rows, int n_tok, int64_t n_in) {
    const fr_gemm *g = fr_gemm_get(t, lv), *g0 = fr_gemm_get(t, FR_CPU_GENERIC);
    if (!g) return;
    const fr_type_traits *tr = fr_type_get_ref(t);
    size_t rs = fr_row_size(t, n_in), psz = fr_gemm_panel_size(g, n_in, tr->blck_size);
    void *w = make_weights(t, n_rows, n_in);
    void *xq, *act;
    size_t act_row;
    make_acts(g0, t, n_tok, n_in, &xq, &act, &act_row);
    /* the SIMD activation conversion gives the scalar one's bytes */
    if (g->act_from) {
        size_t vrs = fr_row_size(tr->vec_dot_type, n_in);
        void *a2 = malloc(act_row);
        for (int c = 0; c < n_tok; c++) {
            g->act_from(a2, (char *)xq + (size_t)c * vrs, n_in);
            T_EXPECT(!memcmp(a2, (char *)act + (size_t)c * act_row, act_row),
                     "%s: act_from differs from the scalar one at token %d", tr->name, c);
        }
        free(a2);
    }
    const size_t palloc = (psz + 63) / 64 * 64; /* aligned_alloc wants a multiple of 64 */
    void *p = aligned_alloc(64, palloc), *p0 = aligned_alloc(64, palloc);
    float *out = malloc(sizeof(float) * (size_t)n_tok * FR_GEMM_ROWS);
    float *out0 = malloc(sizeof(float) * (size_t)n_tok * FR_GEMM_ROWS);
    double worst = 0, worst_ref = 0, big = 1e-30;
    for (int r0 = 0; r0 < n_rows; r0 += FR_GEMM_ROWS) {
        int nr = n_rows - r0 < FR_GEMM_ROWS ? n_rows - r0 : FR_GEMM_ROWS;
        const char *wr = (const char *)w + (size_t)r0 * rs;
        memset(p, 0xAB, psz);
        g->pack(p, wr, rs, nr, n_in);
        g0->pack(p0, wr, rs, nr, n_in);
        T_EXPECT(!memcmp(p, p0, psz), "%s level %d: packed panel at row %d differs from the scalar packer",
                 tr->name, lv, r0);
        for (size_t i = 0; i < (size_t)n_tok * FR_GEMM_ROWS; i++) out[i] = out0[i] = -999.0f;
        g->kernel(out, FR_GEMM_ROWS, p, act, act_row, nr, n_tok, n_in);
        g0->kernel(out0, FR_GEMM_ROWS, p0, act, act_row, nr, n_tok, n_in);
        for (int c = 0; c < n_tok; c++) {
            for (int r = 0; r < FR_GEMM_ROWS; r++) {
                float a = out[c * FR_GEMM_ROWS + r], b = out0[c * FR_GEMM_ROWS + r];
                if (r >= nr) { /* rows past the panel's end are never written */
                    T_EXPECT(a == -999.0f && b == -999.0f, "%s: wrote past row %d", tr->name, nr);
                    continue;
                }
                float ref;
                tr->vec_dot(n_in, &ref, wr + (size_t)r * rs,
                            (const char *)xq + (size_t)c * fr_row_size(tr->vec_dot_type, n_in));
                double e = fabs((double)a - b), e2 = fabs((double)a - ref);
                if (fabs((double)b) > big) big = fabs((double)b);
                if (e > worst) worst = e;
                if (e2 > worst_ref) worst_ref = e2;
            }
        }
    }
    worst /= big, worst_ref /= big;
    printf("  gemm %s level %s rows %d tok %d n %lld: max diff / max |out| vs twin %.2e, vs vec_dot %.2e\n",
           tr->name, fr_cpu_level_name(lv), n_rows, n_tok, (long long)n_in, worst, worst_ref);
    T_EXPECT(worst < 1e-5, "%s: kernel vs scalar twin rel diff %g", tr->name, worst);
    T_EXPECT(worst_ref < 1e-4, "%s: kernel vs vec_dot rel diff %g", tr->name, worst_ref);
    free(p), free(p0), free(out), free(out0), free(w);
    if (act != xq) free(act);
    free(xq);
}

static void kernels_match_twins(void) {
    const int shapes[][3] = {{16, 8, 256}, {37, 13, 512}, {5, 1, 768}, {33, 19, 256}, {16, 64, 1024}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
            for (int lv = FR_CPU_GENERIC; lv <= (int)fr_cpu()->level; lv++)
                check_type(k_types[i], (fr_cpu_level)lv, shapes[s][0], shapes[s][1], shapes[s][2]);
    /* float weights have 1-element blocks: row lengths off the 16-column transpose and the
     * 256-column partial sums, token counts across every tile size */
    const int fshapes[][3] = {{16, 12, 300}, {7, 25, 77}, {16, 3, 5}, {20, 2, 16}, {9, 7, 1}};
    const fr_type ftypes[] = {FR_TYPE_F16, FR_TYPE_BF16};
    for (size_t s = 0; s < sizeof fshapes / sizeof fshapes[0]; s++)
        for (size_t i = 0; i < 2; i++)
            for (int lv = FR_CPU_GENERIC; lv <= (int)fr_cpu()->level; lv++)
                check_type(ftypes[i], (fr_cpu_level)lv, fshapes[s][0], fshapes[s][1], fshapes[s][2]);
}

/* Q8_0 rows of +-127 everywhere against activations of +-127: the largest sums the u8
 * offset trick must carry exactly */
static void extreme_q8_0(const fr_gemm *g) {
    const int64_t n = 64;
    block_q8_0 w[FR_GEMM_ROWS][2], x[2];
    for (int r = 0; r < FR_GEMM_ROWS; r++)
        for (int k = 0; k < 2; k++) {
            w[r][k].d = fr_f32_to_f16(1.0f);
            for (int i = 0; i < 32; i++) w[r][k].qs[i] = (int8_t)((r + i) % 2 ? 127 : -127);
        }
    for (int k = 0; k < 2; k++) {
        x[k].d = fr_f32_to_f16(1.0f);
        for (int i = 0; i < 32; i++) x[k].qs[i] = (int8_t)(i % 3 ? -127 : 127);
    }
    fr_q8_0s act[2];
    if (g->act_from) g->act_from(act, x, n);
    _Alignas(64) uint8_t p[2 * FR_GEMM_Q8_0_PANEL];
    float out[FR_GEMM_ROWS];
    g->pack(p, w, sizeof w[0], FR_GEMM_ROWS, n);
    g->kernel(out, FR_GEMM_ROWS, p, g->act_from ? (const void *)act : (const void *)x, sizeof act,
              FR_GEMM_ROWS, 1, n);
    for (int r = 0; r < FR_GEMM_ROWS; r++) {
        long s = 0;
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < 32; i++) s += (long)w[r][k].qs[i] * x[k].qs[i];
        T_EXPECT(out[r] == (float)s, "row %d: %g, exact %ld", r, out[r], s);
    }
}

/* 16-bit float weights at the ends of their range whose sums f32 holds exactly: F16 rows of
 * +-65504 (the largest) and of subnormals m * 2^-24; BF16 rows of +-(1 + j/128) 2^100 and of
 * subnormals m * 2^-133 (f32 subnormal products too); activations +-1, +-2. n = 69 also
 * takes the packer's tail past the last 16 columns. */
static void extreme_float(fr_type t, const fr_gemm *g) {
    enum { N = 69 };
    const int bf = t == FR_TYPE_BF16;
    uint16_t w[FR_GEMM_ROWS][N], x[N];
    double wv[FR_GEMM_ROWS][N], xv[N];
    for (int r = 0; r < FR_GEMM_ROWS; r++)
        for (int i = 0; i < N; i++) {
            const int neg = (r + i) % 3 == 0, m = 1 + (37 * i + 11 * r) % 127;
            if (r < 8) {
                w[r][i] = bf ? (uint16_t)(((127 + 100) << 7) | m) : 0x7BFF; /* 2^100 (1 + m/128), 65504 */
                wv[r][i] = bf ? ldexp(1.0 + m / 128.0, 100) : 65504.0;
            } else {
                w[r][i] = (uint16_t)m; /* subnormal: m * 2^-133 (bf16), m * 2^-24 (f16) */
                wv[r][i] = ldexp(m, bf ? -133 : -24);
            }
            if (neg) w[r][i] |= 0x8000, wv[r][i] = -wv[r][i];
        }
    for (int i = 0; i < N; i++) {
        const int two = i % 4 == 1, neg = i % 5 < 2;
        xv[i] = (two ? 2.0 : 1.0) * (neg ? -1.0 : 1.0);
        x[i] = bf ? fr_f32_to_bf16((float)xv[i]) : fr_f32_to_f16((float)xv[i]);
    }
    float act[N], out[2 * FR_GEMM_ROWS];
    _Alignas(64) uint8_t p[N * 32];
    g->act_from(act, x, N);
    g->pack(p, w, sizeof w[0], FR_GEMM_ROWS, N);
    for (int i = 0; i < 2 * FR_GEMM_ROWS; i++) out[i] = -1.0f;
    g->kernel(out, 2 * FR_GEMM_ROWS, p, act, sizeof act, FR_GEMM_ROWS, 1, N);
    for (int r = 0; r < FR_GEMM_ROWS; r++) {
        double s = 0;
        for (int i = 0; i < N; i++) s += wv[r][i] * xv[i];
        T_EXPECT(out[r] == (float)s && (float)s == s, "%s row %d: %g, exact %g", fr_type_name(t), r,
                 out[r], s);
    }
}

/* every SIMD level the CPU has, from AVX2 up (objects a level lacks are skipped) */
static void extreme_levels(void) {
    int ran = 0;
    for (int lv = FR_CPU_AVX2; lv <= (int)fr_cpu()->level; lv++) {
        const fr_gemm *g = fr_gemm_get(FR_TYPE_Q8_0, (fr_cpu_level)lv);
        if (g) extreme_q8_0(g), ran++;
        for (int f = 0; f < 2; f++) {
            const fr_type t = f ? FR_TYPE_BF16 : FR_TYPE_F16;
            if ((g = fr_gemm_get(t, (fr_cpu_level)lv))) extreme_float(t, g), ran++;
        }
    }
    /* the scalar float twins, which the others are measured against */
    for (int f = 0; f < 2; f++) {
        const fr_type t = f ? FR_TYPE_BF16 : FR_TYPE_F16;
        const fr_gemm *g = fr_gemm_get(t, FR_CPU_GENERIC);
        if (g) extreme_float(t, g);
    }
    if (!ran) t_skip("no SIMD GEMM at this CPU's levels");
}

/* op_matmul through the pool: the GEMM path (many tokens) equals the vec_dot path (one
 * token at a time) for each type */
static void op_matmul_paths_agree(void) {
    fr_pool *pool = fr_pool_create(3);
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++) {
        fr_type t = k_types[i];
        const int n_out = 50, n_tok = 21;
        const int64_t n_in = 512;
        fr_tensor w = {"w", t, 2, {n_in, n_out, 1, 1}, NULL, fr_row_size(t, n_in)};
        w.data = make_weights(t, n_out, n_in);
        fr_type vt = fr_type_get(t)->vec_dot_type;
        size_t xs = fr_row_size(vt, n_in);
        char *xq = malloc(xs * n_tok);
        float *x = malloc(sizeof(float) * n_in);
        for (int c = 0; c < n_tok; c++) {
            for (int64_t k = 0; k < n_in; k++) x[k] = frand();
            fr_type_get(vt)->from_float(xq + (size_t)c * xs, x, n_in);
        }
        float *a = malloc(sizeof(float) * n_out * n_tok), *b = malloc(sizeof(float) * n_out * n_tok);
        op_matmul(pool, a, n_out, &w, 0, n_out, xq, n_tok);
        for (int c = 0; c < n_tok; c++)
            op_matmul(pool, b + (size_t)c * n_out, n_out, &w, 0, n_out, xq + (size_t)c * xs, 1);
        double worst = 0, big = max_abs(b, (size_t)n_out * n_tok);
        for (int k = 0; k < n_out * n_tok; k++) {
            double e = fabs((double)a[k] - b[k]) / big;
            if (e > worst) worst = e;
        }
        T_EXPECT(worst < 1e-4, "%s: batched vs one-token op_matmul rel diff %g", fr_type_name(t), worst);
        free(a), free(b), free(x), free(xq), free((void *)w.data);
    }
    fr_pool_free(pool);
}

void suite_gemm(void) {
    T_CASE(kernels_match_twins);
    T_CASE(extreme_levels);
    T_CASE(op_matmul_paths_agree);
}
