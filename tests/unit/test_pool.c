/* test_pool.c: the thread pool runs every thread once per job; chunks (fr_chunker) and
 * streaming shares (fr_split) cover a range exactly once, over many back-to-back jobs (the
 * forward pass pattern); a late thread's share is taken over by the others. */
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

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

typedef struct {
    fr_split sp;
    int *hits;
    atomic_int done[8];
    int sleeper; /* this thread starts 100 ms late (-1: none) */
} split_job_t;

static void split_job(void *arg, int ith, int nth) {
    split_job_t *j = arg;
    int64_t lo, hi;
    int cursor = ith;
    (void)nth;
    if (ith == j->sleeper) usleep(100000);
    while (fr_split_next(&j->sp, &cursor, &lo, &hi))
        for (int64_t i = lo; i < hi; i++) {
            j->hits[i]++;
            if (ith < 8) atomic_fetch_add(&j->done[ith], 1);
        }
}

static void split_covers_once(void) {
    const int threads[] = {1, 2, 3, 5}, sizes[] = {0, 1, 2, 7, 1001};
    for (size_t ti = 0; ti < sizeof threads / sizeof threads[0]; ti++) {
        fr_pool *p = fr_pool_create(threads[ti]);
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            int n = sizes[si];
            split_job_t j = {.sleeper = -1};
            j.hits = calloc((size_t)n + 1, sizeof(int));
            for (int rep = 0; rep < 50; rep++) {
                fr_split_init(&j.sp, n, threads[ti], 1 + rep % 17);
                fr_pool_run(p, split_job, &j);
            }
            for (int i = 0; i < n; i++)
                T_EXPECT(j.hits[i] == 50, "threads %d n %d: index %d hit %d times", threads[ti], n, i, j.hits[i]);
            free(j.hits);
        }
        fr_pool_free(p);
    }
    /* thread 1 starts late: threads 0 and 2 take over its share */
    fr_pool *p = fr_pool_create(3);
    split_job_t j = {.sleeper = 1};
    j.hits = calloc(3000, sizeof(int));
    fr_split_init(&j.sp, 3000, 3, 10);
    fr_pool_run(p, split_job, &j);
    int sum = 0;
    for (int i = 0; i < 3000; i++) sum += j.hits[i] == 1;
    T_EXPECT(sum == 3000, "late thread: %d of 3000 indices done once", sum);
    T_EXPECT(atomic_load(&j.done[1]) < 1000, "the late thread still did its whole share (%d)",
             atomic_load(&j.done[1]));
    free(j.hits);
    fr_pool_free(p);
}

void suite_pool(void) {
    T_CASE(every_thread_runs);
    T_CASE(chunks_cover_once);
    T_CASE(split_covers_once);
}
