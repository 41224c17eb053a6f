/* forward.c: fr_decode: validates a batch, reserves KV space, embeds the tokens, runs
 * every layer's attention and FFN blocks, and computes the requested logits. */
#include "model/forward.h"

#include <string.h>

/* x quantized to w's vec_dot_type in xc (kept when xc already holds it) */
static void fwd_quantize(fr_ctx *c, fr_xq_cache *xc, const fr_tensor *w, const float *x, int n) {
    fr_type t = fr_type_get(w->type)->vec_dot_type;
    if (xc->src != x || xc->type != t) {
        if (t == FR_TYPE_F32) {
            xc->xq = x;
        } else {
            FR_ASSERT(fr_row_size(t, w->ne[0]) * (size_t)n <= c->xq_bytes);
            op_quantize_rows(c->pool, c->xq, t, x, n, w->ne[0]);
            xc->xq = c->xq;
        }
        xc->src = x;
        xc->type = t;
    }
}

void fwd_linear(fr_ctx *c, fr_xq_cache *xc, float *y, const fr_tensor *w, int64_t row0,
                int64_t n_out, const float *x, int n) {
    fwd_quantize(c, xc, w, x, n);
    op_matmul_split(c->pool, y, n_out, w, row0, n_out, xc->xq, n, c->mm_single, c->mm_scratch);
}

void fwd_linear_multi(fr_ctx *c, fr_xq_cache *xc, int n_mm, float *const *y,
                      const fr_tensor *const *w, const int64_t *n_out, const float *x, int n) {
    int same = 1;
    for (int i = 1; i < n_mm; i++) same &= w[i]->type == w[0]->type && w[i]->ne[0] == w[0]->ne[0];
    if (!same || n_mm > OP_MM_MAX) {
        for (int i = 0; i < n_mm; i++) fwd_linear(c, xc, y[i], w[i], 0, n_out[i], x, n);
        return;
    }
    /* quantize x once through fwd_linear's cache, then one job for every matrix */
    fwd_quantize(c, xc, w[0], x, n);
    op_mm mm[OP_MM_MAX];
    for (int i = 0; i < n_mm; i++) mm[i] = (op_mm){y[i], n_out[i], w[i], 0, n_out[i]};
    op_matmul_multi(c->pool, mm, n_mm, xc->xq, n, c->mm_single, c->mm_scratch);
}

static int check_batch(fr_ctx *c, const fr_batch *b, const int32_t *seq, fr_err *err) {
    const fr_hparams *hp = &c->m->hp;
    if (b->n <= 0) return fr_fail(err, FR_EINVAL, "empty batch");
    if (b->n > c->p.n_batch)
        return fr_fail(err, FR_EINVAL, "batch of %d tokens exceeds n_batch %d", b->n, c->p.n_batch);
    /* each sequence's tokens must continue it in order; seq_count ends as the number of
     * tokens per sequence in this batch, which fr_decode uses */
    memset(c->seq_count, 0, sizeof(int32_t) * (size_t)c->kv.n_seq);
    for (int i = 0; i < b->n; i++) {
        if (b->tokens[i] < 0 || (uint32_t)b->tokens[i] >= hp->n_vocab)
            return fr_fail(err, FR_EINVAL, "token id %d at batch index %d is out of range [0, %u)",
                           b->tokens[i], i, hp->n_vocab);
        int s = seq[i];
        if (s < 0 || s >= c->kv.n_seq)
            return fr_fail(err, FR_EINVAL, "sequence id %d out of range [0, %d)", s, c->kv.n_seq);
        int32_t expect = c->kv.seqs[s].n_pos + c->seq_count[s]++;
        if (b->pos[i] != expect)
            return fr_fail(err, FR_EINVAL,
                           "token %d of sequence %d has position %d, expected %d (sequences grow "
                           "one position at a time)", i, s, b->pos[i], expect);
    }
    return 0;
}

int fr_decode(fr_ctx *c, const fr_batch *b, fr_err *err) {
    const fr_model *m = c->m;
    const fr_hparams *hp = &m->hp;
    const int32_t *seq = b->seq ? b->seq : c->seq_zero; /* default: all in sequence 0 */
    int rc = check_batch(c, b, seq, err);
    if (rc) return rc;
    /* reserve KV space per sequence (all or nothing for a single sequence batch) */
    for (int s = 0; s < c->kv.n_seq; s++)
        if (c->seq_count[s] && (rc = fr_kv_reserve(&c->kv, s, c->seq_count[s], err))) return rc;
    int n = b->n;
    fr_step st = {n, b->pos, seq};
    /* a token alone in its sequence (a decode) takes the one-token kernels, so batching
     * other sequences with it does not change its result (see op_matmul_split) */
    for (int i = 0; i < n; i++) c->tok_single[i] = c->seq_count[seq[i]] == 1;
    c->mm_single = c->tok_single;

    /* embeddings */
    const fr_type_traits *te = fr_type_get(m->tok_embd->type);
    for (int i = 0; i < n; i++)
        te->to_float(c->x + (size_t)i * hp->n_embd, fr_tensor_row(m->tok_embd, b->tokens[i]), hp->n_embd);
    /* rope tables per token */
    const float *ff = m->rope_freqs ? (const float *)m->rope_freqs->data : NULL;
    for (int i = 0; i < n; i++) op_rope_cache(c->rope_cs + (size_t)i * hp->n_rot, hp, ff, b->pos[i]);

    for (int il = 0; il < (int)hp->n_layer; il++) {
        const fr_layer *L = &m->layers[il];
        if (L->wkv_a_mqa) blk_attn_mla(c, L, il, &st);
        else blk_attn_gqa(c, L, il, &st);
        if (L->is_moe) blk_ffn_moe(c, L, &st);
        else blk_ffn_dense(c, L, &st);
    }
    /* sequences advance only once the whole batch is in the cache */
    for (int i = 0; i < n; i++)
        if (b->pos[i] + 1 > c->kv.seqs[seq[i]].n_pos) c->kv.seqs[seq[i]].n_pos = b->pos[i] + 1;

    /* logits of the requested tokens: gather their rows, norm, project */
    int n_out = 0;
    for (int i = 0; i < n; i++)
        if (b->logits ? b->logits[i] != 0 : i == n - 1) c->out_idx[n_out++] = i;
    for (int j = 0; j < n_out; j++)
        if (c->out_idx[j] != j)
            memcpy(c->x + (size_t)j * hp->n_embd, c->x + (size_t)c->out_idx[j] * hp->n_embd,
                   sizeof(float) * hp->n_embd);
    c->n_out = n_out;
    for (int j = 0; j < n_out; j++) c->out_single[j] = c->tok_single[c->out_idx[j]];
    c->mm_single = c->out_single;
    if (n_out) {
        op_rms_norm(c->xn, c->x, (const float *)m->output_norm->data, n_out, hp->n_embd, hp->rms_eps);
        fr_xq_cache xc = {0};
        fwd_linear(c, &xc, c->logits, m->output, 0, hp->n_vocab, c->xn, n_out);
    }
    return 0;
}
