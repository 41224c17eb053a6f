/* pool.c: the persistent thread pool (see pool.h). */
#include "core/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "core/err.h"

#define SPIN_ITERS 200000

struct fr_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;     /* bumped for each job */
    atomic_int pending;  /* workers still running the current job */
    atomic_int sleepers; /* workers waiting on cv */
    atomic_int stop;
    fr_pool_fn fn;
    void *arg;
    void **scratch;      /* [n + FR_POOL_SHARED] */
    size_t *scratch_cap; /* [n + FR_POOL_SHARED] */
};

typedef struct { fr_pool *p; int ith; } worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker(void *a) {
    worker_arg *wa = a;
    fr_pool *p = wa->p;
    int ith = wa->ith;
    free(wa);
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
               !atomic_load(&p->stop)) {
            if (++spins < SPIN_ITERS) { cpu_relax(); continue; }
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = g;
        p->fn(p->arg, ith, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
}

fr_pool *fr_pool_create(int n_threads) {
    fr_pool *p = fr_xcalloc(1, sizeof *p);
    p->n = n_threads < 1 ? 1 : n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->threads = fr_xcalloc((size_t)p->n, sizeof *p->threads);
    p->scratch = fr_xcalloc((size_t)p->n + FR_POOL_SHARED, sizeof *p->scratch);
    p->scratch_cap = fr_xcalloc((size_t)p->n + FR_POOL_SHARED, sizeof *p->scratch_cap);
    for (int i = 1; i < p->n; i++) {
        worker_arg *wa = fr_xmalloc(sizeof *wa);
        wa->p = p;
        wa->ith = i;
        if (pthread_create(&p->threads[i], NULL, worker, wa) != 0) FR_ASSERT(!"pthread_create");
    }
    return p;
}

void fr_pool_free(fr_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    for (int i = 0; i < p->n + FR_POOL_SHARED; i++) free(p->scratch[i]);
    free(p->scratch);
    free(p->scratch_cap);
    free(p->threads);
    free(p);
}

int fr_pool_size(const fr_pool *p) { return p->n; }

void fr_pool_run(fr_pool *p, fr_pool_fn fn, void *arg) {
    if (p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->pending, p->n - 1);
    atomic_fetch_add(&p->gen, 1); /* seq_cst: pairs with the sleepers check */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    fn(arg, 0, p->n);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) {
        if (++spins < SPIN_ITERS) cpu_relax();
        else sched_yield();
    }
}

void *fr_pool_scratch(fr_pool *p, int slot, size_t bytes) {
    FR_ASSERT(slot >= 0 && slot < p->n + FR_POOL_SHARED);
    if (p->scratch_cap[slot] < bytes) {
        free(p->scratch[slot]);
        size_t cap = (bytes + 63) & ~(size_t)63;
        p->scratch[slot] = aligned_alloc(64, cap);
        FR_ASSERT(p->scratch[slot] != NULL);
        p->scratch_cap[slot] = cap;
    }
    return p->scratch[slot];
}

void fr_chunker_init(fr_chunker *c, int64_t n, int64_t chunk) {
    atomic_store(&c->next, 0);
    c->n = n;
    c->chunk = chunk < 1 ? 1 : chunk;
}

int fr_chunker_next(fr_chunker *c, int64_t *lo, int64_t *hi) {
    int64_t s = atomic_fetch_add(&c->next, c->chunk);
    if (s >= c->n) return 0;
    *lo = s;
    *hi = s + c->chunk < c->n ? s + c->chunk : c->n;
    return 1;
}
