/* test_attn.c: suite_attn: the 16-lane attention kernels (quant/attn16.h) at every SIMD
 * level against the generic reference, and the tiled prefill attention (model/attn_tile.h)
 * against the per-head path on GQA and MLA models with f16 and f32 caches. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fp16.h"
#include "model/attn_tile.h"
#include "quant/attn16.h"
#include "t.h"
#include "t_model.h"

static uint32_t g_rng = 777;
static float frand(void) {
    g_rng = g_rng * 1664525u + 1013904223u;
    return (float)((g_rng >> 8) & 0xFFFFFF) / (float)0x1000000 * 2.0f - 1.0f;
}

static float *rnd(size_t n, float scale) {
    float *x = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) x[i] = frand() * scale;
    return x;
}

static double max_abs(const float *v, size_t n) {
    double m = 1e-30;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)v[i]) > m) m = fabs((double)v[i]);
    return m;
}

static void check_scores(const fr_attn16_kernels *k, const char *lv, int n, int64_t d) {
    const int L = FR_ATTN_LANES;
    int64_t ldk = d + 3;
    float *qt = rnd((size_t)d * L, 1.0f), *kr = rnd((size_t)n * ldk, 1.0f);
    float *a = malloc(sizeof(float) * (size_t)n * L), *b = malloc(sizeof(float) * (size_t)n * L);
    k->scores(a, qt, kr, ldk, n, d, 0.125f);
    fr_attn16_generic.scores(b, qt, kr, ldk, n, d, 0.125f);
    double big = max_abs(b, (size_t)n * L), worst = 0;
    for (int i = 0; i < n * L; i++) worst = fmax(worst, fabs((double)a[i] - b[i]) / big);
    T_EXPECT(worst < 1e-5, "scores %s n %d d %lld: rel diff %g", lv, n, (long long)d, worst);
    free(qt), free(kr), free(a), free(b);
}

static void check_softmax(const fr_attn16_kernels *k, const char *lv, int n, int round16) {
    const int L = FR_ATTN_LANES;
    float *a = rnd((size_t)n * L, 12.0f), *b = malloc(sizeof(float) * (size_t)n * L);
    memcpy(b, a, sizeof(float) * (size_t)n * L);
    int32_t lim[FR_ATTN_LANES];
    for (int l = 0; l < L; l++) lim[l] = l == 3 ? 0 : l == 5 ? n : 1 + (l * 7) % n;
    k->softmax(a, n, lim, round16);
    fr_attn16_generic.softmax(b, n, lim, round16);
    double worst = 0;
    int zeros_ok = 1;
    for (int l = 0; l < L; l++) {
        double sum = 0;
        for (int j = 0; j < n; j++) {
            float x = a[j * L + l], y = b[j * L + l];
            if (j >= lim[l]) zeros_ok &= x == 0.0f && y == 0.0f;
            /* rounding through f16 turns a last-bit difference into one f16 step */
            double tol = round16 ? fabs((double)y) * 0x1p-10 + 1e-7 : fabs((double)y) * 4e-7 + 1e-9;
            worst = fmax(worst, fabs((double)x - y) / tol);
            sum += x;
        }
        if (lim[l] > 0 && fabs(sum - 1.0) > (round16 ? 2e-3 : 1e-5)) worst = fmax(worst, 99);
    }
    T_EXPECT(zeros_ok, "softmax %s n %d: positions past a lane's limit are not 0", lv, n);
    T_EXPECT(worst <= 1.0, "softmax %s n %d round16 %d: diff %g x tolerance", lv, n, round16, worst);
    free(a), free(b);
}

static void check_pv(const fr_attn16_kernels *k, const char *lv, int n, int64_t d, int nl) {
    const int L = FR_ATTN_LANES;
    int64_t ldv = d + 16, ldo = d + 5;
    float *s = rnd((size_t)n * L, 1.0f), *v = rnd((size_t)n * ldv, 2.0f);
    float *a = rnd((size_t)L * ldo, 1.0f), *b = malloc(sizeof(float) * (size_t)L * ldo);
    memcpy(b, a, sizeof(float) * (size_t)L * ldo);
    k->pv(a, ldo, s, v, ldv, n, d, nl);
    fr_attn16_generic.pv(b, ldo, s, v, ldv, n, d, nl);
    double big = max_abs(b, (size_t)nl * ldo), worst = 0;
    for (int l = 0; l < nl; l++)
        for (int64_t i = 0; i < d; i++)
            worst = fmax(worst, fabs((double)a[l * ldo + i] - b[l * ldo + i]) / big);
    T_EXPECT(worst < 1e-5, "pv %s n %d d %lld lanes %d: rel diff %g", lv, n, (long long)d, nl, worst);
    free(s), free(v), free(a), free(b);
}

static void kernels_match_reference(void) {
    int levels = 0;
    for (int lv = FR_CPU_AVX2; lv <= (int)fr_cpu()->level; lv++, levels++) {
        const fr_attn16_kernels *k = fr_attn16_get((fr_cpu_level)lv);
        const char *name = fr_cpu_level_name((fr_cpu_level)lv);
        const int ns[] = {1, 7, 8, 37, 64};
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            check_scores(k, name, ns[i], 100);
            check_scores(k, name, ns[i], 576);
            check_softmax(k, name, ns[i], 0);
            check_softmax(k, name, ns[i], 1);
            check_pv(k, name, ns[i], 16, 1);
            check_pv(k, name, ns[i], 80, 5);
            check_pv(k, name, ns[i], 512, 16);
        }
    }
    if (!levels) t_skip("no SIMD level on this CPU");
}

/* exp's edges: huge negative differences give exactly 0, equal scores give equal weights */
static void softmax_edges(void) {
    for (int lv = FR_CPU_GENERIC; lv <= (int)fr_cpu()->level; lv++) {
        const fr_attn16_kernels *k = fr_attn16_get((fr_cpu_level)lv);
        float s[3 * FR_ATTN_LANES];
        int32_t lim[FR_ATTN_LANES];
        for (int l = 0; l < FR_ATTN_LANES; l++) {
            lim[l] = 3;
            s[l] = 0.0f, s[FR_ATTN_LANES + l] = l % 2 ? -1e30f : 0.0f, s[2 * FR_ATTN_LANES + l] = 0.0f;
        }
        k->softmax(s, 3, lim, 0);
        for (int l = 0; l < FR_ATTN_LANES; l++) {
            float want = l % 2 ? 0.5f : 1.0f / 3.0f;
            T_EXPECT(fabsf(s[l] - want) < 1e-7f && (l % 2 ? s[FR_ATTN_LANES + l] == 0.0f : 1),
                     "level %d lane %d: %g %g, want %g", lv, l, s[l], s[FR_ATTN_LANES + l], want);
        }
    }
}

/* a model evaluated with the tiles on and off: logits agree to float rounding */
static void tiles_match_per_head(void) {
    struct { const char *arch; int heads, kv_heads; fr_type kv; } cases[] = {
        {"qwen3", 6, 2, FR_TYPE_F16}, {"qwen3", 6, 2, FR_TYPE_F32}, {"llama", 4, 4, FR_TYPE_F16},
        {"deepseek2", 4, 4, FR_TYPE_F16}, {"deepseek2", 4, 4, FR_TYPE_F32}};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        fr_synth_spec sp = fr_synth_default(cases[ci].arch);
        sp.n_vocab = 400, sp.n_embd = 192, sp.n_head = (uint32_t)cases[ci].heads;
        sp.n_head_kv = (uint32_t)cases[ci].kv_heads, sp.head_dim = 32;
        if (sp.kv_lora_rank) sp.kv_lora_rank = 96, sp.qk_nope = 32, sp.qk_rope = 16, sp.v_head_dim = 32;
        const char *path = t_synth(&sp, "tiles.gguf");
        fr_model *m;
        fr_err e;
        T_CHECK(path && fr_model_load(&m, path, &e) == 0, "load");
        const int n = 70;
        int nv = (int)m->hp.n_vocab;
        int32_t ids[70];
        for (int i = 0; i < n; i++) ids[i] = (i * 37 + 11) % nv;
        float *on = malloc(sizeof(float) * n * nv), *off = malloc(sizeof(float) * n * nv);
        float *chunked = malloc(sizeof(float) * n * nv);
        for (int pass = 0; pass < 3; pass++) {
            fr_attn_tiles_enable(pass != 1);
            fr_ctx *c = t_make_ctx(m, 1, 2, cases[ci].kv);
            T_CHECK(c, "ctx");
            /* pass 2: chunks of 9 continue a cached prefix (tiles over older cache blocks) */
            T_CHECK(t_eval(c, ids, NULL, n, pass == 2 ? 9 : 64, pass == 0 ? on : pass == 1 ? off : chunked) == 0,
                    "eval");
            fr_ctx_free(c);
        }
        fr_attn_tiles_enable(1);
        double big = max_abs(off, (size_t)n * nv);
        double d1 = t_max_diff(on, off, (size_t)n * nv) / big, d2 = t_max_diff(chunked, off, (size_t)n * nv) / big;
        printf("  %s heads %d/%d kv %s: tiles vs per head rel %.2e, chunked %.2e\n", cases[ci].arch,
               cases[ci].heads, cases[ci].kv_heads, fr_type_name(cases[ci].kv), d1, d2);
        /* f16 cache: probabilities are rounded to f16, so a last-bit difference before the
         * rounding becomes one f16 step (2^-11 relative) in a weight */
        double tol = cases[ci].kv == FR_TYPE_F16 ? 2e-4 : 4e-6;
        T_EXPECT(d1 < tol && d2 < tol, "%s: tiles differ from the per-head path: %g / %g", cases[ci].arch, d1, d2);
        free(on), free(off), free(chunked);
        fr_model_free(m);
    }
}

void suite_attn(void) {
    T_CASE(kernels_match_reference);
    T_CASE(softmax_edges);
    T_CASE(tiles_match_per_head);
}
