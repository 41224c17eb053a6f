/* attn_tile.c: prefill attention over 16-lane tiles (contract in attn_tile.h). */
#include "model/attn_tile.h"

#include <stdlib.h>
#include <string.h>

#include "quant/attn16.h"
#include "quant/vec.h"

typedef struct { int32_t t, h; } lane;

typedef struct {
    fr_ctx *c;
    const fr_step *s;
    int il;
    const fr_attn_tiles_spec *sp;
    const fr_attn16_kernels *k;
    const lane *lanes;    /* [n_lanes] in tile order */
    const int32_t *tile0; /* [n_tiles + 1] first lane of each tile */
    int32_t n_tiles;
    fr_chunker ch;
} tiles_job;

static _Atomic int g_tiles = -1; /* -1: not decided yet (environment) */

void fr_attn_tiles_enable(int on) { g_tiles = on != 0; }

static int tiles_enabled(void) {
    if (g_tiles < 0) {
        const char *e = getenv("FRUGAL_ATTN_TILES");
        g_tiles = !(e && !strcmp(e, "0"));
    }
    return g_tiles;
}

static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }

/* a thread's scratch for one tile (float counts rounded to 64 bytes) */
typedef struct {
    float *qt;   /* [dk][16] the queries, lane-major */
    float *rows; /* [block_size][max(dk, dv)] one cache block's rows as f32 */
    float *o16;  /* [16][dv] the outputs */
    float *qr;   /* [dk] one query rounded through f16 */
    float *sc;   /* [n_ctx][16] scores, then probabilities */
} tile_scratch;

/* lays the scratch out from base (NULL: only counts); returns its size in floats */
static size_t tile_scratch_at(tile_scratch *ts, float *base, const fr_attn_tiles_spec *sp,
                              const fr_ctx *c) {
    const int64_t wmax = sp->dk > sp->dv ? sp->dk : sp->dv;
    const size_t sizes[5] = {up16((size_t)sp->dk * FR_ATTN_LANES), up16((size_t)c->kv.block_size * wmax),
                             up16((size_t)FR_ATTN_LANES * sp->dv), up16((size_t)sp->dk),
                             (size_t)c->p.n_ctx * FR_ATTN_LANES};
    float **parts[5] = {&ts->qt, &ts->rows, &ts->o16, &ts->qr, &ts->sc};
    size_t off = 0;
    for (int i = 0; i < 5; i++) {
        *parts[i] = base ? base + off : NULL;
        off += sizes[i];
    }
    return off;
}

/* cached rows [j0, j0 + run) of one sequence's block run, elements [off, off + d) of each
 * (key or value side), as f32 rows of d */
static void load_rows(float *dst, const fr_kv_cache *kv, int il, int seq, int32_t j0, int run,
                      int values, int64_t off, int64_t d) {
    int64_t cell = fr_kv_cell(kv, seq, j0);
    const char *base = values ? (const char *)fr_kv_v(kv, il, cell) : (const char *)fr_kv_k(kv, il, cell);
    size_t stride = values ? kv->row_v : kv->row_k;
    for (int r = 0; r < run; r++) {
        const char *row = base + (size_t)r * stride;
        if (kv->type == FR_TYPE_F16)
            fr_f32_row_from_f16(dst + (size_t)r * d, (const fr_f16 *)row + off, d);
        else
            memcpy(dst + (size_t)r * d, (const float *)row + off, sizeof(float) * (size_t)d);
    }
}

static void run_tile(tiles_job *j, const lane *ln, int nl, const tile_scratch *ts) {
    fr_ctx *c = j->c;
    const fr_attn_tiles_spec *sp = j->sp;
    const fr_kv_cache *kv = &c->kv;
    const int H = (int)c->m->hp.n_head, L = FR_ATTN_LANES, bs = kv->block_size;
    const int64_t dk = sp->dk, dv = sp->dv;
    const int f16 = kv->type == FR_TYPE_F16, seq = j->s->seq[ln[0].t], g = ln[0].h / sp->group;
    float *qt = ts->qt, *rows = ts->rows, *o16 = ts->o16, *qr = ts->qr, *sc = ts->sc;
    int32_t lim[FR_ATTN_LANES] = {0}, nk = 0;
    /* queries, transposed into lanes (f16-rounded for an f16 cache, as the per-head path) */
    memset(qt, 0, sizeof(float) * (size_t)dk * L);
    for (int l = 0; l < nl; l++) {
        const float *q = sp->q + ((size_t)ln[l].t * H + ln[l].h) * sp->ldq;
        if (f16) {
            fr_f16 *h16 = (fr_f16 *)rows; /* rows is free until the key loop */
            fr_f16_row_from_f32(h16, q, dk);
            fr_f32_row_from_f16(qr, h16, dk);
            q = qr;
        }
        for (int64_t i = 0; i < dk; i++) qt[i * L + l] = q[i];
        lim[l] = j->s->pos[ln[l].t] + 1;
        if (lim[l] > nk) nk = lim[l];
    }
    /* scores, one cache block at a time */
    for (int32_t j0 = 0; j0 < nk;) {
        int run = bs - j0 % bs < nk - j0 ? bs - j0 % bs : nk - j0;
        load_rows(rows, kv, j->il, seq, j0, run, 0, (int64_t)g * dk, dk);
        j->k->scores(sc + (size_t)j0 * L, qt, rows, dk, run, dk, sp->scale);
        j0 += run;
    }
    j->k->softmax(sc, nk, lim, f16);
    /* outputs: sum of probability-weighted value rows */
    memset(o16, 0, sizeof(float) * (size_t)L * dv);
    for (int32_t j0 = 0; j0 < nk;) {
        int run = bs - j0 % bs < nk - j0 ? bs - j0 % bs : nk - j0;
        if (sp->v_in_k) load_rows(rows, kv, j->il, seq, j0, run, 0, 0, dv);
        else load_rows(rows, kv, j->il, seq, j0, run, 1, (int64_t)g * dv, dv);
        j->k->pv(o16, dv, sc + (size_t)j0 * L, rows, dv, run, dv, nl);
        j0 += run;
    }
    for (int l = 0; l < nl; l++)
        memcpy(sp->o + ((size_t)ln[l].t * H + ln[l].h) * sp->ldo, o16 + (size_t)l * dv, sizeof(float) * (size_t)dv);
}

static void tiles_worker(void *arg, int ith, int nth) {
    tiles_job *j = arg;
    tile_scratch ts;
    size_t floats = tile_scratch_at(&ts, NULL, j->sp, j->c);
    tile_scratch_at(&ts, fr_pool_scratch(j->c->pool, ith, sizeof(float) * floats), j->sp, j->c);
    int64_t lo, hi;
    (void)nth;
    while (fr_chunker_next(&j->ch, &lo, &hi))
        for (int64_t i = lo; i < hi; i++) {
            int32_t tix = j->n_tiles - 1 - (int32_t)i; /* the longest (latest) tiles first */
            run_tile(j, j->lanes + j->tile0[tix], j->tile0[tix + 1] - j->tile0[tix], &ts);
        }
}

int fr_attn_tiles(fr_ctx *c, const fr_step *s, int il, const fr_attn_tiles_spec *sp) {
    const fr_hparams *hp = &c->m->hp;
    const int n = s->n, H = (int)hp->n_head, G = sp->group, n_groups = H / G;
    if (!tiles_enabled() || sp->dv % 16 || H % G) return 0;
    int n_multi = 0;
    for (int t = 0; t < n; t++) n_multi += !c->tok_single[t];
    if (!n_multi) return 0;
    /* lanes grouped by (sequence, KV group), tokens in step order, cut into tiles of 16 */
    int nth = fr_pool_size(c->pool);
    size_t n_lanes = (size_t)n_multi * H;
    char *shared = fr_pool_scratch(c->pool, nth, n_lanes * sizeof(lane) + (n_lanes + 1) * 4 + (size_t)n * 4);
    lane *lanes = (lane *)shared;
    int32_t *tile0 = (int32_t *)(lanes + n_lanes), *order = tile0 + n_lanes + 1;
    int n_order = 0;
    for (int sq = 0; sq < c->kv.n_seq; sq++) {
        if (c->seq_count[sq] < 2) continue;
        for (int t = 0; t < n; t++)
            if (s->seq[t] == sq) order[n_order++] = t;
    }
    int32_t n_tiles = 0, k = 0;
    for (int i0 = 0; i0 < n_order;) {
        int i1 = i0;
        while (i1 < n_order && s->seq[order[i1]] == s->seq[order[i0]]) i1++;
        for (int g = 0; g < n_groups; g++) {
            int in_tile = FR_ATTN_LANES;
            for (int i = i0; i < i1; i++)
                for (int h = g * G; h < (g + 1) * G; h++) {
                    if (in_tile == FR_ATTN_LANES) tile0[n_tiles++] = k, in_tile = 0;
                    lanes[k++] = (lane){order[i], h};
                    in_tile++;
                }
        }
        i0 = i1;
    }
    tile0[n_tiles] = k;
    tiles_job j = {c, s, il, sp, fr_attn16_get(fr_cpu()->level), lanes, tile0, n_tiles, {0}};
    fr_chunker_init(&j.ch, n_tiles, 1);
    fr_pool_run(c->pool, tiles_worker, &j);
    return n_multi;
}
