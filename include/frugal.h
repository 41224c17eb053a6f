/* frugal.h: the public C API of the frugal inference engine.
 *
 *   fr_model *m;  fr_ctx *c;  fr_err e;
 *   if (fr_model_load(&m, "model.gguf", &e)) { puts(e.msg); ... }
 *   fr_ctx_params p = fr_ctx_default_params();
 *   fr_ctx_create(&c, m, &p, &e);
 *   fr_batch b = {n, ids, pos, NULL, NULL};   // logits of the last token
 *   fr_decode(c, &b, &e);
 *   const float *logits = fr_ctx_logits(c, 0);
 *
 * Fallible functions return 0 or a negative FR_E* code and fill the caller's fr_err with a
 * one-line message naming the file, key or tensor involved. */
#ifndef FRUGAL_H
#define FRUGAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    FR_OK = 0,
    FR_EIO = -1,      /* cannot open/read/write/map a file */
    FR_EFORMAT = -2,  /* input is malformed */
    FR_EUNSUP = -3,   /* valid input we do not support */
    FR_ENOMEM = -4,   /* allocation failed */
    FR_EINVAL = -5,   /* bad argument */
    FR_ERANGE = -6,   /* a limit was exceeded (context full, ...) */
};

typedef struct fr_err {
    char msg[512];
} fr_err;

typedef struct fr_model fr_model;
typedef struct fr_ctx fr_ctx;
typedef struct fr_sampler fr_sampler;
typedef struct tok_vocab tok_vocab;

/* ---- models ---- */
int fr_model_load(fr_model **out, const char *path, fr_err *err);
void fr_model_free(fr_model *m);
uint32_t fr_model_n_vocab(const fr_model *m);
/* The model's tokenizer, or NULL when the file has none. */
const tok_vocab *fr_model_vocab(const fr_model *m);

/* ---- contexts ---- */
typedef struct fr_ctx_params {
    int32_t n_ctx;      /* KV cells (all sequences together); 0: min(train ctx, 4096) */
    int32_t n_batch;    /* most tokens per fr_decode call */
    int n_threads;      /* 0: physical cores */
    int kv_type;        /* 1 = f16 (default), 0 = f32 (GGUF type ids) */
    int n_seq;          /* sequences (1 for the CLI) */
} fr_ctx_params;

fr_ctx_params fr_ctx_default_params(void);
int fr_ctx_create(fr_ctx **out, const fr_model *m, const fr_ctx_params *p, fr_err *err);
void fr_ctx_free(fr_ctx *c);

typedef struct fr_batch {
    int n;
    const int32_t *tokens; /* [n] */
    const int32_t *pos;    /* [n] position of each token in its sequence */
    const int32_t *seq;    /* [n] sequence id (NULL: all 0) */
    const int8_t *logits;  /* [n] nonzero: compute this token's logits (NULL: last only) */
} fr_batch;

/* Evaluates a batch; each sequence's tokens must continue it (positions n_pos, n_pos+1..). */
int fr_decode(fr_ctx *c, const fr_batch *b, fr_err *err);
/* Logits of the i-th token that asked for them in the last fr_decode ([n_vocab]). */
const float *fr_ctx_logits(const fr_ctx *c, int i);
/* Forgets positions >= p0 of sequence seq. */
void fr_ctx_truncate(fr_ctx *c, int seq, int32_t p0);
int32_t fr_ctx_seq_len(const fr_ctx *c, int seq);

/* ---- sampling ---- */
typedef struct fr_sampler_params {
    float temp;            /* <= 0: greedy */
    int32_t top_k;         /* <= 0: off */
    float top_p;           /* >= 1: off */
    float min_p;           /* <= 0: off */
    float repeat_penalty;  /* 1: off */
    int32_t repeat_last_n; /* tokens of history the penalty looks at */
    uint64_t seed;
} fr_sampler_params;

fr_sampler_params fr_sampler_default_params(void);
fr_sampler *fr_sampler_create(const fr_sampler_params *p, int32_t n_vocab);
void fr_sampler_free(fr_sampler *s);
int32_t fr_sampler_sample(fr_sampler *s, const float *logits);
void fr_sampler_accept(fr_sampler *s, int32_t tok);

/* ---- tokenizer ---- */
int tok_encode(const tok_vocab *v, const char *text, size_t len, bool add_special,
               bool parse_special, int32_t **ids, size_t *n_ids, fr_err *err);
size_t tok_piece(const tok_vocab *v, int32_t id, bool render_special, char *buf, size_t cap);
bool tok_is_eog(const tok_vocab *v, int32_t id);

#ifdef __cplusplus
}
#endif
#endif
