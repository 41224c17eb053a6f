/* test_pool.c: the thread pool runs every thread once per job and chunks cover a range
 * exactly once, over many back-to-back jobs (the forward pass pattern). */
#include <stdatomic.h>
#include <stdlib.h>

#include "core/pool.h"
#include "t.h"

typedef struct {
    atomic_int calls;
    atomic_int seen[8];
    fr_chunker ch;
    int *hits;
} job_t;

static void count_job(void *arg, int ith, int nth) {
    job_t *j = arg;
    atomic_fetch_add(&j->calls, 1);
    if (ith < 8) atomic_fetch_add(&j->seen[ith], 1);
    (void)nth;
}

static void chunk_job(void *arg, int ith, int nth) {
    job_t *j = arg;
    int64_t lo, hi;
    (void)ith, (void)nth;
    while (fr_chunker_next(&j->ch, &lo, &hi))
        for (int64_t i = lo; i < hi; i++) j->hits[i]++;
}

static void every_thread_runs(void) {
    for (int n = 1; n <= 4; n++) {
        fr_pool *p = fr_pool_create(n);
        job_t j = {0};
        for (int rep = 0; rep < 500; rep++) fr_pool_run(p, count_job, &j);
        T_CHECK(atomic_load(&j.calls) == 500 * n, "n=%d: %d calls", n, atomic_load(&j.calls));
        for (int i = 0; i < n; i++)
            T_CHECK(atomic_load(&j.seen[i]) == 500, "thread %d ran %d times", i, atomic_load(&j.seen[i]));
        fr_pool_free(p);
    }
}

static void chunks_cover_once(void) {
    fr_pool *p = fr_pool_create(3);
    int n = 1001;
    job_t j = {0};
    j.hits = calloc((size_t)n, sizeof(int));
    for (int rep = 0; rep < 200; rep++) {
        fr_chunker_init(&j.ch, n, 1 + rep % 17);
        fr_pool_run(p, chunk_job, &j);
    }
    for (int i = 0; i < n; i++) T_EXPECT(j.hits[i] == 200, "index %d hit %d times", i, j.hits[i]);
    free(j.hits);
    fr_pool_free(p);
}

void suite_pool(void) {
    T_CASE(every_thread_runs);
    T_CASE(chunks_cover_once);
}
