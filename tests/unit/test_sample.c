/* test_sample.c: the sampler: greedy is argmax, seeds are deterministic, top-k/top-p/min-p
 * restrict the candidates, temperature 1 draws follow the softmax, repetition penalty. */
#include <math.h>
#include <string.h>

#include "sample/sample.h"
#include "t.h"

static void greedy_is_argmax(void) {
    float l[6] = {0.1f, 2.0f, -1.0f, 2.5f, 2.5f, 0.0f};
    fr_sampler_params p = fr_sampler_default_params();
    p.temp = 0;
    fr_sampler *s = fr_sampler_create(&p, 6);
    T_CHECK(fr_sampler_sample(s, l) == 3, "first max wins ties");
    fr_sampler_free(s);
}

static void seeds_are_deterministic(void) {
    float l[50];
    for (int i = 0; i < 50; i++) l[i] = sinf((float)i);
    fr_sampler_params p = fr_sampler_default_params();
    p.temp = 1.5f, p.top_k = 0, p.top_p = 1, p.min_p = 0, p.seed = 7;
    int32_t a[100], b[100];
    fr_sampler *s = fr_sampler_create(&p, 50);
    for (int i = 0; i < 100; i++) a[i] = fr_sampler_sample(s, l);
    fr_sampler_free(s);
    s = fr_sampler_create(&p, 50);
    for (int i = 0; i < 100; i++) b[i] = fr_sampler_sample(s, l);
    fr_sampler_free(s);
    T_CHECK(!memcmp(a, b, sizeof a), "same seed, same draws");
    p.seed = 8;
    s = fr_sampler_create(&p, 50);
    int same = 0;
    for (int i = 0; i < 100; i++) same += fr_sampler_sample(s, l) == a[i];
    fr_sampler_free(s);
    T_CHECK(same < 100, "another seed draws differently");
}

static void filters_restrict_candidates(void) {
    float l[10] = {5, 4, 3, 2, 1, 0, -1, -2, -3, -4};
    fr_sampler_params p = fr_sampler_default_params();
    p.temp = 1, p.top_p = 1, p.min_p = 0, p.top_k = 3;
    fr_sampler *s = fr_sampler_create(&p, 10);
    for (int i = 0; i < 2000; i++) T_CHECK(fr_sampler_sample(s, l) < 3, "top-k 3");
    fr_sampler_free(s);
    p.top_k = 0, p.min_p = 0.3f; /* keeps p >= 0.3 p_max: logits >= 5 + ln 0.3 = 3.8 */
    s = fr_sampler_create(&p, 10);
    for (int i = 0; i < 2000; i++) T_CHECK(fr_sampler_sample(s, l) < 2, "min-p");
    fr_sampler_free(s);
    p.min_p = 0, p.top_p = 0.5f; /* p(0) = 0.636 >= 0.5: only token 0 */
    s = fr_sampler_create(&p, 10);
    for (int i = 0; i < 2000; i++) T_CHECK(fr_sampler_sample(s, l) == 0, "top-p");
    fr_sampler_free(s);
}

static void temperature_one_follows_softmax(void) {
    float l[4] = {1.0f, 0.0f, -1.0f, 0.5f};
    double z = 0, pr[4];
    for (int i = 0; i < 4; i++) z += exp(l[i]);
    for (int i = 0; i < 4; i++) pr[i] = exp(l[i]) / z;
    fr_sampler_params p = fr_sampler_default_params();
    p.temp = 1, p.top_k = 0, p.top_p = 1, p.min_p = 0, p.seed = 3;
    fr_sampler *s = fr_sampler_create(&p, 4);
    int cnt[4] = {0}, n = 40000;
    for (int i = 0; i < n; i++) cnt[fr_sampler_sample(s, l)]++;
    fr_sampler_free(s);
    for (int i = 0; i < 4; i++) {
        double f = (double)cnt[i] / n, sd = sqrt(pr[i] * (1 - pr[i]) / n);
        T_EXPECT(fabs(f - pr[i]) < 5 * sd, "token %d: %.4f vs %.4f", i, f, pr[i]);
    }
}

static void repetition_penalty(void) {
    float l[3] = {2.0f, 1.9f, -1.0f};
    fr_sampler_params p = fr_sampler_default_params();
    p.temp = 0, p.repeat_penalty = 1.5f, p.repeat_last_n = 4;
    fr_sampler *s = fr_sampler_create(&p, 3);
    T_CHECK(fr_sampler_sample(s, l) == 0, "no history");
    fr_sampler_accept(s, 0); /* 2.0 / 1.5 = 1.33 < 1.9 */
    T_CHECK(fr_sampler_sample(s, l) == 1, "penalised token 0");
    for (int i = 0; i < 4; i++) fr_sampler_accept(s, 2); /* token 0 falls out of the window */
    T_CHECK(fr_sampler_sample(s, l) == 0, "window of 4");
    fr_sampler_free(s);
}

void suite_sample(void) {
    T_CASE(greedy_is_argmax);
    T_CASE(seeds_are_deterministic);
    T_CASE(filters_restrict_candidates);
    T_CASE(temperature_one_follows_softmax);
    T_CASE(repetition_penalty);
}
