/* cpu.c: CPU feature detection and the FRUGAL_CPU override. */
#include "core/cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static fr_cpu_info g_cpu;
static int g_init;

static int count_physical(void) {
    /* count distinct (physical id, core id) pairs in /proc/cpuinfo */
    FILE *f = fopen("/proc/cpuinfo", "r");
    int n = 0, phys = 0, pairs[1024][2];
    char line[512];
    if (f) {
        while (fgets(line, sizeof line, f)) {
            int v;
            if (sscanf(line, "physical id : %d", &v) == 1) phys = v;
            else if (sscanf(line, "core id : %d", &v) == 1) {
                int seen = 0;
                for (int i = 0; i < n; i++)
                    if (pairs[i][0] == phys && pairs[i][1] == v) seen = 1;
                if (!seen && n < 1024) { pairs[n][0] = phys; pairs[n][1] = v; n++; }
            }
        }
        fclose(f);
    }
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    return n;
}

static fr_cpu_level max_level(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (g_cpu.avx512f && g_cpu.avx512bw && g_cpu.avx512vl && g_cpu.avx512vnni && g_cpu.fma &&
        g_cpu.f16c)
        return FR_CPU_AVX512;
    if (g_cpu.avx2 && g_cpu.fma && g_cpu.f16c) return FR_CPU_AVX2;
#endif
    return FR_CPU_GENERIC;
}

const fr_cpu_info *fr_cpu(void) {
    if (g_init) return &g_cpu;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    g_cpu.avx2 = __builtin_cpu_supports("avx2");
    g_cpu.fma = __builtin_cpu_supports("fma");
    g_cpu.avx512f = __builtin_cpu_supports("avx512f");
    g_cpu.avx512bw = __builtin_cpu_supports("avx512bw");
    g_cpu.avx512vl = __builtin_cpu_supports("avx512vl");
    g_cpu.avx512vnni = __builtin_cpu_supports("avx512vnni");
    {
        /* f16c, avx512bf16 and amx are not known to every gcc's __builtin_cpu_supports */
        unsigned a, b, c, d;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
        g_cpu.f16c = (c >> 29) & 1;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(1));
        g_cpu.avx512bf16 = (a >> 5) & 1;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
        g_cpu.amx = ((d >> 24) & 1) && ((d >> 25) & 1); /* amx-tile and amx-int8 */
    }
#endif
    g_cpu.level = max_level();
    const char *env = getenv("FRUGAL_CPU");
    if (env) {
        fr_cpu_level want = g_cpu.level;
        if (!strcmp(env, "generic")) want = FR_CPU_GENERIC;
        else if (!strcmp(env, "avx2")) want = FR_CPU_AVX2;
        else if (!strcmp(env, "avx512")) want = FR_CPU_AVX512;
        if (want < g_cpu.level) g_cpu.level = want;
    }
    g_cpu.n_physical = count_physical();
    g_init = 1;
    return &g_cpu;
}

fr_cpu_level fr_cpu_force(fr_cpu_level l) {
    fr_cpu();
    fr_cpu_level m = max_level();
    g_cpu.level = l < m ? l : m;
    return g_cpu.level;
}

const char *fr_cpu_level_name(fr_cpu_level l) {
    switch (l) {
    case FR_CPU_AVX512: return "avx512";
    case FR_CPU_AVX2: return "avx2";
    default: return "generic";
    }
}

fr_cpu_level fr_cpu_max_level(void) {
    (void)fr_cpu();
    return max_level();
}
