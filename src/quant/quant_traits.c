/* quant_traits.c: the traits table (names, block sizes and byte sizes of every ggml type
 * id) and the kernel dispatch: fr_type_get gives the fastest kernels for fr_cpu()->level,
 * fr_type_get_ref the scalar reference ones. */
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>

#include "core/cpu.h"
#include "quant/quant_impl.h"
#include "quant/vec.h"

/* name, elements per block, bytes per block, as ggml's type_traits */
static const struct {
    const char *name;
    int blck_size;
    size_t type_size;
} k_layout[FR_TYPE_COUNT] = {
    [FR_TYPE_F32] = {"f32", 1, 4},
    [FR_TYPE_F16] = {"f16", 1, 2},
    [FR_TYPE_Q4_0] = {"q4_0", 32, 18},
    [FR_TYPE_Q4_1] = {"q4_1", 32, 20},
    [FR_TYPE_Q5_0] = {"q5_0", 32, 22},
    [FR_TYPE_Q5_1] = {"q5_1", 32, 24},
    [FR_TYPE_Q8_0] = {"q8_0", 32, 34},
    [FR_TYPE_Q8_1] = {"q8_1", 32, 36},
    [FR_TYPE_Q2_K] = {"q2_K", 256, 84},
    [FR_TYPE_Q3_K] = {"q3_K", 256, 110},
    [FR_TYPE_Q4_K] = {"q4_K", 256, 144},
    [FR_TYPE_Q5_K] = {"q5_K", 256, 176},
    [FR_TYPE_Q6_K] = {"q6_K", 256, 210},
    [FR_TYPE_Q8_K] = {"q8_K", 256, 292},
    [FR_TYPE_IQ2_XXS] = {"iq2_xxs", 256, 66},
    [FR_TYPE_IQ2_XS] = {"iq2_xs", 256, 74},
    [FR_TYPE_IQ3_XXS] = {"iq3_xxs", 256, 98},
    [FR_TYPE_IQ1_S] = {"iq1_s", 256, 50},
    [FR_TYPE_IQ4_NL] = {"iq4_nl", 32, 18},
    [FR_TYPE_IQ3_S] = {"iq3_s", 256, 110},
    [FR_TYPE_IQ2_S] = {"iq2_s", 256, 82},
    [FR_TYPE_IQ4_XS] = {"iq4_xs", 256, 136},
    [FR_TYPE_I8] = {"i8", 1, 1},
    [FR_TYPE_I16] = {"i16", 1, 2},
    [FR_TYPE_I32] = {"i32", 1, 4},
    [FR_TYPE_I64] = {"i64", 1, 8},
    [FR_TYPE_F64] = {"f64", 1, 8},
    [FR_TYPE_IQ1_M] = {"iq1_m", 256, 56},
    [FR_TYPE_BF16] = {"bf16", 1, 2},
    [FR_TYPE_TQ1_0] = {"tq1_0", 256, 54},
    [FR_TYPE_TQ2_0] = {"tq2_0", 256, 66},
    [FR_TYPE_MXFP4] = {"mxfp4", 32, 17},
};

static const fr_type_traits k_unknown = {.name = "?"};

static fr_type_traits g_ref[FR_TYPE_COUNT];  /* generic kernels */
static fr_type_traits g_best[FR_TYPE_COUNT]; /* dispatched for the current level */
static atomic_int g_ready;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void set_kernels(fr_type_traits *t, fr_type type, fr_to_float_fn to_float,
                        fr_from_float_fn from_float, fr_from_float_fn from_float_ref,
                        fr_vec_dot_fn vec_dot, fr_type vec_dot_type) {
    t[type].to_float = to_float;
    t[type].from_float = from_float;
    t[type].from_float_ref = from_float_ref;
    t[type].vec_dot = vec_dot;
    t[type].vec_dot_type = vec_dot_type;
    t[type].supported = to_float && vec_dot;
}

static void fill_generic(fr_type_traits *t) {
    for (int i = 0; i < FR_TYPE_COUNT; i++) {
        t[i] = k_unknown;
        if (k_layout[i].blck_size) {
            t[i].name = k_layout[i].name;
            t[i].blck_size = k_layout[i].blck_size;
            t[i].type_size = k_layout[i].type_size;
            t[i].vec_dot_type = (fr_type)i;
        }
    }
    set_kernels(t, FR_TYPE_F32, fr_f32_to_float_generic, fr_f32_from_float_generic,
                fr_f32_from_float_generic, fr_f32_dot_generic, FR_TYPE_F32);
    set_kernels(t, FR_TYPE_F16, fr_f16_to_float_generic, fr_f16_from_float_generic,
                fr_f16_from_float_generic, fr_f16_dot_generic, FR_TYPE_F16);
    set_kernels(t, FR_TYPE_BF16, fr_bf16_to_float_generic, fr_bf16_from_float_generic,
                fr_bf16_from_float_generic, fr_bf16_dot_generic, FR_TYPE_BF16);
    set_kernels(t, FR_TYPE_Q8_0, fr_q8_0_to_float_generic, fr_q8_0_from_float_generic,
                fr_q8_0_from_float_ref, fr_q8_0_dot_generic, FR_TYPE_Q8_0);
    set_kernels(t, FR_TYPE_Q4_0, fr_q4_0_to_float_generic, fr_q4_0_from_float_ref,
                fr_q4_0_from_float_ref, fr_q4_0_dot_generic, FR_TYPE_Q8_0);
    set_kernels(t, FR_TYPE_Q4_K, fr_q4_K_to_float_generic, fr_q4_K_from_float_ref,
                fr_q4_K_from_float_ref, fr_q4_K_dot_generic, FR_TYPE_Q8_K);
    set_kernels(t, FR_TYPE_Q5_K, fr_q5_K_to_float_generic, fr_q5_K_from_float_ref,
                fr_q5_K_from_float_ref, fr_q5_K_dot_generic, FR_TYPE_Q8_K);
    set_kernels(t, FR_TYPE_Q6_K, fr_q6_K_to_float_generic, fr_q6_K_from_float_ref,
                fr_q6_K_from_float_ref, fr_q6_K_dot_generic, FR_TYPE_Q8_K);
    /* activation type only: no vec_dot, so not "supported" as a weight type */
    set_kernels(t, FR_TYPE_Q8_K, fr_q8_K_to_float_generic, fr_q8_K_from_float_ref,
                fr_q8_K_from_float_ref, NULL, FR_TYPE_Q8_K);
}

static void select_kernels(void) {
    fill_generic(g_best);
    fr_type_traits *t = g_best;
    switch (fr_cpu()->level) {
    case FR_CPU_AVX512:
        t[FR_TYPE_F32].vec_dot = fr_f32_dot_avx512;
        t[FR_TYPE_F16].to_float = fr_f16_to_float_avx512;
        t[FR_TYPE_F16].from_float = fr_f16_from_float_avx512;
        t[FR_TYPE_F16].vec_dot = fr_f16_dot_avx512;
        t[FR_TYPE_BF16].to_float = fr_bf16_to_float_avx512;
        t[FR_TYPE_BF16].from_float = fr_bf16_from_float_avx512;
        t[FR_TYPE_BF16].vec_dot = fr_bf16_dot_avx512;
        t[FR_TYPE_Q8_0].to_float = fr_q8_0_to_float_avx512;
        t[FR_TYPE_Q8_0].from_float = fr_q8_0_from_float_avx512;
        t[FR_TYPE_Q8_0].vec_dot = fr_q8_0_dot_avx512;
        t[FR_TYPE_Q4_0].vec_dot = fr_q4_0_dot_avx512;
        t[FR_TYPE_Q8_K].from_float = fr_q8_K_from_float_avx512;
        t[FR_TYPE_Q4_K].to_float = fr_q4_K_to_float_avx512;
        t[FR_TYPE_Q4_K].vec_dot = fr_q4_K_dot_avx512;
        t[FR_TYPE_Q5_K].vec_dot = fr_q5_K_dot_avx512;
        t[FR_TYPE_Q6_K].vec_dot = fr_q6_K_dot_avx512;
        break;
    case FR_CPU_AVX2:
        t[FR_TYPE_F32].vec_dot = fr_f32_dot_avx2;
        t[FR_TYPE_F16].to_float = fr_f16_to_float_avx2;
        t[FR_TYPE_F16].from_float = fr_f16_from_float_avx2;
        t[FR_TYPE_F16].vec_dot = fr_f16_dot_avx2;
        t[FR_TYPE_BF16].to_float = fr_bf16_to_float_avx2;
        t[FR_TYPE_BF16].from_float = fr_bf16_from_float_avx2;
        t[FR_TYPE_BF16].vec_dot = fr_bf16_dot_avx2;
        t[FR_TYPE_Q8_0].to_float = fr_q8_0_to_float_avx2;
        t[FR_TYPE_Q8_0].from_float = fr_q8_0_from_float_avx2;
        t[FR_TYPE_Q8_0].vec_dot = fr_q8_0_dot_avx2;
        t[FR_TYPE_Q4_0].vec_dot = fr_q4_0_dot_avx2;
        t[FR_TYPE_Q8_K].from_float = fr_q8_K_from_float_avx2;
        t[FR_TYPE_Q4_K].to_float = fr_q4_K_to_float_avx2;
        t[FR_TYPE_Q4_K].vec_dot = fr_q4_K_dot_avx2;
        t[FR_TYPE_Q5_K].vec_dot = fr_q5_K_dot_avx2;
        t[FR_TYPE_Q6_K].vec_dot = fr_q6_K_dot_avx2;
        break;
    default:
        break;
    }
}

static void init_once(void) {
    fill_generic(g_ref);
    select_kernels();
    atomic_store_explicit(&g_ready, 1, memory_order_release);
}

static void ensure_init(void) {
    if (!atomic_load_explicit(&g_ready, memory_order_acquire)) pthread_once(&g_once, init_once);
}

void fr_type_init(void) {
    ensure_init();
    select_kernels();
    fr_vec_init();
}

const fr_type_traits *fr_type_get(fr_type t) {
    ensure_init();
    if ((unsigned)t >= FR_TYPE_COUNT) return &k_unknown;
    return &g_best[t];
}

const fr_type_traits *fr_type_get_ref(fr_type t) {
    ensure_init();
    if ((unsigned)t >= FR_TYPE_COUNT) return &k_unknown;
    return &g_ref[t];
}

const char *fr_type_name(fr_type t) {
    if ((unsigned)t >= FR_TYPE_COUNT || !k_layout[t].name) return "?";
    return k_layout[t].name;
}

int fr_type_from_name(const char *s) {
    if (!s) return -1;
    for (int i = 0; i < FR_TYPE_COUNT; i++)
        if (k_layout[i].name && !strcasecmp(s, k_layout[i].name)) return i;
    return -1;
}

size_t fr_row_size(fr_type t, int64_t n) {
    if ((unsigned)t >= FR_TYPE_COUNT || !k_layout[t].blck_size || n < 0) return 0;
    if (n % k_layout[t].blck_size) return 0;
    return (size_t)(n / k_layout[t].blck_size) * k_layout[t].type_size;
}
