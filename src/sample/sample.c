/* sample.c: the sampler chain (see sample.h). */
#include "sample/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

typedef struct { int32_t id; float logit; float p; } cand;

struct fr_sampler {
    fr_sampler_params p;
    int32_t n_vocab;
    cand *c;          /* [n_vocab] working candidates */
    int32_t *hist;    /* ring of the last repeat_last_n tokens */
    int32_t n_hist, hist_pos;
    uint64_t rng[4];
};

fr_sampler_params fr_sampler_default_params(void) {
    fr_sampler_params p = {.temp = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                           .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 0x5eed};
    return p;
}

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(uint64_t *s) { /* xoshiro256** */
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return r;
}

void fr_sampler_reset(fr_sampler *s) {
    uint64_t x = s->p.seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix(&x);
    s->n_hist = s->hist_pos = 0;
}

fr_sampler *fr_sampler_create(const fr_sampler_params *p, int32_t n_vocab) {
    fr_sampler *s = fr_xcalloc(1, sizeof *s);
    s->p = *p;
    if (s->p.repeat_last_n < 0) s->p.repeat_last_n = 0;
    s->n_vocab = n_vocab;
    s->c = fr_xmalloc(sizeof(cand) * (size_t)n_vocab);
    s->hist = fr_xmalloc(sizeof(int32_t) * (size_t)(s->p.repeat_last_n + 1));
    fr_sampler_reset(s);
    return s;
}

void fr_sampler_free(fr_sampler *s) {
    if (!s) return;
    free(s->c);
    free(s->hist);
    free(s);
}

void fr_sampler_accept(fr_sampler *s, int32_t tok) {
    if (!s->p.repeat_last_n) return;
    s->hist[s->hist_pos] = tok;
    s->hist_pos = (s->hist_pos + 1) % s->p.repeat_last_n;
    if (s->n_hist < s->p.repeat_last_n) s->n_hist++;
}

int32_t fr_argmax(const float *x, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static int by_logit_desc(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id - y->id;
}

/* penalised logit of token id (llama.cpp: divide positive logits, multiply negative) */
static float penalise(const fr_sampler *s, int32_t id, float l) {
    for (int32_t i = 0; i < s->n_hist; i++)
        if (s->hist[i] == id) return l > 0 ? l / s->p.repeat_penalty : l * s->p.repeat_penalty;
    return l;
}

int32_t fr_sampler_sample(fr_sampler *s, const float *logits) {
    int32_t n = s->n_vocab;
    int pen = s->p.repeat_penalty != 1.0f && s->n_hist > 0;
    if (s->p.temp <= 0.0f && !pen) return fr_argmax(logits, n);
    for (int32_t i = 0; i < n; i++) {
        s->c[i].id = i;
        s->c[i].logit = pen ? penalise(s, i, logits[i]) : logits[i];
    }
    if (s->p.temp <= 0.0f) {
        int32_t best = 0;
        for (int32_t i = 1; i < n; i++)
            if (s->c[i].logit > s->c[best].logit) best = i;
        return best;
    }
    qsort(s->c, (size_t)n, sizeof(cand), by_logit_desc);
    int32_t m = n;
    if (s->p.top_k > 0 && s->p.top_k < m) m = s->p.top_k;
    /* softmax over the remaining candidates (before temperature, as llama.cpp's top-p) */
    double sum = 0.0;
    for (int32_t i = 0; i < m; i++) {
        s->c[i].p = expf(s->c[i].logit - s->c[0].logit);
        sum += s->c[i].p;
    }
    if (s->p.top_p < 1.0f) {
        double cum = 0.0;
        for (int32_t i = 0; i < m; i++) {
            cum += s->c[i].p / sum;
            if (cum >= s->p.top_p) { m = i + 1; break; }
        }
    }
    if (s->p.min_p > 0.0f) {
        /* keep tokens with p >= min_p * p_max, i.e. logit >= max + log(min_p) */
        float thr = s->c[0].logit + logf(s->p.min_p);
        int32_t k = 1;
        while (k < m && s->c[k].logit >= thr) k++;
        m = k;
    }
    /* temperature, then draw */
    sum = 0.0;
    for (int32_t i = 0; i < m; i++) {
        s->c[i].p = expf((s->c[i].logit - s->c[0].logit) / s->p.temp);
        sum += s->c[i].p;
    }
    double r = (double)(next_u64(s->rng) >> 11) * (1.0 / 9007199254740992.0) * sum;
    for (int32_t i = 0; i < m; i++) {
        r -= s->c[i].p;
        if (r < 0) return s->c[i].id;
    }
    return s->c[m - 1].id;
}
