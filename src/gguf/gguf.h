/* gguf.h: GGUF v2/v3 reader (hostile input, zero-copy over mmap) and streaming writer.
 *
 * The reader validates everything against the file size before anything is used: counts,
 * string lengths, array nesting (bounded depth), tensor dims/types/offsets/overlaps, and
 * alignment. Strings and array payloads point into the mapping (strings are NOT
 * NUL-terminated). Tensor data pointers point into the mapping: weights are never copied. */
#ifndef FR_GGUF_H
#define FR_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

#define GGUF_MAX_DIMS 4
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_ARRAY_DEPTH 8

typedef enum {
    GGUF_T_UINT8 = 0, GGUF_T_INT8 = 1, GGUF_T_UINT16 = 2, GGUF_T_INT16 = 3,
    GGUF_T_UINT32 = 4, GGUF_T_INT32 = 5, GGUF_T_FLOAT32 = 6, GGUF_T_BOOL = 7,
    GGUF_T_STRING = 8, GGUF_T_ARRAY = 9, GGUF_T_UINT64 = 10, GGUF_T_INT64 = 11,
    GGUF_T_FLOAT64 = 12, GGUF_T_COUNT = 13,
} gguf_vtype;

typedef struct gguf_str { uint64_t len; const char *ptr; } gguf_str; /* not NUL-terminated */

typedef struct gguf_value gguf_value;
struct gguf_value {
    gguf_vtype type;
    union {
        uint64_t u64; int64_t i64; double f64; /* scalars, widened (u8..u64 / i8..i64 / f32,f64) */
        bool b;
        gguf_str str;
        struct {
            gguf_vtype type;      /* element type */
            uint64_t n;           /* element count */
            const void *data;     /* scalar elements: raw little-endian payload in the map */
            gguf_str *strs;       /* string elements (owned by the file handle) */
            gguf_value *items;    /* nested array elements (owned by the file handle) */
        } arr;
    } v;
};

typedef struct gguf_kv { gguf_str key; gguf_value val; } gguf_kv;

typedef struct gguf_tensor {
    gguf_str name;
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS]; /* ne[0] is the contiguous dimension; unused dims are 1 */
    uint32_t type;             /* fr_type */
    uint64_t offset;           /* relative to the data section */
    const void *data;          /* in the mapping */
    size_t nbytes;
} gguf_tensor;

typedef struct gguf_file {
    const char *path;          /* for messages ("<memory>" for gguf_open_mem) */
    const uint8_t *base; size_t size; int mapped;
    uint32_t version;
    uint64_t n_kv; gguf_kv *kv;
    uint64_t n_tensors; gguf_tensor *tensors;
    uint64_t alignment;
    uint64_t data_offset;      /* start of the tensor data section */
    void *priv;                /* reader-internal allocations */
} gguf_file;

/* Opens and maps path read-only; validates the whole header. On failure *out is NULL
 * and err says what is wrong, naming the file and the key or tensor. */
int gguf_open(gguf_file **out, const char *path, fr_err *err);
/* Same over a caller-owned buffer (fuzzing, tests); buf must outlive the handle. */
int gguf_open_mem(gguf_file **out, const void *buf, size_t size, fr_err *err);
void gguf_close(gguf_file *f);

/* Lookup (NULL when absent). */
const gguf_kv *gguf_find(const gguf_file *f, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);
bool gguf_str_eq(gguf_str s, const char *c);
/* Copies s into buf (truncating, always NUL-terminated); returns buf. */
char *gguf_str_copy(char *buf, size_t cap, gguf_str s);

/* Typed getters: 0 ok, FR_EFORMAT (wrong type/out of range, message names the key and the
 * expected vs found type) or, when the key is absent, 1 and *out untouched (so callers can
 * keep a default). Integer getters accept any integer type whose value fits. */
int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, fr_err *err);
int gguf_get_i32(const gguf_file *f, const char *key, int32_t *out, fr_err *err);
int gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out, fr_err *err);
int gguf_get_f32(const gguf_file *f, const char *key, float *out, fr_err *err); /* f32/f64 */
int gguf_get_bool(const gguf_file *f, const char *key, bool *out, fr_err *err);
int gguf_get_str(const gguf_file *f, const char *key, gguf_str *out, fr_err *err);
/* Array getter: checks element type (GGUF_T_COUNT = any) and returns the array value. */
int gguf_get_arr(const gguf_file *f, const char *key, gguf_vtype elem, const gguf_value **out,
                 fr_err *err);
/* Element i of a scalar array as double / int64 (caller checked the bounds). */
double gguf_arr_f64(const gguf_value *arr, uint64_t i);
int64_t gguf_arr_i64(const gguf_value *arr, uint64_t i);

const char *gguf_vtype_name(gguf_vtype t);
size_t gguf_vtype_size(gguf_vtype t); /* bytes of a scalar type; 0 for string/array */
/* Formats v for people: scalars as numbers, strings quoted and escaped, arrays as
 * "[u32 x 5: 1, 2, 3, ...]" showing at most max_elems elements (truncating, always
 * NUL-terminated); returns buf. */
char *gguf_value_format(char *buf, size_t cap, const gguf_value *v, uint64_t max_elems);

/* ggml tensor types as stored in GGUF. A private copy of ggml's block geometry, so that
 * validating a file does not depend on the kernels in src/quant. Returns false (and name
 * "?") for an unknown or removed type id. Any out-pointer may be NULL. */
bool gguf_type_info(uint32_t type, const char **name, uint32_t *blck_size, uint32_t *type_size);
/* Bytes of a tensor of type `type` with shape ne[0..n_dims) (n_dims 1..GGUF_MAX_DIMS):
 * ne[0] / blck_size * type_size * ne[1] * ... 0 ok; FR_EFORMAT with a message (naming the
 * type and shape, without a file/tensor prefix) when the type is unknown, n_dims is out of
 * range, an ne is negative, ne[0] is not a multiple of the block size, or the element count
 * or byte size overflows int64. */
int gguf_tensor_size(uint64_t *nbytes, uint32_t type, uint32_t n_dims, const int64_t *ne,
                     fr_err *err);

/* ---- writer ----
 * Collect metadata and tensor infos, then gguf_writer_write_header, then each tensor's
 * data in the order added (gguf_writer_write_tensor), then gguf_writer_finish. Tensor data
 * is streamed, so a multi-GB model never has to sit in memory at once. */
typedef struct gguf_writer gguf_writer;

gguf_writer *gguf_writer_create(uint32_t version /* 2 or 3 */);
void gguf_writer_free(gguf_writer *w);
/* Setting a key twice replaces the value. */
void gguf_w_u8(gguf_writer *w, const char *key, uint8_t v);
void gguf_w_i8(gguf_writer *w, const char *key, int8_t v);
void gguf_w_u16(gguf_writer *w, const char *key, uint16_t v);
void gguf_w_i16(gguf_writer *w, const char *key, int16_t v);
void gguf_w_u32(gguf_writer *w, const char *key, uint32_t v);
void gguf_w_i32(gguf_writer *w, const char *key, int32_t v);
void gguf_w_u64(gguf_writer *w, const char *key, uint64_t v);
void gguf_w_i64(gguf_writer *w, const char *key, int64_t v);
void gguf_w_f32(gguf_writer *w, const char *key, float v);
void gguf_w_f64(gguf_writer *w, const char *key, double v);
void gguf_w_bool(gguf_writer *w, const char *key, bool v);
void gguf_w_str(gguf_writer *w, const char *key, const char *v);
/* Array of scalars of type elem (data holds n packed little-endian elements). */
void gguf_w_arr(gguf_writer *w, const char *key, gguf_vtype elem, const void *data, uint64_t n);
void gguf_w_arr_str(gguf_writer *w, const char *key, const char *const *strs, uint64_t n);
/* Any value, including nested arrays (value trees as the reader returns them; copied). */
void gguf_w_value(gguf_writer *w, const char *key, const gguf_value *v);

/* Declares a tensor; returns its index. ne as in gguf_tensor (n_dims entries). */
int gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                  const int64_t *ne);
int gguf_writer_write_header(gguf_writer *w, FILE *fp, fr_err *err);
/* data holds exactly the tensor's nbytes; tensors must come in declaration order. */
int gguf_writer_write_tensor(gguf_writer *w, FILE *fp, int idx, const void *data, fr_err *err);
int gguf_writer_finish(gguf_writer *w, FILE *fp, fr_err *err);

#endif
