/* pool.h: a persistent thread pool. fr_pool_run(p, fn, arg) runs fn(arg, ith, nth) on all
 * nth threads (the caller is thread 0) and returns when all are done. Workers spin briefly
 * between jobs (ops come back to back in a forward pass) and then sleep. Work inside a job
 * is split by the job itself, usually by claiming chunks from an atomic counter
 * (fr_pool_chunk) so a slow or preempted thread does not hold the others up. */
#ifndef FR_POOL_H
#define FR_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fr_pool fr_pool;
typedef void (*fr_pool_fn)(void *arg, int ith, int nth);

fr_pool *fr_pool_create(int n_threads); /* n_threads >= 1; 1 means no worker threads */
void fr_pool_free(fr_pool *p);
int fr_pool_size(const fr_pool *p);
void fr_pool_run(fr_pool *p, fr_pool_fn fn, void *arg);
/* A 64-byte aligned buffer of at least `bytes` owned by the pool, for scratch that kernels
 * would otherwise allocate per call: slot ith (0 .. n-1) is thread ith's own inside a job;
 * slots n .. n + FR_POOL_SHARED - 1 hold data a job's threads share (fill before
 * fr_pool_run). Grows when too small (old contents are lost); freed by fr_pool_free. */
#define FR_POOL_SHARED 2
void *fr_pool_scratch(fr_pool *p, int slot, size_t bytes);

/* Dynamic chunking: a job resets a counter before fr_pool_run (fr_chunker_init) and each
 * thread calls fr_chunker_next until it returns 0. [*lo, *hi) is the next range. */
typedef struct fr_chunker { atomic_int_fast64_t next; int64_t n, chunk; } fr_chunker;
void fr_chunker_init(fr_chunker *c, int64_t n, int64_t chunk);
int fr_chunker_next(fr_chunker *c, int64_t *lo, int64_t *hi);

/* Streaming split: [0, n) cut into one contiguous share per part (parts = threads, at most
 * FR_SPLIT_PARTS); a thread takes chunks from its own share in order, then from the other
 * shares. Each thread thus reads one long run of memory (what decode's row products want:
 * hardware prefetch follows long runs far better than interleaved chunks), and a slow or
 * preempted thread's remaining chunks are still taken over by the others. */
#define FR_SPLIT_PARTS 32
typedef struct fr_split {
    int n_parts;
    int64_t chunk;
    /* one cache line per part: a thread's counter never shares a line with another's */
    struct { _Alignas(64) atomic_int_fast64_t next; int64_t end; } part[FR_SPLIT_PARTS];
} fr_split;
/* chunk <= 0: the rows policy every decode product uses, n / (8 * threads) within [4, 64] */
void fr_split_init(fr_split *s, int64_t n, int n_threads, int64_t chunk);
/* *cursor: the thread's part to try next; start it at ith. Returns 0 when all is taken. */
int fr_split_next(fr_split *s, int *cursor, int64_t *lo, int64_t *hi);

#endif
