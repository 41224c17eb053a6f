/* attn_tile.h: batched attention for prefill: the query rows (token, head) of a sequence
 * that has several tokens in the step are grouped into tiles of 16 lanes sharing their key
 * and value rows (same sequence, same KV group), and each tile runs the 16-lane kernels of
 * quant/attn16.h: every cached row is converted to f32 once per tile and read once for the
 * 16 lanes, where the per-head path reads it once per (token, head).
 * Semantics equal the per-head path (f16 cache: query and probabilities rounded to f16, the
 * softmax sum in double); only the order of f32 additions and exp's last bits differ. A
 * token alone in its sequence (a decode) never takes this path, so batching leaves its
 * result unchanged. FRUGAL_ATTN_TILES=0 turns the path off (A/B measurements). */
#ifndef FR_ATTN_TILE_H
#define FR_ATTN_TILE_H

#include "model/forward.h"

typedef struct fr_attn_tiles_spec {
    const float *q; /* lane (t, h): q + (t * n_head + h) * ldq, dk values */
    int64_t ldq;
    float *o;       /* lane (t, h): o + (t * n_head + h) * ldo, dv values */
    int64_t ldo;
    int64_t dk, dv;
    int group;      /* query heads per KV group: head h reads KV group h / group */
    int v_in_k;     /* MLA: the values are the first dv elements of the key row */
    float scale;
} fr_attn_tiles_spec;

/* Runs the tiles for every token of s whose sequence has several tokens in this step
 * (!c->tok_single[t]) and returns how many tokens that was: those are done, the caller runs
 * the others per head. 0 when there were none, the path is off or the shapes do not fit. */
int fr_attn_tiles(fr_ctx *c, const fr_step *s, int il, const fr_attn_tiles_spec *sp);

/* Test hook: turns the path on or off for the whole process (overrides the environment). */
void fr_attn_tiles_enable(int on);

#endif
