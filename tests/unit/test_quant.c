/* test_quant.c: suite_quant: the tensor types of src/quant. Type table facts (sizes, names,
 * row sizes); known-answer blocks built by hand from the GGUF layouts; quantize ->
 * dequantize error bounds; and, at every SIMD level this CPU has (generic, avx2, avx512,
 * forced with fr_cpu_force), SIMD kernels against the scalar reference: dequantization and
 * activation quantizers bit exact, dot products within a stated tolerance. Also half-float
 * conversions against the F16C hardware and the vec.h helpers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "quant/qtypes.h"
#include "quant/quant_impl.h"
#include "quant/vec.h"
#include "t.h"

/* ---- helpers ---- */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd_u32(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 32);
}
static float rnd_unit(void) {
    return (rnd_u32() >> 8) * (1.0f / 16777216.0f);
} /* [0,1) */
static float rnd_gauss(void) {
    float u = rnd_unit() + 1e-7f, v = rnd_unit();
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}
/* gaussian values with a few outliers, as weights and activations tend to have */
static void fill_data(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        x[i] = rnd_gauss();
        if (rnd_u32() % 64 == 0) x[i] *= 6.0f;
    }
}

static const fr_cpu_level k_levels[] = {FR_CPU_GENERIC, FR_CPU_AVX2, FR_CPU_AVX512};
#define N_LEVELS 3
static fr_cpu_level g_saved_level;

/* forces a kernel level; 0 if this CPU does not have it */
static int use_level(fr_cpu_level l) {
    if (fr_cpu_force(l) != l) return 0;
    fr_type_init();
    return 1;
}

static const fr_type k_supported[] = {FR_TYPE_F32,  FR_TYPE_F16,  FR_TYPE_BF16, FR_TYPE_Q8_0,
                                      FR_TYPE_Q4_0, FR_TYPE_Q4_K, FR_TYPE_Q5_K, FR_TYPE_Q6_K};
#define N_SUPPORTED 8

static int same_float(float a, float b) {
    return (isnan(a) && isnan(b)) || !memcmp(&a, &b, 4);
}

/* Random but well-formed blocks of type t: random bytes with the f16 scales replaced by
 * finite values of either sign (any quant bytes are valid, so this covers every level). */
static void fill_random_blocks(fr_type t, void *dst, int64_t nblk) {
    const fr_type_traits *tr = fr_type_get_ref(t);
    uint8_t *p = dst;
    for (size_t i = 0; i < (size_t)nblk * tr->type_size; i++) p[i] = (uint8_t)rnd_u32();
    for (int64_t b = 0; b < nblk; b++, p += tr->type_size) {
        fr_f16 d = fr_f32_to_f16((rnd_unit() - 0.5f) * 0.02f),
               m = fr_f32_to_f16(rnd_unit() * 0.01f);
        float fd = rnd_unit();
        switch (t) {
        case FR_TYPE_Q8_0:
        case FR_TYPE_Q4_0:
            memcpy(p, &d, 2);
            break;
        case FR_TYPE_Q4_K:
        case FR_TYPE_Q5_K:
            memcpy(p, &d, 2), memcpy(p + 2, &m, 2);
            break;
        case FR_TYPE_Q6_K:
            memcpy(p + 208, &d, 2);
            break;
        case FR_TYPE_Q8_K:
            memcpy(p, &fd, 4);
            break;
        default:
            break; /* F16/BF16: any bit pattern, NaN and inf included */
        }
    }
}

/* ---- type table ---- */

static void type_table(void) {
    struct {
        fr_type t;
        const char *name;
        int blck;
        size_t size;
    } k[] = {
        {FR_TYPE_F32, "f32", 1, 4},
        {FR_TYPE_F16, "f16", 1, 2},
        {FR_TYPE_BF16, "bf16", 1, 2},
        {FR_TYPE_Q8_0, "q8_0", 32, sizeof(block_q8_0)},
        {FR_TYPE_Q4_0, "q4_0", 32, sizeof(block_q4_0)},
        {FR_TYPE_Q4_K, "q4_K", 256, sizeof(block_q4_K)},
        {FR_TYPE_Q5_K, "q5_K", 256, sizeof(block_q5_K)},
        {FR_TYPE_Q6_K, "q6_K", 256, sizeof(block_q6_K)},
        {FR_TYPE_Q8_K, "q8_K", 256, sizeof(block_q8_K)},
        /* named only: sizes from ggml's block structs */
        {FR_TYPE_Q4_1, "q4_1", 32, 20},
        {FR_TYPE_Q5_0, "q5_0", 32, 22},
        {FR_TYPE_Q5_1, "q5_1", 32, 24},
        {FR_TYPE_Q2_K, "q2_K", 256, 84},
        {FR_TYPE_Q3_K, "q3_K", 256, 110},
        {FR_TYPE_IQ4_NL, "iq4_nl", 32, 18},
        {FR_TYPE_IQ4_XS, "iq4_xs", 256, 136},
        {FR_TYPE_IQ2_XXS, "iq2_xxs", 256, 66},
        {FR_TYPE_I32, "i32", 1, 4},
        {FR_TYPE_MXFP4, "mxfp4", 32, 17},
    };
    for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
        const fr_type_traits *tr = fr_type_get(k[i].t);
        T_EXPECT(!strcmp(tr->name, k[i].name) && tr->blck_size == k[i].blck &&
                     tr->type_size == k[i].size,
                 "type %d: %s/%d/%zu, expected %s/%d/%zu", k[i].t, tr->name, tr->blck_size,
                 tr->type_size, k[i].name, k[i].blck, k[i].size);
        T_EXPECT(fr_type_from_name(k[i].name) == (int)k[i].t, "from_name(%s)", k[i].name);
        T_EXPECT(!strcmp(fr_type_name(k[i].t), k[i].name), "name(%d)", k[i].t);
    }
    int n_supported = 0;
    for (int t = 0; t < FR_TYPE_COUNT; t++) {
        const fr_type_traits *tr = fr_type_get((fr_type)t);
        if (!tr->supported) continue;
        n_supported++;
        T_EXPECT(tr->to_float && tr->vec_dot && tr->from_float && tr->from_float_ref, "%s kernels",
                 tr->name);
    }
    T_CHECK(n_supported == N_SUPPORTED, "%d supported types", n_supported);
    T_CHECK(fr_type_get(FR_TYPE_Q4_K)->vec_dot_type == FR_TYPE_Q8_K, "q4_K dot type");
    T_CHECK(fr_type_get(FR_TYPE_Q4_0)->vec_dot_type == FR_TYPE_Q8_0, "q4_0 dot type");
    T_CHECK(fr_type_get(FR_TYPE_F16)->vec_dot_type == FR_TYPE_F16, "f16 dot type");
    T_CHECK(fr_type_get(FR_TYPE_Q8_K)->from_float && !fr_type_get(FR_TYPE_Q8_K)->supported, "q8_K");
    /* unknown ids: removed ggml types and out of range */
    T_CHECK(fr_type_get((fr_type)4)->blck_size == 0 && !strcmp(fr_type_get((fr_type)4)->name, "?"),
            "id 4");
    T_CHECK(fr_type_get((fr_type)1000)->blck_size == 0, "id 1000");
    T_CHECK(fr_type_get((fr_type)-1)->blck_size == 0, "id -1");
    T_CHECK(!strcmp(fr_type_name((fr_type)33), "?"), "name 33");
    T_CHECK(fr_type_from_name("Q4_K") == FR_TYPE_Q4_K, "case-insensitive");
    T_CHECK(fr_type_from_name("q4_k") == FR_TYPE_Q4_K, "lower case");
    T_CHECK(fr_type_from_name("q4") == -1 && fr_type_from_name("") == -1, "unknown names");
    T_CHECK(fr_type_from_name(NULL) == -1, "NULL name");
    /* row sizes */
    T_CHECK(fr_row_size(FR_TYPE_Q8_0, 4096) == 128 * 34, "q8_0 row");
    T_CHECK(fr_row_size(FR_TYPE_Q4_K, 4096) == 16 * 144, "q4_K row");
    T_CHECK(fr_row_size(FR_TYPE_Q6_K, 256) == 210, "q6_K row");
    T_CHECK(fr_row_size(FR_TYPE_F32, 3) == 12, "f32 row");
    T_CHECK(fr_row_size(FR_TYPE_BF16, 0) == 0, "empty row");
    T_CHECK(fr_row_size(FR_TYPE_Q4_K, 4095) == 0, "not a block multiple");
    T_CHECK(fr_row_size(FR_TYPE_Q8_0, -32) == 0, "negative");
    T_CHECK(fr_row_size((fr_type)5, 32) == 0, "unknown type");
}

/* ---- known answers: blocks written by hand from the GGUF layouts ---- */

static void known_q8_0(void) {
    block_q8_0 b;
    b.d = 0x3800; /* 0.5 */
    for (int j = 0; j < 32; j++) b.qs[j] = (int8_t)(j + 1);
    for (int li = 0; li < N_LEVELS; li++) {
        if (!use_level(k_levels[li])) continue;
        float y[32];
        fr_type_get(FR_TYPE_Q8_0)->to_float(y, &b, 32);
        for (int j = 0; j < 32; j++)
            T_EXPECT(y[j] == 0.5f * (j + 1), "%s: y[%d] = %g", fr_cpu_level_name(k_levels[li]), j,
                     y[j]);
    }
}

static void known_q4_0(void) {
    block_q4_0 b;
    b.d = 0xc000; /* -2.0 */
    for (int j = 0; j < 16; j++) b.qs[j] = (uint8_t)(j | (15 - j) << 4);
    float y[32];
    fr_type_get(FR_TYPE_Q4_0)->to_float(y, &b, 32);
    for (int j = 0; j < 16; j++) {
        T_EXPECT(y[j] == -2.0f * (j - 8), "y[%d] = %g", j, y[j]);
        T_EXPECT(y[j + 16] == -2.0f * (7 - j), "y[%d] = %g", j + 16, y[j + 16]);
    }
}

/* Q4_K: 6-bit scales sc[] and mins m[] packed by hand into the 12 bytes: bytes 0-3 hold
 * sc[0..3] with the top 2 bits of sc[4..7] in bits 6-7; bytes 4-7 m[0..3] with the top 2
 * bits of m[4..7]; bytes 8-11 the low nibbles of sc[4..7] | m[4..7] << 4. */
static void known_q4_K(void) {
    static const uint8_t sc[8] = {1, 2, 3, 4, 33, 47, 63, 17};
    static const uint8_t m[8] = {0, 5, 10, 20, 40, 50, 62, 1};
    static const uint8_t packed[12] = {0x81, 0x82, 0xC3, 0x44, 0x80, 0xC5,
                                       0xCA, 0x14, 0x81, 0x2F, 0xEF, 0x11};
    block_q4_K b;
    b.d = 0x3c00;    /* 1.0 */
    b.dmin = 0x3800; /* 0.5 */
    memcpy(b.scales, packed, 12);
    /* level of element e of sub-block j: (e + j) % 16; chunk c of 64 elements is 32 bytes,
     * low nibbles = sub-block 2c, high nibbles = sub-block 2c+1 */
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++)
            b.qs[32 * c + l] = (uint8_t)(((l + 2 * c) % 16) | (((l + 2 * c + 1) % 16) << 4));
    for (int j = 0; j < 8; j++) {
        uint8_t s, mm;
        fr_k4_scale_min(j, b.scales, &s, &mm);
        T_EXPECT(s == sc[j] && mm == m[j], "scale_min(%d) = %d,%d", j, s, mm);
    }
    uint8_t sm[16];
    fr_k4_unpack_scales(sm, b.scales);
    T_CHECK(!memcmp(sm, sc, 8) && !memcmp(sm + 8, m, 8), "unpack_scales");
    for (int li = 0; li < N_LEVELS; li++) {
        if (!use_level(k_levels[li])) continue;
        float y[256];
        fr_type_get(FR_TYPE_Q4_K)->to_float(y, &b, 256);
        for (int e = 0; e < 256; e++) {
            int j = e / 32, q = (e % 32 + j) % 16;
            float want = 1.0f * sc[j] * q - 0.5f * m[j]; /* exact in float */
            T_EXPECT(y[e] == want, "%s: y[%d] = %g, want %g", fr_cpu_level_name(k_levels[li]), e,
                     y[e], want);
        }
    }
}

/* Q6_K: value = d * scales[g] * (q - 32), g = e / 16. Element e is in half h = e / 128 at
 * quarter k and position l (e % 128 = 32k + l): its low 4 bits are the low (k < 2) or high
 * (k >= 2) nibble of ql[64h + 32 * (k & 1) + l], its top 2 bits are bits 2k..2k+1 of
 * qh[32h + l]. */
static void known_q6_K(void) {
    block_q6_K b;
    memset(&b, 0, sizeof b);
    b.d = 0x3400; /* 0.25 */
    for (int g = 0; g < 16; g++) b.scales[g] = (int8_t)(g - 8);
    for (int e = 0; e < 256; e++) {
        int q = (e * 7) % 64, h = e / 128, p = e % 128;
        int k = p / 32, l = p % 32; /* quarter and position */
        uint8_t *ql = &b.ql[64 * h + l + (k & 1) * 32];
        *ql |= (uint8_t)((q & 0xF) << (k >= 2 ? 4 : 0));
        b.qh[32 * h + l] |= (uint8_t)((q >> 4) << (2 * k));
    }
    for (int li = 0; li < N_LEVELS; li++) {
        if (!use_level(k_levels[li])) continue;
        float y[256];
        fr_type_get(FR_TYPE_Q6_K)->to_float(y, &b, 256);
        for (int e = 0; e < 256; e++) {
            float want = 0.25f * (e / 16 - 8) * ((e * 7) % 64 - 32);
            T_EXPECT(y[e] == want, "y[%d] = %g, want %g", e, y[e], want);
        }
    }
}

/* Q5_K: as Q4_K plus bit 4 of element 64c + l in qh[l] bit 2c, of 64c + 32 + l in bit 2c+1 */
static void known_q5_K(void) {
    block_q5_K b;
    memset(&b, 0, sizeof b);
    b.d = 0x3c00;    /* 1.0 */
    b.dmin = 0x4000; /* 2.0 */
    /* sc = 10 + j, m = j: all below 16, so bytes 0-7 hold them and bytes 8-11 nibbles */
    for (int j = 0; j < 4; j++) b.scales[j] = (uint8_t)(10 + j), b.scales[4 + j] = (uint8_t)j;
    for (int j = 4; j < 8; j++) b.scales[4 + j] = (uint8_t)(((10 + j) & 0xF) | (j << 4));
    /* sc[4..7] = 14..17: 16 and 17 need bit 4: top 2 bits (value 1) into bits 6-7 of byte j-4 */
    b.scales[2] |= 1 << 6, b.scales[3] |= 1 << 6;
    for (int e = 0; e < 256; e++) {
        int q = (e * 5 + 3) % 32, c = e / 64, half = (e % 64) / 32, l = e % 32;
        b.qs[32 * c + l] |= (uint8_t)((q & 0xF) << (4 * half));
        if (q & 16) b.qh[l] |= (uint8_t)(1 << (2 * c + half));
    }
    for (int li = 0; li < N_LEVELS; li++) {
        if (!use_level(k_levels[li])) continue;
        float y[256];
        fr_type_get(FR_TYPE_Q5_K)->to_float(y, &b, 256);
        for (int e = 0; e < 256; e++) {
            int j = e / 32;
            float want = (float)(10 + j) * ((e * 5 + 3) % 32) - 2.0f * j;
            T_EXPECT(y[e] == want, "y[%d] = %g, want %g", e, y[e], want);
        }
    }
}

/* ---- quantize -> dequantize error ---- */

static void roundtrip_error(void) {
    /* relative RMSE bounds on gaussian data with 1/64 of the values 6x larger (the outliers
     * widen the block scales); measured values are printed */
    struct {
        fr_type t;
        double bound;
    } k[] = {
        {FR_TYPE_F32, 0.0},    {FR_TYPE_F16, 5e-4},  {FR_TYPE_BF16, 3e-3},
        {FR_TYPE_Q8_0, 0.01},  {FR_TYPE_Q4_0, 0.16}, {FR_TYPE_Q4_K, 0.11},
        {FR_TYPE_Q5_K, 0.055}, {FR_TYPE_Q6_K, 0.03}, {FR_TYPE_Q8_K, 0.022},
    };
    const int64_t n = 256 * 33;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    void *q = malloc((size_t)n * 4);
    fill_data(x, n);
    printf("     quant rel. RMSE:");
    for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
        const fr_type_traits *tr = fr_type_get(k[i].t);
        tr->from_float_ref(q, x, n);
        tr->to_float(y, q, n);
        double e2 = 0, x2 = 0;
        for (int64_t j = 0; j < n; j++)
            e2 += (double)(x[j] - y[j]) * (x[j] - y[j]), x2 += (double)x[j] * x[j];
        double rel = sqrt(e2 / x2);
        printf(" %s %.4f", tr->name, rel);
        T_EXPECT(rel <= k[i].bound, "%s: rel RMSE %g > %g", tr->name, rel, k[i].bound);
        /* a block of zeros stays zeros */
        memset(x, 0, sizeof(float) * 256);
        tr->from_float_ref(q, x, 256);
        tr->to_float(y, q, 256);
        for (int j = 0; j < 256; j++) T_EXPECT(y[j] == 0, "%s: zero block -> %g", tr->name, y[j]);
        fill_data(x, 256);
    }
    printf("\n");
    free(x), free(y), free(q);
}

/* ---- SIMD against reference: dequantization, activation quantizers, dot products ---- */

static void simd_to_float_exact(void) {
    const fr_type types[] = {FR_TYPE_F16,  FR_TYPE_BF16, FR_TYPE_Q8_0, FR_TYPE_Q4_0,
                             FR_TYPE_Q4_K, FR_TYPE_Q5_K, FR_TYPE_Q6_K, FR_TYPE_Q8_K};
    const int64_t nblk = 33;
    for (int li = 1; li < N_LEVELS; li++) {
        if (!use_level(k_levels[li])) continue;
        for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
            const fr_type_traits *tr = fr_type_get(types[ti]), *rf = fr_type_get_ref(types[ti]);
            int64_t n = nblk * tr->blck_size;
            if (tr->blck_size == 1) n = 65536 + 13; /* f16/bf16: every bit pattern, odd tail */
            void *q = malloc(fr_row_size(types[ti], n));
            float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
            fill_random_blocks(types[ti], q, n / tr->blck_size);
            if (tr->blck_size == 1)
                for (int64_t i = 0; i < 65536; i++) ((uint16_t *)q)[i] = (uint16_t)i;
            tr->to_float(a, q, n);
            rf->to_float(b, q, n);
            int64_t bad = 0;
            for (int64_t i = 0; i < n; i++) bad += !same_float(a[i], b[i]);
            T_EXPECT(bad == 0, "%s %s: %lld of %lld values differ", fr_cpu_level_name(k_levels[li]),
                     tr->name, (long long)bad, (long long)n);
            free(q), free(a), free(b);
        }
    }
}

/* values that stress the float -> f16/bf16 conversions: signed zeros, infinities, NaN,
 * subnormal boundaries, overflow thresholds, rounding ties */
static const float k_special[] = {
    0.0f,           -0.0f,          INFINITY,      -INFINITY,       1.0f,
    -1.0f,          65504.0f,       65519.0f,      65520.0f,        1e9f,
    5.9604645e-8f,  2.9802322e-8f,  8.9406967e-8f, 6.1035156e-5f,   6.0975552e-5f,
    1.00048828125f, 1.00146484375f, 1e-45f,        1.17549435e-38f, 3.4028235e38f,
    1.00390625f,    1.01171875f,    -1.00390625f,  3.3895314e38f,
};

/* differing 16-bit floats (f16 or bf16) in a and b; NaN payloads may differ (the F16C
 * hardware keeps payload bits, fp16.h gives one quiet NaN) */
static int64_t count_half_diffs(fr_type t, const uint8_t *a, const uint8_t *b, int64_t n) {
    const uint16_t exp = t == FR_TYPE_F16 ? 0x7c00 : 0x7f80;
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        uint16_t ha, hb;
        memcpy(&ha, a + 2 * i, 2), memcpy(&hb, b + 2 * i, 2);
        int nan_a = (ha & 0x7fff) > exp, nan_b = (hb & 0x7fff) > exp;
        bad += ha != hb && !(nan_a && nan_b);
    }
    return bad;
}

static void simd_from_float_exact(void) {
    const int64_t n = 256 * 9;
    float *x = malloc(sizeof(float) * n);
    uint8_t *a = malloc((size_t)n * 4), *b = malloc((size_t)n * 4);
    for (int li = 1; li < N_LEVELS; li++) {
        if (!use_level(k_levels[li])) continue;
        const char *lv = fr_cpu_level_name(k_levels[li]);
        /* f16 / bf16 on special values and random bit patterns, every length 1..40 */
        const fr_type ft[] = {FR_TYPE_F16, FR_TYPE_BF16};
        for (int f = 0; f < 2; f++) {
            const fr_type_traits *tr = fr_type_get(ft[f]), *rf = fr_type_get_ref(ft[f]);
            for (int64_t i = 0; i < n; i++) {
                uint32_t u = rnd_u32();
                memcpy(&x[i], &u, 4);
                if (i % 3 == 0) x[i] = k_special[i / 3 % (sizeof k_special / sizeof *k_special)];
            }
            x[5] = NAN;
            for (int len = 1; len <= 40; len++) {
                memset(a, 0xAA, 100), memset(b, 0xAA, 100);
                tr->from_float(a, x + len, len);
                rf->from_float(b, x + len, len);
                T_EXPECT(count_half_diffs(ft[f], a, b, len) == 0,
                         "%s %s: from_float differs at n=%d", lv, tr->name, len);
                T_EXPECT(!memcmp(a + 2 * len, b + 2 * len, 100 - 2 * len), "%s %s: wrote past n=%d",
                         lv, tr->name, len);
            }
            tr->from_float(a, x, n);
            rf->from_float(b, x, n);
            int64_t bad = count_half_diffs(ft[f], a, b, n);
            T_EXPECT(bad == 0, "%s %s: %lld values differ", lv, tr->name, (long long)bad);
        }
        /* Q8_0 / Q8_K activation quantizers: byte exact against the generic ones */
        const fr_type qt[] = {FR_TYPE_Q8_0, FR_TYPE_Q8_K};
        for (int f = 0; f < 2; f++) {
            const fr_type_traits *tr = fr_type_get(qt[f]), *rf = fr_type_get_ref(qt[f]);
            for (int rep = 0; rep < 4; rep++) {
                fill_data(x, n);
                if (rep == 1) memset(x + 256, 0, sizeof(float) * 300); /* zero blocks */
                if (rep == 2) x[7] = -50.0f, x[9] = 50.0f;             /* tie in magnitude */
                if (rep == 3)
                    for (int64_t i = 0; i < n; i++) x[i] = (float)(int)(x[i] * 4) * 0.5f;
                memset(a, 0, (size_t)n * 2), memset(b, 0, (size_t)n * 2);
                tr->from_float(a, x, n);
                rf->from_float(b, x, n);
                T_EXPECT(!memcmp(a, b, fr_row_size(qt[f], n)), "%s %s: bytes differ (rep %d)", lv,
                         tr->name, rep);
            }
        }
    }
    /* Q8_0: the run-time activation quantizer (127/amax, ties to even, like llama.cpp's x86
     * path) against the reference (roundf(x / d)): same scale, levels at most 1 apart */
    fill_data(x, n);
    for (int64_t i = 0; i < n; i += 5) x[i] = (float)(int)(x[i] * 10) * 0.25f; /* exact ties */
    fr_q8_0_from_float_generic(a, x, n);
    fr_q8_0_from_float_ref(b, x, n);
    int ndiff = 0;
    for (int64_t blk = 0; blk < n / 32; blk++) {
        const block_q8_0 *qa = (const block_q8_0 *)a + blk, *qb = (const block_q8_0 *)b + blk;
        T_EXPECT(qa->d == qb->d, "block %lld: d differs", (long long)blk);
        for (int j = 0; j < 32; j++) {
            T_EXPECT(abs(qa->qs[j] - qb->qs[j]) <= 1, "block %lld: q %d vs %d", (long long)blk,
                     qa->qs[j], qb->qs[j]);
            ndiff += qa->qs[j] != qb->qs[j];
        }
    }
    printf("     q8_0 activation vs reference quantizer: %d of %lld levels differ by 1\n", ndiff,
           (long long)n);
    free(x), free(a), free(b);
}

/* dot products: reference kernel against a double sum over dequantized values, and every
 * SIMD kernel against the reference, for 1, 3, 7, 8, 33 blocks */
static void simd_vec_dot(void) {
    const int nblocks[] = {1, 3, 7, 8, 33};
    for (int ti = 0; ti < N_SUPPORTED; ti++) {
        const fr_type t = k_supported[ti];
        const fr_type_traits *rf = fr_type_get_ref(t), *rfy = fr_type_get_ref(rf->vec_dot_type);
        /* tolerance relative to sum |x_i * y_i|: integer kernels only reorder float sums;
         * float kernels accumulate in float instead of double */
        const double tol = rf->blck_size == 1 ? 1e-5 : 2e-6;
        double worst[N_LEVELS] = {0};
        for (size_t ni = 0; ni < sizeof nblocks / sizeof *nblocks; ni++) {
            const int64_t n = nblocks[ni] * (int64_t)(rf->blck_size == 1 ? 32 : rf->blck_size) +
                              (rf->blck_size == 1 ? 5 : 0);
            float *xf = malloc(sizeof(float) * n), *yf = malloc(sizeof(float) * n);
            float *xd = malloc(sizeof(float) * n), *yd = malloc(sizeof(float) * n);
            void *xq = malloc(fr_row_size(t, n)), *yq = malloc(fr_row_size(rf->vec_dot_type, n));
            for (int rep = 0; rep < 2; rep++) {
                fill_data(xf, n), fill_data(yf, n);
                if (rep == 0)
                    rf->from_float_ref(xq, xf, n);
                else if (rf->blck_size > 1)
                    fill_random_blocks(t, xq, n / rf->blck_size);
                else {
                    for (int64_t i = 0; i < n; i++) xf[i] *= 100.f;
                    rf->from_float_ref(xq, xf, n);
                }
                rfy->from_float(yq, yf, n);
                rf->to_float(xd, xq, n);
                rfy->to_float(yd, yq, n);
                double exact = 0, mag = 0;
                for (int64_t i = 0; i < n; i++)
                    exact += (double)xd[i] * yd[i], mag += fabs((double)xd[i] * yd[i]);
                float s_ref;
                rf->vec_dot(n, &s_ref, xq, yq);
                T_EXPECT(fabs(s_ref - exact) <= tol * mag + 1e-30,
                         "%s n=%lld: reference dot %.9g, exact %.9g", rf->name, (long long)n, s_ref,
                         exact);
                for (int li = 1; li < N_LEVELS; li++) {
                    if (!use_level(k_levels[li])) continue;
                    float s;
                    fr_type_get(t)->vec_dot(n, &s, xq, yq);
                    double rel = fabs((double)s - s_ref) / (mag + 1e-30);
                    if (rel > worst[li]) worst[li] = rel;
                    T_EXPECT(rel <= tol, "%s %s n=%lld: %.9g vs reference %.9g (rel %.3g > %.3g)",
                             fr_cpu_level_name(k_levels[li]), rf->name, (long long)n, s, s_ref, rel,
                             tol);
                }
                use_level(FR_CPU_GENERIC);
            }
            free(xf), free(yf), free(xd), free(yd), free(xq), free(yq);
        }
        printf("     vec_dot %-5s max |simd - ref| / sum|xy|: avx2 %.2g avx512 %.2g (tol %.0e)\n",
               rf->name, worst[1], worst[2], tol);
    }
}

/* NaN, infinities and huge values must not crash (or trip UBSan) in any quantizer; finite
 * blocks next to them must still round-trip */
static void nonfinite_inputs(void) {
    const fr_type types[] = {FR_TYPE_F16,  FR_TYPE_BF16, FR_TYPE_Q8_0, FR_TYPE_Q4_0,
                             FR_TYPE_Q4_K, FR_TYPE_Q5_K, FR_TYPE_Q6_K, FR_TYPE_Q8_K};
    const int64_t n = 256 * 4;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    void *q = malloc((size_t)n * 4);
    const float bad[] = {NAN, INFINITY, -INFINITY, 3e38f, -3e38f, 1e-40f};
    for (int li = 0; li < N_LEVELS; li++) {
        if (!use_level(k_levels[li])) continue;
        for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
            const fr_type_traits *tr = fr_type_get(types[ti]);
            for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
                fill_data(x, n);
                for (int64_t i = 0; i < 256; i += 7) x[i] = bad[b]; /* first block only */
                tr->from_float_ref(q, x, n);
                tr->from_float(q, x, n);
                tr->to_float(y, q, n);
                for (int64_t i = 256; i < n; i++) {
                    float amax = 0; /* of the 32-element sub-block */
                    for (int64_t j = i & ~(int64_t)31; j < (i | 31) + 1; j++)
                        amax = fmaxf(amax, fabsf(x[j]));
                    T_EXPECT(fabsf(y[i] - x[i]) <= 0.25f * amax,
                             "%s %s: finite block after %g: %g vs %g",
                             fr_cpu_level_name(k_levels[li]), tr->name, bad[b], y[i], x[i]);
                }
                if (t_failed_now) break;
            }
        }
    }
    free(x), free(y), free(q);
}

/* ---- half / bfloat16 conversions ---- */

static void f16_vs_f16c(void) {
    /* independent facts first: IEEE bit patterns */
    T_CHECK(fr_f32_to_f16(5.9604645e-8f) == 0x0001, "smallest subnormal");
    T_CHECK(fr_f32_to_f16(2.9802322e-8f) == 0x0000, "half of smallest: tie to even (0)");
    T_CHECK(fr_f32_to_f16(8.9406967e-8f) == 0x0002, "1.5 x smallest: tie to even (2)");
    T_CHECK(fr_f32_to_f16(65520.0f) == 0x7c00 && fr_f32_to_f16(65519.0f) == 0x7bff,
            "overflow edge");
    T_CHECK(fr_f32_to_bf16(1.00390625f) == 0x3f80, "bf16 tie to even (down)");
    T_CHECK(fr_f32_to_bf16(1.01171875f) == 0x3f82, "bf16 tie to even (up)");
    T_CHECK(fr_f32_to_bf16(3.4028235e38f) == 0x7f80, "bf16 max float rounds to inf");
    T_CHECK((fr_f32_to_bf16(NAN) & 0x7fff) > 0x7f80, "bf16 nan");
    if (!fr_cpu()->f16c) {
        t_skip("no F16C on this CPU: hardware comparison not run");
        return;
    }
    /* every half -> float */
    for (uint32_t h = 0; h < 0x10000; h++) {
        float a = fr_f16_to_f32((fr_f16)h), b = fr_f32_from_f16_f16c((fr_f16)h);
        T_EXPECT(same_float(a, b), "f16 0x%04x: %a vs F16C %a", h, a, b);
        if (t_failed_now) return;
    }
    /* float -> half: special values, every float near each half boundary, and a sweep */
    int bad = 0;
    for (size_t i = 0; i < sizeof k_special / sizeof *k_special; i++) {
        float f = k_special[i];
        bad += fr_f32_to_f16(f) != fr_f16_from_f32_f16c(f);
    }
    for (uint32_t h = 0; h < 0x7c00; h++) { /* midpoints between neighbouring halves, +-1 ulp */
        float lo = fr_f16_to_f32((fr_f16)h), hi = fr_f16_to_f32((fr_f16)(h + 1));
        float mid = lo + (hi - lo) * 0.5f;
        float c[3] = {mid, nextafterf(mid, 0), nextafterf(mid, INFINITY)};
        for (int k = 0; k < 3; k++)
            for (int s = 0; s < 2; s++) {
                float f = s ? -c[k] : c[k];
                bad += fr_f32_to_f16(f) != fr_f16_from_f32_f16c(f);
            }
    }
    for (uint64_t u = 0; u < 0x100000000ull; u += 4099) {
        uint32_t b = (uint32_t)u;
        float f;
        memcpy(&f, &b, 4);
        fr_f16 a = fr_f32_to_f16(f), hw = fr_f16_from_f32_f16c(f);
        if (isnan(f))
            bad += !((a & 0x7fff) > 0x7c00 && (hw & 0x7fff) > 0x7c00);
        else
            bad += a != hw;
    }
    T_CHECK(bad == 0, "%d conversions differ from F16C", bad);
}

/* ---- vec.h ---- */

static void vec_helpers(void) {
    const int64_t nmax = 1000;
    float *x = malloc(sizeof(float) * nmax), *y = malloc(sizeof(float) * nmax);
    float *y0 = malloc(sizeof(float) * nmax), *y1 = malloc(sizeof(float) * nmax);
    fr_f16 *h = malloc(sizeof(fr_f16) * nmax), *h2 = malloc(sizeof(fr_f16) * nmax);
    fill_data(x, nmax), fill_data(y, nmax);
    for (int64_t i = 0; i < nmax; i++) h[i] = fr_f32_to_f16(x[i]);
    for (int li = 0; li < N_LEVELS; li++) {
        if (!use_level(k_levels[li])) continue;
        const char *lv = fr_cpu_level_name(k_levels[li]);
        for (int64_t n = 0; n <= nmax; n += (n < 70 ? 1 : 310)) {
            double dot = 0, doth = 0, mag = 0, magh = 0;
            float mx = -INFINITY;
            for (int64_t i = 0; i < n; i++) {
                dot += (double)x[i] * y[i], mag += fabs((double)x[i] * y[i]);
                doth += (double)fr_f16_to_f32(h[i]) * y[i],
                    magh += fabs((double)fr_f16_to_f32(h[i]) * y[i]);
                mx = x[i] > mx ? x[i] : mx;
            }
            T_EXPECT(fabs(fr_vec_dot_f32(n, x, y) - dot) <= 1e-5 * mag, "%s dot_f32 n=%lld", lv,
                     (long long)n);
            T_EXPECT(fabs(fr_vec_dot_f16_f32(n, h, y) - doth) <= 1e-5 * magh,
                     "%s dot_f16_f32 n=%lld", lv, (long long)n);
            T_EXPECT(fr_vec_max_f32(n, x) == mx, "%s max n=%lld", lv, (long long)n);
            /* mad: FMA or not, one rounding apart; scale: exact */
            memcpy(y0, y, sizeof(float) * n), memcpy(y1, y, sizeof(float) * n);
            fr_vec_mad_f32(n, y0, x, 0.37f);
            fr_vec_mad_f16_f32(n, y1, h, -1.5f);
            for (int64_t i = 0; i < n; i++) {
                double w0 = y[i] + 0.37 * x[i], w1 = y[i] - 1.5 * fr_f16_to_f32(h[i]);
                T_EXPECT(fabs(y0[i] - w0) <= 2e-7 * (fabs(y[i]) + fabs(0.37 * x[i])),
                         "%s mad_f32 [%lld]", lv, (long long)i);
                T_EXPECT(fabs(y1[i] - w1) <= 2e-7 * (fabs(y[i]) + fabs(1.5 * fr_f16_to_f32(h[i]))),
                         "%s mad_f16 [%lld]", lv, (long long)i);
            }
            memcpy(y0, y, sizeof(float) * n);
            fr_vec_scale_f32(n, y0, 0.125f + 1e-3f);
            for (int64_t i = 0; i < n; i++)
                T_EXPECT(y0[i] == y[i] * (0.125f + 1e-3f), "%s scale [%lld]", lv, (long long)i);
            /* swiglu: silu(g) * u within a few float roundings of the double formula, and
             * finite (0 or g * u) far out in both directions */
            fr_vec_swiglu_f32(n, y0, x, y);
            for (int64_t i = 0; i < n; i++) {
                double w = (double)x[i] / (1.0 + exp(-(double)x[i])) * y[i];
                T_EXPECT(fabs(y0[i] - w) <= 1e-6 * fabs(w) + 1e-30, "%s swiglu [%lld]: %g, want %g", lv,
                         (long long)i, y0[i], w);
            }
            {
                const float g[5] = {-1e4f, -100.0f, 0.0f, 100.0f, 1e4f}, u[5] = {2, 2, 2, 2, 2};
                float o[5];
                fr_vec_swiglu_f32(5, o, g, u);
                T_EXPECT(fabsf(o[0]) < 1e-30f && fabsf(o[1]) < 1e-30f && o[2] == 0.0f && o[3] == 200.0f &&
                             o[4] == 2e4f,
                         "%s swiglu extremes: %g %g %g %g %g", lv, o[0], o[1], o[2], o[3], o[4]);
            }
            /* row conversions: bit exact, untouched past n */
            h2[n < nmax ? n : 0] = 0x5555;
            fr_f16_row_from_f32(h2, x, n);
            for (int64_t i = 0; i < n; i++)
                T_EXPECT(h2[i] == h[i], "%s f16 row [%lld]", lv, (long long)i);
            if (n < nmax)
                T_EXPECT(h2[n] == 0x5555, "%s f16 row wrote past n=%lld", lv, (long long)n);
            fr_f32_row_from_f16(y0, h, n);
            for (int64_t i = 0; i < n; i++)
                T_EXPECT(y0[i] == fr_f16_to_f32(h[i]), "%s f32 row [%lld]", lv, (long long)i);
            if (t_failed_now) break;
        }
    }
    T_CHECK(fr_vec_max_f32(0, x) == -INFINITY, "max of nothing");
    free(x), free(y), free(y0), free(y1), free(h), free(h2);
}

void suite_quant(void) {
    g_saved_level = fr_cpu()->level;
    printf("     quant: kernel levels available here: generic%s%s\n",
           fr_cpu_force(FR_CPU_AVX2) == FR_CPU_AVX2 ? " avx2" : "",
           fr_cpu_force(FR_CPU_AVX512) == FR_CPU_AVX512 ? " avx512" : "");
    fr_cpu_force(g_saved_level);
    T_CASE(type_table);
    T_CASE(known_q8_0);
    T_CASE(known_q4_0);
    T_CASE(known_q4_K);
    T_CASE(known_q5_K);
    T_CASE(known_q6_K);
    T_CASE(roundtrip_error);
    T_CASE(simd_to_float_exact);
    T_CASE(simd_from_float_exact);
    T_CASE(simd_vec_dot);
    T_CASE(nonfinite_inputs);
    T_CASE(f16_vs_f16c);
    T_CASE(vec_helpers);
    fr_cpu_force(g_saved_level);
    fr_type_init();
}
