/* cpu.h: run-time CPU feature detection. The kernel level can be forced lower with the
 * environment variable FRUGAL_CPU=generic|avx2|avx512 (never higher than the CPU has). */
#ifndef FR_CPU_H
#define FR_CPU_H

typedef enum { FR_CPU_GENERIC = 0, FR_CPU_AVX2 = 1, FR_CPU_AVX512 = 2 } fr_cpu_level;

typedef struct fr_cpu_info {
    int avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16, amx;
    fr_cpu_level level;  /* the level kernels dispatch on (after FRUGAL_CPU) */
    int n_physical;      /* physical cores (>= 1) */
} fr_cpu_info;

const fr_cpu_info *fr_cpu(void);
/* the highest level this CPU supports, whatever FRUGAL_CPU or fr_cpu_force chose */
fr_cpu_level fr_cpu_max_level(void);
const char *fr_cpu_level_name(fr_cpu_level l);
/* Test hook: force a level (clamped to what the CPU supports); returns the level set. */
fr_cpu_level fr_cpu_force(fr_cpu_level l);

#endif
