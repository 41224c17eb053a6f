/* test_core.c: error messages, half/bfloat16 conversions, CPU detection. */
#include <string.h>

#include "core/cpu.h"
#include "core/err.h"
#include "core/fp16.h"
#include "t.h"

static void err_format_and_wrap(void) {
    fr_err e;
    int rc = fr_fail(&e, FR_EFORMAT, "tensor '%s' bad", "x");
    T_CHECK(rc == FR_EFORMAT, "code %d", rc);
    T_CHECK(!strcmp(e.msg, "tensor 'x' bad"), "msg '%s'", e.msg);
    fr_wrap(&e, rc, "file %s", "a.gguf");
    T_CHECK(!strcmp(e.msg, "file a.gguf: tensor 'x' bad"), "wrapped '%s'", e.msg);
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    fr_fail(&e, FR_EIO, "%s", big);
    fr_wrap(&e, FR_EIO, "%s", big); /* must truncate, not overflow */
    T_CHECK(strlen(e.msg) == sizeof e.msg - 1, "len %zu", strlen(e.msg));
}

static void f16_known_values(void) {
    /* IEEE half bit patterns */
    struct { float f; uint16_t h; } v[] = {
        {0.0f, 0x0000}, {-0.0f, 0x8000}, {1.0f, 0x3c00}, {-2.0f, 0xc000}, {65504.0f, 0x7bff},
        {0.5f, 0x3800}, {5.9604645e-8f, 0x0001} /* smallest subnormal */, {6.1035156e-5f, 0x0400},
        {65520.0f, 0x7c00} /* rounds to inf */, {1e9f, 0x7c00}, {-INFINITY, 0xfc00},
        {1.0009765625f, 0x3c01}, {1.00048828125f, 0x3c00} /* tie to even */,
        {1.00146484375f, 0x3c02} /* tie to even, up */, {2.98023224e-8f, 0x0000} /* half of min: to even */,
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        uint16_t h = fr_f32_to_f16(v[i].f);
        T_EXPECT(h == v[i].h, "f32_to_f16(%g) = 0x%04x, expected 0x%04x", v[i].f, h, v[i].h);
    }
    T_CHECK(isnan(fr_f16_to_f32(fr_f32_to_f16(NAN))), "nan round trip");
    /* every finite half survives half -> float -> half */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00) continue;
        uint16_t back = fr_f32_to_f16(fr_f16_to_f32((uint16_t)h));
        if (back != h) {
            T_CHECK(0, "half 0x%04x -> %g -> 0x%04x", h, fr_f16_to_f32((uint16_t)h), back);
        }
    }
}

static void bf16_rounding(void) {
    T_CHECK(fr_f32_to_bf16(1.0f) == 0x3f80, "1.0");
    T_CHECK(fr_bf16_to_f32(0x3f80) == 1.0f, "back");
    /* 1 + 2^-8 is a tie between 1.0 and 1 + 2^-7: to even (1.0) */
    T_CHECK(fr_f32_to_bf16(1.00390625f) == 0x3f80, "tie to even: 0x%04x", fr_f32_to_bf16(1.00390625f));
    T_CHECK(fr_f32_to_bf16(1.01171875f) == 0x3f82, "tie up to even: 0x%04x", fr_f32_to_bf16(1.01171875f));
    T_CHECK(isnan(fr_bf16_to_f32(fr_f32_to_bf16(NAN))), "nan stays nan");
}

static void cpu_detect_and_force(void) {
    const fr_cpu_info *c = fr_cpu();
    T_CHECK(c->n_physical >= 1, "physical cores %d", c->n_physical);
    fr_cpu_level top = c->level;
    T_CHECK(fr_cpu_force(FR_CPU_GENERIC) == FR_CPU_GENERIC, "force generic");
    fr_cpu_level back = fr_cpu_force(FR_CPU_AVX512);
    T_CHECK(back >= top, "restored level %d < %d", back, top);
    if (c->avx512f && c->avx512vnni && c->avx512bw) T_CHECK(back == FR_CPU_AVX512, "avx512 level");
    fr_cpu_force(top);
}

void suite_core(void) {
    T_CASE(err_format_and_wrap);
    T_CASE(f16_known_values);
    T_CASE(bf16_rounding);
    T_CASE(cpu_detect_and_force);
}
