/* metrics.c: server counters and gauges, the generation/prompt token rates over a sliding
 * window of about ten seconds, and their Prometheus text exposition (/metrics). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

void srv_metrics_init(srv_metrics *m) {
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
}

void srv_metrics_free(srv_metrics *m) {
    pthread_mutex_destroy(&m->mu);
}

void srv_metrics_http(srv_metrics *m, int status) {
    int i = status < 300    ? 0
            : status == 400 ? 1
            : status == 401 ? 2
            : status == 404 ? 3
            : status == 413 ? 5
            : status == 503 ? 7
            : status >= 500 ? 6
                            : 4;
    pthread_mutex_lock(&m->mu);
    m->http[i]++;
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_tick(srv_metrics *m, double now) {
    enum { W = 11 };
    pthread_mutex_lock(&m->mu);
    m->win_t[m->win_i] = now;
    m->win_gen[m->win_i] = m->gen_tokens;
    m->win_prompt[m->win_i] = m->prompt_tokens - m->prompt_cached;
    int newest = m->win_i;
    m->win_i = (m->win_i + 1) % W;
    if (m->win_n < W) m->win_n++;
    int oldest = m->win_n < W ? 0 : m->win_i;
    double dt = m->win_t[newest] - m->win_t[oldest];
    m->gen_rate = dt > 0 ? (double)(m->win_gen[newest] - m->win_gen[oldest]) / dt : 0;
    m->prompt_rate = dt > 0 ? (double)(m->win_prompt[newest] - m->win_prompt[oldest]) / dt : 0;
    pthread_mutex_unlock(&m->mu);
}

static void put(char **buf, size_t *len, size_t *cap, const char *name, const char *type,
                const char *help, const char *labels, double v) {
    char line[512];
    int n = 0;
    if (help)
        n = snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    n += snprintf(line + n, sizeof line - (size_t)n, "%s%s %.17g\n", name, labels ? labels : "", v);
    srv_buf_append(buf, len, cap, line, (size_t)n);
}

char *srv_metrics_render(srv_metrics *m, int parallel) {
    static const char *codes[8] = {"2xx", "400", "401", "404", "4xx", "413", "5xx", "503"};
    char *b = NULL;
    size_t len = 0, cap = 0;
    pthread_mutex_lock(&m->mu);
    srv_metrics x = *m;
    pthread_mutex_unlock(&m->mu);
    for (int i = 0; i < 8; i++) {
        char lab[32];
        snprintf(lab, sizeof lab, "{code=\"%s\"}", codes[i]);
        put(&b, &len, &cap, "frugal_http_responses_total", "counter",
            i ? NULL : "HTTP responses sent, by status code (class)", lab, (double)x.http[i]);
    }
    put(&b, &len, &cap, "frugal_requests_total", "counter",
        "completion requests finished, by outcome", "{outcome=\"ok\"}", (double)x.requests_ok);
    put(&b, &len, &cap, "frugal_requests_total", "counter", NULL, "{outcome=\"error\"}",
        (double)x.requests_failed);
    put(&b, &len, &cap, "frugal_requests_total", "counter", NULL, "{outcome=\"cancelled\"}",
        (double)x.requests_cancelled);
    put(&b, &len, &cap, "frugal_prompt_tokens_total", "counter",
        "prompt tokens of admitted requests", NULL, (double)x.prompt_tokens);
    put(&b, &len, &cap, "frugal_prompt_tokens_cached_total", "counter",
        "prompt tokens whose KV came from the prefix cache (not recomputed)", NULL,
        (double)x.prompt_cached);
    put(&b, &len, &cap, "frugal_generated_tokens_total", "counter", "completion tokens generated",
        NULL, (double)x.gen_tokens);
    put(&b, &len, &cap, "frugal_generation_tokens_per_second", "gauge",
        "completion tokens per second, all requests together, over the last ~10 s", NULL,
        x.gen_rate);
    put(&b, &len, &cap, "frugal_prompt_tokens_per_second", "gauge",
        "prompt tokens evaluated per second over the last ~10 s", NULL, x.prompt_rate);
    put(&b, &len, &cap, "frugal_requests_running", "gauge", "requests holding a slot", NULL,
        x.running);
    put(&b, &len, &cap, "frugal_requests_queued", "gauge", "requests waiting for a slot", NULL,
        x.queued);
    put(&b, &len, &cap, "frugal_slots", "gauge", "slots (--parallel)", NULL, parallel);
    put(&b, &len, &cap, "frugal_kv_blocks_total", "gauge", "KV cache blocks", NULL, x.kv_total);
    put(&b, &len, &cap, "frugal_kv_blocks_in_use", "gauge",
        "KV cache blocks referenced by a request", NULL, x.kv_in_use);
    put(&b, &len, &cap, "frugal_kv_blocks_cached", "gauge",
        "KV cache blocks registered for prefix reuse (in use or kept)", NULL, x.kv_registered);
    put(&b, &len, &cap, "frugal_kv_prefix_hit_blocks_total", "counter",
        "KV blocks a request reused from the prefix cache", NULL, (double)x.kv_hits);
    put(&b, &len, &cap, "frugal_kv_evicted_blocks_total", "counter",
        "cached KV blocks evicted (least recently used first)", NULL, (double)x.kv_evictions);
    put(&b, &len, &cap, "frugal_decode_steps_total", "counter", "batched forward passes", NULL,
        (double)x.steps);
    put(&b, &len, &cap, "frugal_decode_seconds_total", "counter", "seconds spent in forward passes",
        NULL, x.busy_s);
    return b;
}
