/* sample.h: token sampling: repetition penalty, top-k, top-p, min-p, temperature, then a
 * draw from a seeded generator (deterministic for a given seed); temperature <= 0 is
 * greedy (argmax). The order follows llama.cpp's default chain. */
#ifndef FR_SAMPLE_H
#define FR_SAMPLE_H

#include <stdint.h>

#include "frugal.h" /* fr_sampler_params and the sampler API */

void fr_sampler_reset(fr_sampler *s);
/* index of the largest value (first one on ties) */
int32_t fr_argmax(const float *x, int32_t n);

#endif
