/* pool.c: the persistent thread pool (see pool.h). Waiting is spin-then-sleep on both
 * sides: workers spin for a new job up to SPIN_WORKER_NS, then sleep on a futex on the
 * job generation; the caller spins for the job's end up to SPIN_MAIN_NS, then sleeps on a
 * futex the last worker to finish bumps. Spinning keeps back-to-back ops (a forward pass
 * runs hundreds per token) free of wake-up latency; the sleeps give the CPU back when a
 * thread has been preempted (shared or oversubscribed machines), instead of yield-spinning. */
#include "core/pool.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"

#define SPIN_WORKER_NS 2000000 /* 2 ms */
#define SPIN_MAIN_NS 200000    /* 0.2 ms */

struct fr_pool {
    int n;
    pthread_t *threads;
    atomic_uint gen;     /* bumped for each job */
    atomic_int pending;  /* workers still running the current job */
    atomic_int sleepers; /* workers asleep (or about to sleep) on gen */
    atomic_uint done;    /* bumped when a job ends while the caller sleeps */
    atomic_int main_waiting;
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

static void futex_wait(atomic_uint *addr, unsigned val) {
    syscall(SYS_futex, (unsigned *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}
static void futex_wake(atomic_uint *addr) {
    syscall(SYS_futex, (unsigned *)addr, FUTEX_WAKE_PRIVATE, 1 << 30, NULL, NULL, 0);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Spins until the job generation moves from seen (or stop), checking the clock every 64
 * pauses; returns 1 if the budget ran out first. */
static int spin_new_job(fr_pool *p, unsigned seen, int64_t budget_ns) {
    int64_t t0 = 0;
    for (unsigned k = 1; atomic_load_explicit(&p->gen, memory_order_acquire) == seen &&
                         !atomic_load_explicit(&p->stop, memory_order_relaxed);
         k++) {
        cpu_relax();
        if ((k & 63) == 0) {
            int64_t t = now_ns();
            if (!t0) t0 = t;
            else if (t - t0 > budget_ns) return 1;
        }
    }
    return 0;
}

/* Spins until no worker is still running the current job; 1 if the budget ran out. */
static int spin_job_end(fr_pool *p, int64_t budget_ns) {
    int64_t t0 = 0;
    for (unsigned k = 1; atomic_load_explicit(&p->pending, memory_order_acquire) > 0; k++) {
        cpu_relax();
        if ((k & 63) == 0) {
            int64_t t = now_ns();
            if (!t0) t0 = t;
            else if (t - t0 > budget_ns) return 1;
        }
    }
    return 0;
}

static void *worker(void *a) {
    worker_arg *wa = a;
    fr_pool *p = wa->p;
    int ith = wa->ith;
    free(wa);
    unsigned seen = 0;
    for (;;) {
        while (atomic_load_explicit(&p->gen, memory_order_acquire) == seen && !atomic_load(&p->stop)) {
            if (!spin_new_job(p, seen, SPIN_WORKER_NS)) break;
            atomic_fetch_add(&p->sleepers, 1); /* seq_cst: pairs with fr_pool_run */
            if (atomic_load(&p->gen) == seen && !atomic_load(&p->stop)) futex_wait(&p->gen, seen);
            atomic_fetch_sub(&p->sleepers, 1);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = atomic_load_explicit(&p->gen, memory_order_acquire);
        p->fn(p->arg, ith, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->main_waiting)) {
            atomic_fetch_add(&p->done, 1);
            futex_wake(&p->done);
        }
    }
}

fr_pool *fr_pool_create(int n_threads) {
    fr_pool *p = fr_xcalloc(1, sizeof *p);
    p->n = n_threads < 1 ? 1 : n_threads;
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
    atomic_store(&p->stop, 1);
    atomic_fetch_add(&p->gen, 1);
    futex_wake(&p->gen);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
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
    if (atomic_load(&p->sleepers) > 0) futex_wake(&p->gen);
    fn(arg, 0, p->n);
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) {
        if (!spin_job_end(p, SPIN_MAIN_NS)) break;
        atomic_store(&p->main_waiting, 1); /* seq_cst: pairs with the last worker's check */
        unsigned d = atomic_load(&p->done);
        if (atomic_load(&p->pending) > 0) futex_wait(&p->done, d);
        atomic_store(&p->main_waiting, 0);
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

void fr_split_init(fr_split *s, int64_t n, int n_threads, int64_t chunk) {
    int np = n_threads < 1 ? 1 : n_threads > FR_SPLIT_PARTS ? FR_SPLIT_PARTS : n_threads;
    if (chunk <= 0) {
        chunk = n / (8 * (int64_t)np);
        chunk = chunk < 4 ? 4 : chunk > 64 ? 64 : chunk;
    }
    s->n_parts = np;
    s->chunk = chunk;
    for (int p = 0; p < np; p++) {
        atomic_store(&s->part[p].next, n * p / np);
        s->part[p].end = n * (p + 1) / np;
    }
}

int fr_split_next(fr_split *s, int *cursor, int64_t *lo, int64_t *hi) {
    for (int k = 0; k < s->n_parts; k++) {
        int p = (*cursor + k) % s->n_parts;
        if (atomic_load_explicit(&s->part[p].next, memory_order_relaxed) >= s->part[p].end) continue;
        int64_t a = atomic_fetch_add(&s->part[p].next, s->chunk);
        if (a >= s->part[p].end) continue;
        *cursor = p;
        *lo = a;
        *hi = a + s->chunk < s->part[p].end ? a + s->chunk : s->part[p].end;
        return 1;
    }
    return 0;
}
