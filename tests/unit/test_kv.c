/* test_kv.c: the paged KV cache's prefix sharing: the hash chain, attach/publish, refcounts,
 * LRU eviction order, copy-on-write of a shared partial block, a randomized model of many
 * sequences checked cell by cell against what each one wrote, and, through real models (GQA
 * qwen3 and the MLA latent cache of deepseek2), logits after reusing a cached prefix equal
 * the logits of computing everything afresh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ctx.h"
#include "synth/synth.h"
#include "t.h"

static int32_t *seq_tokens(int n, int32_t base) {
    int32_t *t = malloc(sizeof(int32_t) * (size_t)n);
    for (int i = 0; i < n; i++) t[i] = base + i;
    return t;
}

/* without publishing, blocks behave as before: freed blocks go straight back to the free list */
static void kv_plain_blocks(void) {
    fr_kv_cache kv;
    fr_err e;
    T_CHECK(fr_kv_init(&kv, FR_TYPE_F16, 2, 8, 8, 100, 16, 2, &e) == 0, "%s", e.msg);
    T_CHECK(fr_kv_reserve(&kv, 0, 40, &e) == 0, "reserve");
    kv.seqs[0].n_pos = 40;
    T_CHECK(fr_kv_blocks_in_use(&kv) == 3 && fr_kv_blocks_available(&kv) == 4, "in use %d",
            fr_kv_blocks_in_use(&kv));
    fr_kv_truncate(&kv, 0, 0);
    T_CHECK(kv.n_free == 7 && kv.n_lru == 0 && kv.n_reg == 0, "free %d lru %d", kv.n_free,
            kv.n_lru);
    fr_kv_free(&kv);
}

static void kv_hash_chain(void) {
    int32_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8] = {2, 1, 3, 4, 5, 6, 7, 8};
    uint64_t ha = fr_kv_prefix_hash(0, a, 8), hb = fr_kv_prefix_hash(0, b, 8);
    T_CHECK(ha != hb, "order matters");
    T_CHECK(fr_kv_prefix_hash(0, a, 8) == ha, "deterministic");
    /* the same second block after different first blocks hashes differently */
    T_CHECK(fr_kv_prefix_hash(ha, a + 4, 4) != fr_kv_prefix_hash(hb, a + 4, 4), "chained");
    T_CHECK(fr_kv_prefix_hash(0, a, 7) != fr_kv_prefix_hash(0, a, 8), "length matters");
}

static void kv_attach_publish(void) {
    fr_kv_cache kv;
    fr_err e;
    T_CHECK(fr_kv_init(&kv, FR_TYPE_F32, 1, 4, 4, 256, 16, 3, &e) == 0, "%s", e.msg);
    int32_t *t = seq_tokens(70, 100);
    T_CHECK(fr_kv_prefix_attach(&kv, 0, t, 70) == 0, "empty table: no hit");
    T_CHECK(fr_kv_reserve(&kv, 0, 70, &e) == 0, "reserve");
    kv.seqs[0].n_pos = 70;
    fr_kv_prefix_publish(&kv, 0, t, 70);
    T_CHECK(kv.n_reg == 4, "4 full blocks registered, got %d", kv.n_reg);
    int32_t b0 = kv.seqs[0].blocks[0], b3 = kv.seqs[0].blocks[3];
    /* a second sequence with the same 70 tokens shares 4 blocks, referenced twice */
    T_CHECK(fr_kv_prefix_attach(&kv, 1, t, 70) == 64, "attach %d", kv.seqs[1].n_pos);
    T_CHECK(kv.seqs[1].blocks[0] == b0 && kv.seqs[1].blocks[3] == b3 && kv.refs[b0] == 2, "shared");
    T_CHECK(kv.n_prefix_hits == 4, "hits %llu", (unsigned long long)kv.n_prefix_hits);
    T_CHECK(fr_kv_blocks_in_use(&kv) == 5, "in use %d", fr_kv_blocks_in_use(&kv));
    /* a prefix that differs inside block 2 shares only blocks 0 and 1 */
    t[40] = 7;
    T_CHECK(fr_kv_prefix_attach(&kv, 2, t, 70) == 32, "partial attach %d", kv.seqs[2].n_pos);
    fr_kv_truncate(&kv, 2, 0);
    /* attach only whole blocks within n: 63 tokens -> 3 blocks */
    t[40] = 140;
    T_CHECK(fr_kv_prefix_attach(&kv, 2, t, 63) == 48, "whole blocks only: %d", kv.seqs[2].n_pos);
    fr_kv_truncate(&kv, 2, 0);
    /* releasing everyone keeps the registered blocks cached, not free */
    fr_kv_truncate(&kv, 0, 0);
    fr_kv_truncate(&kv, 1, 0);
    T_CHECK(fr_kv_blocks_in_use(&kv) == 0 && kv.n_lru == 4 && kv.n_free == 12, "lru %d free %d",
            kv.n_lru, kv.n_free);
    T_CHECK(fr_kv_blocks_available(&kv) == 16, "available %d", fr_kv_blocks_available(&kv));
    /* and a later sequence still finds them */
    T_CHECK(fr_kv_prefix_attach(&kv, 2, t, 70) == 64, "after release");
    T_CHECK(kv.n_lru == 0, "attached blocks leave the LRU");
    fr_kv_free(&kv);
    free(t);
}

static void kv_lru_eviction(void) {
    fr_kv_cache kv;
    fr_err e;
    /* 4 blocks of 8 */
    T_CHECK(fr_kv_init(&kv, FR_TYPE_F16, 1, 4, 4, 32, 8, 2, &e) == 0, "%s", e.msg);
    int32_t *a = seq_tokens(16, 10), *b = seq_tokens(16, 500), *c = seq_tokens(16, 900);
    T_CHECK(fr_kv_reserve(&kv, 0, 16, &e) == 0, "a");
    kv.seqs[0].n_pos = 16;
    fr_kv_prefix_publish(&kv, 0, a, 16);
    fr_kv_truncate(&kv, 0, 0);
    T_CHECK(fr_kv_reserve(&kv, 0, 16, &e) == 0, "b");
    kv.seqs[0].n_pos = 16;
    fr_kv_prefix_publish(&kv, 0, b, 16);
    fr_kv_truncate(&kv, 0, 0);
    T_CHECK(kv.n_free == 0 && kv.n_lru == 4, "all cached: free %d lru %d", kv.n_free, kv.n_lru);
    /* touch a so that b is the least recently used */
    T_CHECK(fr_kv_prefix_attach(&kv, 0, a, 17) == 16, "a cached");
    fr_kv_truncate(&kv, 0, 0);
    /* a new 16-token sequence needs 2 blocks: b's are evicted (b's first block first) */
    T_CHECK(fr_kv_reserve(&kv, 1, 16, &e) == 0, "c: %s", e.msg);
    kv.seqs[1].n_pos = 16;
    T_CHECK(kv.n_evictions == 2, "evictions %llu", (unsigned long long)kv.n_evictions);
    T_CHECK(fr_kv_prefix_attach(&kv, 0, b, 17) == 0, "b evicted");
    T_CHECK(fr_kv_prefix_attach(&kv, 0, a, 17) == 16, "a kept");
    /* nothing left to evict: a referenced cached block is never taken */
    T_CHECK(fr_kv_reserve(&kv, 1, 1, &e) == FR_ERANGE, "full");
    fr_kv_prefix_publish(&kv, 1, c, 16);
    fr_kv_free(&kv);
    free(a), free(b), free(c);
}

/* rows of layer l at cell: fill with a value, read the first element */
static void put(fr_kv_cache *kv, int seq, int32_t pos, float val) {
    int64_t cell = fr_kv_cell(kv, seq, pos);
    for (int l = 0; l < kv->n_layer; l++) {
        float *k = fr_kv_k(kv, l, cell);
        for (int64_t i = 0; i < kv->width_k; i++) k[i] = val + (float)l;
        if (kv->row_v) {
            float *v = fr_kv_v(kv, l, cell);
            for (int64_t i = 0; i < kv->width_v; i++) v[i] = -val - (float)l;
        }
    }
}
static int check(const fr_kv_cache *kv, int seq, int32_t pos, float val) {
    int64_t cell = fr_kv_cell(kv, seq, pos);
    for (int l = 0; l < kv->n_layer; l++) {
        const float *k = fr_kv_k(kv, l, cell);
        for (int64_t i = 0; i < kv->width_k; i++)
            if (k[i] != val + (float)l) return 0;
        if (kv->row_v) {
            const float *v = fr_kv_v(kv, l, cell);
            for (int64_t i = 0; i < kv->width_v; i++)
                if (v[i] != -val - (float)l) return 0;
        }
    }
    return 1;
}

static void cow_case(int64_t width_v) {
    fr_kv_cache kv;
    fr_err e;
    T_CHECK(fr_kv_init(&kv, FR_TYPE_F32, 2, 6, width_v, 128, 16, 2, &e) == 0, "%s", e.msg);
    int32_t *t = seq_tokens(48, 1);
    T_CHECK(fr_kv_reserve(&kv, 0, 48, &e) == 0, "reserve");
    for (int32_t p = 0; p < 48; p++) put(&kv, 0, p, (float)(p + 1));
    kv.seqs[0].n_pos = 48;
    fr_kv_prefix_publish(&kv, 0, t, 48);
    T_CHECK(fr_kv_prefix_attach(&kv, 1, t, 48) == 48, "attach 3 blocks");
    /* seq 1 rewinds into the shared block 1 and writes there: it must get its own copy */
    fr_kv_truncate(&kv, 1, 20);
    int32_t shared = kv.seqs[1].blocks[1];
    T_CHECK(kv.refs[shared] == 2, "still shared before the write");
    T_CHECK(fr_kv_reserve(&kv, 1, 5, &e) == 0, "reserve after rewind");
    T_CHECK(kv.seqs[1].blocks[1] != shared && kv.refs[shared] == 1 && kv.n_cow == 1, "copied");
    for (int32_t p = 20; p < 25; p++) put(&kv, 1, p, 1000.0f + (float)p);
    for (int32_t p = 0; p < 20; p++) T_CHECK(check(&kv, 1, p, (float)(p + 1)), "copied cell %d", p);
    for (int32_t p = 0; p < 48; p++)
        T_CHECK(check(&kv, 0, p, (float)(p + 1)), "owner cell %d intact", p);
    /* the owner rewinding into its own registered block unregisters it before writing */
    fr_kv_truncate(&kv, 0, 40);
    int32_t own = kv.seqs[0].blocks[2];
    T_CHECK(kv.reg[own] && kv.refs[own] == 1, "registered, sole owner");
    T_CHECK(fr_kv_reserve(&kv, 0, 1, &e) == 0, "reserve");
    T_CHECK(!kv.reg[own] && kv.seqs[0].blocks[2] == own && kv.n_cow == 1, "unregistered in place");
    fr_kv_free(&kv);
    free(t);
}
static void kv_copy_on_write(void) {
    cow_case(6);
}
static void kv_copy_on_write_mla(void) {
    cow_case(0);
} /* latent layout: K rows only */

/* Many sequences doing random attach / grow / publish / rewind / release. Every cell a
 * sequence wrote carries a value derived from its whole token prefix, so a block shared
 * wrongly or overwritten while shared shows up as a wrong value. */
static float prefix_val(const int32_t *toks, int32_t pos) {
    return (float)(fr_kv_prefix_hash(0, toks, pos + 1) % 1000003u);
}
static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}
static void kv_random_sharing(void) {
    enum { NSEQ = 6, MAXLEN = 200 };
    fr_kv_cache kv;
    fr_err e;
    T_CHECK(fr_kv_init(&kv, FR_TYPE_F32, 2, 3, 2, 640, 8, NSEQ, &e) == 0, "%s", e.msg);
    int32_t toks[NSEQ][MAXLEN];
    uint64_t r = 88172645463325252ull;
    int n_ok = 0, started[NSEQ] = {0};
    for (int it = 0; it < 20000; it++) {
        int s = (int)(rng_next(&r) % NSEQ), op = (int)(rng_next(&r) % 10);
        fr_kv_seq *q = &kv.seqs[s];
        if (op == 0) { /* release */
            fr_kv_prefix_publish(&kv, s, toks[s], q->n_pos);
            fr_kv_truncate(&kv, s, 0);
            started[s] = 0;
        } else if (op == 1 && q->n_pos) { /* rewind */
            fr_kv_truncate(&kv, s, (int32_t)(rng_next(&r) % (uint64_t)q->n_pos));
        } else if (op == 2 && q->n_pos == 0) { /* start: a family's tokens, then attach */
            int32_t fam = (int32_t)(rng_next(&r) % 3), d = (int32_t)(rng_next(&r) % MAXLEN);
            for (int32_t i = 0; i < MAXLEN; i++)
                toks[s][i] = fam * 7 + i % 5 + (i >= d ? (int32_t)(rng_next(&r) % 2) : 0);
            int32_t n = 1 + (int32_t)(rng_next(&r) % (MAXLEN - 1));
            int32_t got = fr_kv_prefix_attach(&kv, s, toks[s], n);
            T_CHECK(got <= n && got % 8 == 0, "attach %d of %d", got, n);
            started[s] = 1;
        } else if (op >= 3 && started[s]) { /* grow by a few tokens (sometimes changed) */
            int32_t k = 1 + (int32_t)(rng_next(&r) % 12);
            if (q->n_pos + k > MAXLEN) continue;
            if (fr_kv_reserve(&kv, s, k, &e)) continue; /* full: fine */
            for (int32_t i = 0; i < k; i++) {
                int32_t p = q->n_pos + i;
                if (rng_next(&r) % 20 == 0) toks[s][p] = 50 + (int32_t)(rng_next(&r) % 3);
                put(&kv, s, p, prefix_val(toks[s], p));
            }
            q->n_pos += k;
            if (rng_next(&r) % 4 == 0) fr_kv_prefix_publish(&kv, s, toks[s], q->n_pos);
            n_ok++;
        }
        /* invariants: refs equal table references, blocks partition into free/lru/in use */
        if (it % 97 == 0 || it == 19999) {
            int32_t refs[1024] = {0};
            for (int i = 0; i < NSEQ; i++)
                for (int32_t j = 0; j < kv.seqs[i].n_blocks; j++) refs[kv.seqs[i].blocks[j]]++;
            for (int32_t b = 0; b < kv.n_blocks; b++)
                T_CHECK(refs[b] == kv.refs[b], "refs of block %d", b);
            T_CHECK(kv.n_free + kv.n_lru + fr_kv_blocks_in_use(&kv) == kv.n_blocks, "partition");
            for (int i = 0; i < NSEQ; i++)
                for (int32_t p = 0; p < kv.seqs[i].n_pos; p++)
                    T_CHECK(check(&kv, i, p, prefix_val(toks[i], p)),
                            "it %d seq %d pos %d holds a wrong value", it, i, p);
        }
    }
    printf(
        "     random sharing: %llu prefix hits, %llu copies on write, %llu evictions, %d grows\n",
        (unsigned long long)kv.n_prefix_hits, (unsigned long long)kv.n_cow,
        (unsigned long long)kv.n_evictions, n_ok);
    T_CHECK(kv.n_prefix_hits > 100 && kv.n_cow > 10 && kv.n_evictions > 10 && n_ok > 1000,
            "exercised: hits %llu cow %llu evictions %llu grows %d",
            (unsigned long long)kv.n_prefix_hits, (unsigned long long)kv.n_cow,
            (unsigned long long)kv.n_evictions, n_ok);
    fr_kv_free(&kv);
}

/* ---- through a model: reused prefix blocks give the same logits as a fresh computation ---- */

static int decode_seq(fr_ctx *c, int seq, const int32_t *ids, int n, fr_err *e) {
    int32_t pos[256], sq[256];
    int32_t p0 = fr_ctx_seq_len(c, seq);
    for (int i = 0; i < n; i++) pos[i] = p0 + i, sq[i] = seq;
    fr_batch b = {n, ids, pos, sq, NULL};
    return fr_decode(c, &b, e);
}

static void model_case(const char *arch) {
    fr_synth_spec s = fr_synth_default(arch);
    s.n_vocab = 400;
    char path[512];
    snprintf(path, sizeof path, "%s/kv-%s.gguf", t_tmp_dir(), arch);
    fr_err e;
    T_CHECK(fr_synth_write(&s, path, &e) == 0, "%s", e.msg);
    fr_model *m;
    T_CHECK(fr_model_load(&m, path, &e) == 0, "%s", e.msg);
    fr_ctx_params p = fr_ctx_default_params();
    p.n_ctx = 512, p.n_seq = 3, p.n_threads = 2;
    fr_ctx *c, *fresh;
    T_CHECK(fr_ctx_create(&c, m, &p, &e) == 0, "%s", e.msg);
    p.n_seq = 1;
    T_CHECK(fr_ctx_create(&fresh, m, &p, &e) == 0, "%s", e.msg);
    int32_t ids[120];
    for (int i = 0; i < 120; i++) ids[i] = (i * 37 + 11) % 400;
    int nv = (int)fr_model_n_vocab(m);
    float *want = malloc(sizeof(float) * (size_t)nv), *want2 = malloc(sizeof(float) * (size_t)nv);
    /* fresh: all 100 tokens; and 70 + 3 different ones */
    T_CHECK(decode_seq(fresh, 0, ids, 100, &e) == 0, "%s", e.msg);
    memcpy(want, fr_ctx_logits(fresh, 0), sizeof(float) * (size_t)nv);
    fr_ctx_truncate(fresh, 0, 0);
    int32_t alt[73];
    memcpy(alt, ids, sizeof(int32_t) * 70);
    alt[70] = 5, alt[71] = 6, alt[72] = 7;
    T_CHECK(decode_seq(fresh, 0, alt, 73, &e) == 0, "%s", e.msg);
    memcpy(want2, fr_ctx_logits(fresh, 0), sizeof(float) * (size_t)nv);

    /* seq 0 computes 100 tokens and publishes them */
    T_CHECK(decode_seq(c, 0, ids, 100, &e) == 0, "%s", e.msg);
    fr_kv_prefix_publish(&c->kv, 0, ids, 100);
    /* seq 1 reuses 96 positions and computes 4 */
    int32_t got = fr_kv_prefix_attach(&c->kv, 1, ids, 99);
    T_CHECK(got == 96, "attached %d", got);
    T_CHECK(decode_seq(c, 1, ids + got, 100 - got, &e) == 0, "%s", e.msg);
    double md = 0;
    const float *l = fr_ctx_logits(c, 0);
    for (int i = 0; i < nv; i++) md = fabs(l[i] - want[i]) > md ? fabs(l[i] - want[i]) : md;
    printf("     %s: max |logit diff| after reusing 96 cached positions: %g\n", arch, md);
    T_CHECK(md <= 1e-5, "%s: reused prefix changes logits by %g", arch, md);
    /* seq 2 shares, rewinds into a shared block (copy-on-write) and diverges */
    T_CHECK(fr_kv_prefix_attach(&c->kv, 2, ids, 99) == 96, "attach");
    fr_ctx_truncate(c, 2, 70);
    T_CHECK(decode_seq(c, 2, alt + 70, 3, &e) == 0, "%s", e.msg);
    T_CHECK(c->kv.n_cow == 1, "one copy-on-write, got %llu", (unsigned long long)c->kv.n_cow);
    md = 0;
    l = fr_ctx_logits(c, 0);
    for (int i = 0; i < nv; i++) md = fabs(l[i] - want2[i]) > md ? fabs(l[i] - want2[i]) : md;
    T_CHECK(md <= 1e-5, "%s: diverging after copy-on-write: logits differ by %g", arch, md);
    /* the shared blocks were not disturbed: seq 1 continues as the fresh context does */
    int32_t nxt = 42;
    T_CHECK(decode_seq(c, 1, &nxt, 1, &e) == 0, "%s", e.msg);
    fr_ctx_truncate(fresh, 0, 0);
    int32_t all[101];
    memcpy(all, ids, sizeof(int32_t) * 100);
    all[100] = nxt;
    T_CHECK(decode_seq(fresh, 0, all, 101, &e) == 0, "%s", e.msg);
    md = 0;
    const float *a = fr_ctx_logits(c, 0), *b = fr_ctx_logits(fresh, 0);
    for (int i = 0; i < nv; i++) md = fabs(a[i] - b[i]) > md ? fabs(a[i] - b[i]) : md;
    T_CHECK(md <= 1e-5, "%s: shared blocks disturbed by another sequence: %g", arch, md);
    free(want), free(want2);
    fr_ctx_free(c);
    fr_ctx_free(fresh);
    fr_model_free(m);
}
static void kv_model_gqa(void) {
    model_case("qwen3");
}
static void kv_model_mla(void) {
    model_case("deepseek2");
}

void suite_kv(void) {
    T_CASE(kv_plain_blocks);
    T_CASE(kv_hash_chain);
    T_CASE(kv_attach_publish);
    T_CASE(kv_lru_eviction);
    T_CASE(kv_copy_on_write);
    T_CASE(kv_copy_on_write_mla);
    T_CASE(kv_random_sharing);
    T_CASE(kv_model_gqa);
    T_CASE(kv_model_mla);
}
