/* sample.h: token sampling: repetition penalty, top-k, top-p, min-p, temperature, then a
 * draw from a seeded generator (deterministic for a given seed); temperature <= 0 is
 * greedy (argmax). The order follows llama.cpp's default chain. */
#ifndef FR_SAMPLE_H
#define FR_SAMPLE_H

#include <stdint.h>

typedef struct fr_sampler_params {
    float temp;            /* <= 0: greedy */
    int32_t top_k;         /* <= 0: off */
    float top_p;           /* >= 1: off */
    float min_p;           /* <= 0: off */
    float repeat_penalty;  /* 1: off */
    int32_t repeat_last_n; /* tokens of history the penalty looks at */
    uint64_t seed;
} fr_sampler_params;

typedef struct fr_sampler fr_sampler;

fr_sampler_params fr_sampler_default_params(void);
fr_sampler *fr_sampler_create(const fr_sampler_params *p, int32_t n_vocab);
void fr_sampler_free(fr_sampler *s);
/* Picks a token from logits[n_vocab] (not modified). */
int32_t fr_sampler_sample(fr_sampler *s, const float *logits);
/* Records a token in the history the repetition penalty uses (prompt and generated). */
void fr_sampler_accept(fr_sampler *s, int32_t tok);
void fr_sampler_reset(fr_sampler *s);
/* index of the largest value (first one on ties) */
int32_t fr_argmax(const float *x, int32_t n);

#endif
