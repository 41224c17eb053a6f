/* fp16.h: IEEE half and bfloat16 conversions (portable, bit exact, round to nearest even). */
#ifndef FR_FP16_H
#define FR_FP16_H

#include <stdint.h>
#include <string.h>

typedef uint16_t fr_f16;
typedef uint16_t fr_bf16;

static inline float fr_bits_to_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t fr_f32_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static inline float fr_f16_to_f32(fr_f16 h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0) {
        if (man == 0) return fr_bits_to_f32(sign);
        /* subnormal: value = man * 2^-24 */
        float f = (float)man * (1.0f / 16777216.0f);
        return sign ? -f : f;
    }
    if (exp == 31) return fr_bits_to_f32(sign | 0x7f800000u | (man << 13));
    return fr_bits_to_f32(sign | ((exp + 112) << 23) | (man << 13));
}

static inline fr_f16 fr_f32_to_f16(float f) {
    uint32_t x = fr_f32_to_bits(f);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* inf or nan */
        return (fr_f16)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    if (ax >= 0x477ff000u) return (fr_f16)(sign | 0x7c00); /* overflow rounds to inf */
    if (ax < 0x38800000u) { /* result is subnormal or zero */
        float a = fr_bits_to_f32(ax) * 16777216.0f; /* scale to units of 2^-24 */
        uint32_t m = (uint32_t)a;
        float rem = a - (float)m;
        if (rem > 0.5f || (rem == 0.5f && (m & 1))) m++;
        return (fr_f16)(sign | m);
    }
    uint32_t e = (ax >> 23) - 112, man = ax & 0x7fffff;
    uint32_t h = (e << 10) | (man >> 13);
    uint32_t rest = man & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;
    return (fr_f16)(sign | h);
}

static inline float fr_bf16_to_f32(fr_bf16 h) { return fr_bits_to_f32((uint32_t)h << 16); }

static inline fr_bf16 fr_f32_to_bf16(float f) {
    uint32_t x = fr_f32_to_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (fr_bf16)((x >> 16) | 64); /* quiet nan */
    return (fr_bf16)((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}

#endif
