/* t_model.h: helpers the model tests share: scratch paths, synthetic models, GGUF rewrites
 * with one mutation (for broken-file tests), and evaluating token sequences. */
#ifndef FR_T_MODEL_H
#define FR_T_MODEL_H

#include "model/ctx.h"
#include "synth/synth.h"

/* a path in this run's scratch directory (8 rotating buffers) */
char *t_path(const char *name);
/* writes s to the scratch file `name`; NULL (and a printed reason) on failure */
const char *t_synth(const fr_synth_spec *s, const char *name);

typedef struct t_mutation {
    const char *drop_tensor; /* tensor left out */
    const char *reshape;     /* tensor whose dim `dim` becomes `val` */
    int dim;
    int64_t val;
    const char *key; /* u32 key set to key_val (added if absent) */
    uint32_t key_val;
    const char *drop_key; /* key left out */
    const char *str_key;  /* string key set to str_val */
    const char *str_val;
} t_mutation;
#define T_MUT(...) ((t_mutation){__VA_ARGS__})

/* Copies src to dst through the GGUF reader and writer with one mutation (a grown tensor
 * gets zeroed extra data). */
int t_rewrite(const char *src, const char *dst, t_mutation mu);
/* Loading path must fail with a message containing needle1 (and needle2 if given). */
void t_expect_load_error(const char *path, const char *needle1, const char *needle2);

/* A context for tests: n_ctx 256, n_batch 64. */
fr_ctx *t_make_ctx(const fr_model *m, int n_seq, int threads, fr_type kv);
/* Evaluates ids (sequence ids seq, NULL: all 0) continuing each sequence, in batches of
 * `chunk`, copying every position's logits to out [n, n_vocab]. */
int t_eval(fr_ctx *c, const int32_t *ids, const int32_t *seq, int n, int chunk, float *out);
float t_max_diff(const float *a, const float *b, size_t n);

#endif
