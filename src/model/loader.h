/* loader.h: binding GGUF metadata and tensors into an fr_model, with checks. Errors are
 * sticky: after the first failure every call is a no-op and ld->rc holds the code, so an
 * arch file reads as a plain list of what it needs. Messages name the file, the key or
 * tensor, and what was expected vs found. */
#ifndef FR_LOADER_H
#define FR_LOADER_H

#include "model/model.h"

typedef struct fr_loader {
    fr_model *m;
    fr_err *err;
    int rc;
} fr_loader;

enum { LD_OPTIONAL = 0, LD_REQUIRED = 1 };

/* "{arch}.{suffix}" keys; an absent optional key leaves *out unchanged. */
void ld_u32(fr_loader *ld, const char *suffix, uint32_t *out, int required);
void ld_f32(fr_loader *ld, const char *suffix, float *out, int required);
void ld_bool(fr_loader *ld, const char *suffix, bool *out, int required);
/* Copies a string value into buf ("" when absent). */
void ld_str(fr_loader *ld, const char *suffix, char *buf, size_t cap);
/* Fails with a message unless cond holds (hyper-parameter consistency). */
void ld_require(fr_loader *ld, int cond, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Binds tensor `fmt...` (printf-style name) and checks its shape against ne[0..n_dims)
 * (a trailing dimension of 1 may be omitted in the file). Returns NULL when absent and
 * optional, or after an error. 1-D tensors (norms, biases) must be F32. */
const fr_tensor *ld_tensor(fr_loader *ld, int required, int n_dims, const int64_t *ne,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define LD_T1(ld, req, a, ...) ld_tensor(ld, req, 1, (const int64_t[]){a}, __VA_ARGS__)
#define LD_T2(ld, req, a, b, ...) ld_tensor(ld, req, 2, (const int64_t[]){a, b}, __VA_ARGS__)
#define LD_T3(ld, req, a, b, c, ...) ld_tensor(ld, req, 3, (const int64_t[]){a, b, c}, __VA_ARGS__)

/* The hyper-parameters every transformer here shares (embedding, layers, heads, rope,
 * rms eps, context), with llama.cpp's defaults. */
void ld_common_hparams(fr_loader *ld, fr_hparams *hp);
/* token_embd, output_norm, output (tied to token_embd when absent). */
void ld_io_tensors(fr_loader *ld);

/* Per-arch binders (arch_*.c). */
int arch_llama_load(fr_loader *ld);
int arch_qwen2_load(fr_loader *ld);
int arch_qwen3_load(fr_loader *ld);
int arch_qwen3moe_load(fr_loader *ld);
int arch_deepseek2_load(fr_loader *ld);



/* Building blocks shared by architectures (arch_common.c). */
enum { LD_BIAS_NONE = 0, LD_BIAS_OPTIONAL = 1, LD_BIAS_QKV = 2 };
void ld_attn_gqa(fr_loader *ld, int il, int bias, int qk_norm);
void ld_ffn_dense(fr_loader *ld, int il);
void ld_ffn_moe(fr_loader *ld, int il, int shared);
#endif
