/* qtypes.h: tensor element types with GGUF's (ggml's) exact numbering and block layouts,
 * and the one traits table every kernel dispatches through.
 *
 * A row of n elements of type t occupies n / blck_size * type_size bytes (n must be a
 * multiple of blck_size). Matrix products quantize the activation row once into the
 * weight type's vec_dot_type, then take vec_dot(weight row, activation row). */
#ifndef FR_QTYPES_H
#define FR_QTYPES_H

#include <stddef.h>
#include <stdint.h>

#include "core/fp16.h"

typedef enum {
    FR_TYPE_F32 = 0,
    FR_TYPE_F16 = 1,
    FR_TYPE_Q4_0 = 2,
    FR_TYPE_Q4_1 = 3,
    FR_TYPE_Q5_0 = 6,
    FR_TYPE_Q5_1 = 7,
    FR_TYPE_Q8_0 = 8,
    FR_TYPE_Q8_1 = 9,
    FR_TYPE_Q2_K = 10,
    FR_TYPE_Q3_K = 11,
    FR_TYPE_Q4_K = 12,
    FR_TYPE_Q5_K = 13,
    FR_TYPE_Q6_K = 14,
    FR_TYPE_Q8_K = 15,
    FR_TYPE_IQ2_XXS = 16,
    FR_TYPE_IQ2_XS = 17,
    FR_TYPE_IQ3_XXS = 18,
    FR_TYPE_IQ1_S = 19,
    FR_TYPE_IQ4_NL = 20,
    FR_TYPE_IQ3_S = 21,
    FR_TYPE_IQ2_S = 22,
    FR_TYPE_IQ4_XS = 23,
    FR_TYPE_I8 = 24,
    FR_TYPE_I16 = 25,
    FR_TYPE_I32 = 26,
    FR_TYPE_I64 = 27,
    FR_TYPE_F64 = 28,
    FR_TYPE_IQ1_M = 29,
    FR_TYPE_BF16 = 30,
    FR_TYPE_TQ1_0 = 34,
    FR_TYPE_TQ2_0 = 35,
    FR_TYPE_MXFP4 = 39,
    FR_TYPE_COUNT = 40,
} fr_type;

#define QK8_0 32
#define QK4_0 32
#define QK_K 256
#define K_SCALE_SIZE 12

typedef struct { fr_f16 d; int8_t qs[QK8_0]; } block_q8_0;
typedef struct { fr_f16 d; uint8_t qs[QK4_0 / 2]; } block_q4_0;
typedef struct { fr_f16 d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[QK_K / 2]; } block_q4_K;
typedef struct { fr_f16 d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; } block_q5_K;
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; fr_f16 d; } block_q6_K;
/* activation type for the K-quants: float scale, 256 int8, sums of 16-element groups */
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } block_q8_K;

_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0 size");
_Static_assert(sizeof(block_q4_0) == 18, "block_q4_0 size");
_Static_assert(sizeof(block_q4_K) == 144, "block_q4_K size");
_Static_assert(sizeof(block_q5_K) == 176, "block_q5_K size");
_Static_assert(sizeof(block_q6_K) == 210, "block_q6_K size");
_Static_assert(sizeof(block_q8_K) == 292, "block_q8_K size");

/* y[0..n) = float(x) */
typedef void (*fr_to_float_fn)(float *y, const void *x, int64_t n);
/* y = quantize(x[0..n)) */
typedef void (*fr_from_float_fn)(void *y, const float *x, int64_t n);
/* *s = dot(x, y) over n elements; x in the weight type, y in its vec_dot_type */
typedef void (*fr_vec_dot_fn)(int64_t n, float *s, const void *x, const void *y);

typedef struct fr_type_traits {
    const char *name;   /* as llama.cpp prints it: "f32", "q8_0", "q4_K" ... */
    int blck_size;      /* elements per block (0: type unknown) */
    size_t type_size;   /* bytes per block */
    int supported;      /* we can compute with it (to_float and vec_dot set) */
    fr_to_float_fn to_float;        /* dispatched (fastest available) */
    fr_from_float_fn from_float;    /* dispatched quantize, used for activations */
    fr_from_float_fn from_float_ref;/* scalar reference quantize, used by writers */
    fr_vec_dot_fn vec_dot;          /* dispatched */
    fr_type vec_dot_type;           /* what the activation row is quantized to */
} fr_type_traits;

/* Traits for type t; for an unknown t returns a record with blck_size == 0 and name "?".
 * The first call selects SIMD kernels for fr_cpu()->level. */
const fr_type_traits *fr_type_get(fr_type t);
/* Re-selects kernels after fr_cpu_force (tests). */
void fr_type_init(void);
/* Scalar reference traits (to_float, from_float, vec_dot all generic), for tests. */
const fr_type_traits *fr_type_get_ref(fr_type t);

const char *fr_type_name(fr_type t);
/* Parses "q8_0", "Q4_K", "f16" ... ; returns -1 if unknown. */
int fr_type_from_name(const char *s);
/* Bytes for a row of n elements; 0 if n is not a multiple of the block size or t unknown. */
size_t fr_row_size(fr_type t, int64_t n);

#endif
