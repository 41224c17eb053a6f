/* tok_gen.c: real, working vocabularies for synthetic test models, learned from the
 * built-in corpus (tok_gen_corpus.c) and deterministic for (model, pre, n_vocab):
 *  - "gpt2": the 256 byte tokens in GPT-2's byte-to-unicode form, then BPE merges learned
 *    by greedy pair counting over the corpus split by the chosen pre-tokenizer (default
 *    qwen2), then <|endoftext|>, <|im_start|>, <|im_end|> as control tokens; a ChatML
 *    chat template.
 *  - "llama" (SentencePiece style): <unk>, <s>, </s>, <0x00>..<0xFF>, the most frequent
 *    corpus characters, then merged pieces scored by learning order (earlier = higher);
 *    a Llama-2 [INST] chat template.
 * When the corpus runs out of pairs (every word is one token), the rest of the vocabulary is
 * filled with unused control tokens. tok_vocab_spec_write stores it as tokenizer.ggml.*. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok_gen.h"
#include "tok/tok_internal.h"

static const char k_chatml[] = "{% for message in messages %}{{'<|im_start|>' + message['role'] + "
                               "'\\n' + message['content'] + "
                               "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
                               "'<|im_start|>assistant\\n' }}"
                               "{% endif %}";

static const char k_llama2[] =
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == "
    "'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

/* ---- a growing token list ---- */
typedef struct gen {
    tok_strtab strs; /* token texts; index == token id */
    float *scores;
    int32_t *types;
    uint32_t n, cap;
    char **merges;
    uint32_t n_merges, cap_merges;
} gen;

static int32_t gen_add(gen *g, const char *s, size_t n, float score, int32_t type) {
    bool added;
    int32_t id = tok_strtab_intern(&g->strs, s, n, &added);
    if (!added) return id;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 512;
        g->scores = fr_xrealloc(g->scores, g->cap * sizeof *g->scores);
        g->types = fr_xrealloc(g->types, g->cap * sizeof *g->types);
    }
    g->scores[g->n] = score;
    g->types[g->n] = type;
    g->n++;
    return id;
}

static void gen_add_merge(gen *g, int32_t a, int32_t b) {
    if (g->n_merges == g->cap_merges) {
        g->cap_merges = g->cap_merges ? g->cap_merges * 2 : 512;
        g->merges = fr_xrealloc(g->merges, g->cap_merges * sizeof *g->merges);
    }
    size_t la = g->strs.len[a], lb = g->strs.len[b];
    char *m = fr_xmalloc(la + lb + 2);
    memcpy(m, tok_strtab_str(&g->strs, a), la);
    m[la] = ' ';
    memcpy(m + la + 1, tok_strtab_str(&g->strs, b), lb);
    m[la + lb + 1] = 0;
    g->merges[g->n_merges++] = m;
}

/* ---- words of the corpus: symbol sequences with counts ---- */
typedef struct words {
    int32_t *sym;    /* all symbols, word after word */
    uint32_t *off;   /* [n + 1] */
    uint32_t *len;   /* [n] current length (shrinks as pairs merge) */
    uint32_t *count; /* [n] */
    uint32_t n;
} words;

static void words_free(words *w) {
    free(w->sym);
    free(w->off);
    free(w->len);
    free(w->count);
}

/* unique words (as byte strings) with counts -> words over the given symbol mapping */
typedef struct wlist {
    tok_strtab t;
    uint32_t *count;
    uint32_t cap;
} wlist;

static void wlist_add(wlist *l, const char *s, size_t n) {
    bool added;
    int32_t k = tok_strtab_intern(&l->t, s, n, &added);
    if ((uint32_t)k >= l->cap) {
        uint32_t nc = l->cap ? l->cap * 2 : 1024;
        while (nc <= (uint32_t)k) nc *= 2;
        l->count = fr_xrealloc(l->count, nc * sizeof *l->count);
        memset(l->count + l->cap, 0, (nc - l->cap) * sizeof *l->count);
        l->cap = nc;
    }
    l->count[k]++;
}

/* pair counting: open addressing over (a << 32 | b) */
typedef struct pairmap {
    uint64_t *k;
    uint64_t *c;
    uint32_t n_slots;
} pairmap;

static void pm_reset(pairmap *p, uint32_t want) {
    uint32_t ns = 1024;
    while (ns < want * 2) ns *= 2;
    if (ns != p->n_slots) {
        free(p->k);
        free(p->c);
        p->k = fr_xmalloc(ns * sizeof *p->k);
        p->c = fr_xmalloc(ns * sizeof *p->c);
        p->n_slots = ns;
    }
    memset(p->k, 0xFF, ns * sizeof *p->k);
}

static void pm_add(pairmap *p, uint64_t key, uint64_t c) {
    uint32_t mask = p->n_slots - 1, i = tok_hash64(key) & mask;
    while (p->k[i] != UINT64_MAX && p->k[i] != key) i = (i + 1) & mask;
    if (p->k[i] == UINT64_MAX) {
        p->k[i] = key;
        p->c[i] = 0;
    }
    p->c[i] += c;
}

/* Greedy BPE over w: merges the most frequent adjacent pair (ties: smallest ids) until the
 * vocabulary reaches target or no pair occurs twice. score(k) gives the k-th new piece's
 * score. Returns the number of merge steps. */
static uint32_t learn_merges(gen *g, words *w, uint32_t target, bool record_merges, bool spm) {
    pairmap pm = {0};
    uint32_t steps = 0;
    size_t total = w->off[w->n];
    while (g->n < target) {
        pm_reset(&pm, (uint32_t)(total + 16));
        for (uint32_t i = 0; i < w->n; i++) {
            const int32_t *s = w->sym + w->off[i];
            for (uint32_t k = 0; k + 1 < w->len[i]; k++)
                if (s[k] >= 0 && s[k + 1] >= 0)
                    pm_add(&pm, (uint64_t)(uint32_t)s[k] << 32 | (uint32_t)s[k + 1], w->count[i]);
        }
        uint64_t best = UINT64_MAX, best_c = 0;
        for (uint32_t i = 0; i < pm.n_slots; i++) {
            if (pm.k[i] == UINT64_MAX) continue;
            if (pm.c[i] > best_c || (pm.c[i] == best_c && pm.k[i] < best)) {
                best = pm.k[i];
                best_c = pm.c[i];
            }
        }
        if (best_c < 1) break;
        int32_t a = (int32_t)(best >> 32), b = (int32_t)(uint32_t)best;
        size_t la = g->strs.len[a], lb = g->strs.len[b];
        char *cat = fr_xmalloc(la + lb + 1);
        memcpy(cat, tok_strtab_str(&g->strs, a), la);
        memcpy(cat + la, tok_strtab_str(&g->strs, b), lb);
        steps++;
        int32_t c = gen_add(g, cat, la + lb, spm ? -(float)steps : 0.0f, 1);
        free(cat);
        if (record_merges) gen_add_merge(g, a, b);
        for (uint32_t i = 0; i < w->n; i++) {
            int32_t *s = w->sym + w->off[i];
            uint32_t o = 0;
            for (uint32_t k = 0; k < w->len[i]; k++) {
                if (k + 1 < w->len[i] && s[k] == a && s[k + 1] == b) {
                    s[o++] = c;
                    k++;
                } else
                    s[o++] = s[k];
            }
            w->len[i] = o;
        }
    }
    free(pm.k);
    free(pm.c);
    return steps;
}

static void words_from_list(words *w, const wlist *l, size_t n_sym_total) {
    w->n = l->t.n;
    w->sym = fr_xmalloc((n_sym_total + 1) * sizeof *w->sym);
    w->off = fr_xmalloc((w->n + 1) * sizeof *w->off);
    w->len = fr_xmalloc((w->n + 1) * sizeof *w->len);
    w->count = fr_xmalloc((w->n + 1) * sizeof *w->count);
}

static void pad_and_finish(gen *g, uint32_t n_vocab, const char *fmt) {
    char buf[64];
    for (uint32_t k = 0; g->n < n_vocab; k++) {
        snprintf(buf, sizeof buf, fmt, k);
        gen_add(g, buf, strlen(buf), 0.0f, 3);
    }
}

static int gen_gpt2(gen *g, const char *pre, uint32_t n_vocab, fr_err *err) {
    tok_pre *p;
    int rc = tok_pre_create(&p, pre, err);
    if (rc < 0) return rc;
    /* byte tokens in codepoint order of their byte-level form */
    int32_t byte_id[256];
    for (uint32_t cp = 0; cp < 324; cp++) {
        int b = tok_cpt_to_byte(cp);
        if (b < 0) continue;
        char u[4];
        size_t l = tok_utf8_put(u, cp);
        byte_id[b] = gen_add(g, u, l, 0.0f, 1);
    }
    /* corpus words through the pre-tokenizer */
    uint32_t *cpts = fr_xmalloc(tok_gen_corpus_len * sizeof *cpts);
    size_t nc = tok_utf8_decode(cpts, tok_gen_corpus, tok_gen_corpus_len);
    uint32_t *lens = NULL;
    size_t nl = 0;
    rc = tok_pre_split(p, cpts, nc, &lens, &nl, err);
    tok_pre_free(p);
    if (rc < 0) {
        free(cpts);
        return rc;
    }
    wlist wl = {0};
    tok_strtab_init(&wl.t, 1024);
    char buf[4096];
    size_t pos = 0, n_sym = 0;
    for (size_t i = 0; i < nl; i++) {
        size_t o = 0;
        for (uint32_t k = 0; k < lens[i] && o + 4 < sizeof buf; k++)
            o += tok_utf8_put(buf + o, cpts[pos + k]);
        pos += lens[i];
        wlist_add(&wl, buf, o);
    }
    free(lens);
    free(cpts);
    for (uint32_t i = 0; i < wl.t.n; i++) n_sym += wl.t.len[i];
    words w;
    words_from_list(&w, &wl, n_sym);
    size_t o = 0;
    for (uint32_t i = 0; i < w.n; i++) {
        const uint8_t *s = (const uint8_t *)tok_strtab_str(&wl.t, (int32_t)i);
        w.off[i] = (uint32_t)o;
        w.len[i] = wl.t.len[i];
        w.count[i] = wl.count[i];
        for (uint32_t k = 0; k < wl.t.len[i]; k++) w.sym[o++] = byte_id[s[k]];
    }
    w.off[w.n] = (uint32_t)o;
    tok_strtab_free(&wl.t);
    free(wl.count);
    learn_merges(g, &w, n_vocab - 3, true, false);
    words_free(&w);
    gen_add(g, "<|endoftext|>", 13, 0.0f, 3);
    gen_add(g, "<|im_start|>", 12, 0.0f, 3);
    gen_add(g, "<|im_end|>", 10, 0.0f, 3);
    pad_and_finish(g, n_vocab, "<|unused_%u|>");
    return 0;
}

static int cmp_freq(const void *a, const void *b) {
    const uint64_t *x = a, *y = b; /* (count << 32 | ~cp) descending */
    return *x < *y ? 1 : *x > *y ? -1 : 0;
}

static int gen_spm(gen *g, uint32_t n_vocab, fr_err *err) {
    gen_add(g, "<unk>", 5, 0.0f, 2);
    gen_add(g, "<s>", 3, 0.0f, 3);
    gen_add(g, "</s>", 4, 0.0f, 3);
    for (int b = 0; b < 256; b++) {
        char t[8];
        snprintf(t, sizeof t, "<0x%02X>", b);
        gen_add(g, t, 6, 0.0f, 6);
    }
    /* normalized corpus: a leading U+2581 and every ' ' as U+2581 */
    uint32_t *c = fr_xmalloc((tok_gen_corpus_len + 1) * sizeof *c);
    size_t nc = 1;
    c[0] = 0x2581;
    nc += tok_utf8_decode(c + 1, tok_gen_corpus, tok_gen_corpus_len);
    for (size_t i = 0; i < nc; i++)
        if (c[i] == ' ') c[i] = 0x2581;
    /* base characters: the most frequent printable ones */
    uint32_t *freq = fr_xcalloc(TOK_MAX_CPT, sizeof *freq);
    for (size_t i = 0; i < nc; i++)
        if (c[i] >= 0x20 && c[i] < TOK_MAX_CPT) freq[c[i]]++;
    uint64_t *order = fr_xmalloc(4096 * sizeof *order);
    uint32_t nd = 0;
    for (uint32_t cp = 0; cp < TOK_MAX_CPT && nd < 4096; cp++)
        if (freq[cp]) order[nd++] = (uint64_t)freq[cp] << 32 | (uint32_t)~cp;
    qsort(order, nd, sizeof *order, cmp_freq);
    uint32_t avail = n_vocab - g->n, n_base = avail / 3 ? avail / 3 : 1;
    if (n_base > nd) n_base = nd;
    int32_t *cid = fr_xmalloc(TOK_MAX_CPT * sizeof *cid);
    memset(cid, 0xFF, TOK_MAX_CPT * sizeof *cid);
    for (uint32_t i = 0; i < n_base; i++) {
        uint32_t cp = ~(uint32_t)order[i];
        char u[4];
        size_t l = tok_utf8_put(u, cp);
        cid[cp] = gen_add(g, u, l, -1000000.0f - (float)i, 1);
    }
    free(order);
    free(freq);
    /* words: a U+2581 run plus what follows up to the next U+2581 or newline; newlines alone */
    words w = {0};
    w.sym = fr_xmalloc((nc + 1) * sizeof *w.sym);
    w.off = fr_xmalloc((nc + 2) * sizeof *w.off);
    w.len = fr_xmalloc((nc + 1) * sizeof *w.len);
    w.count = fr_xmalloc((nc + 1) * sizeof *w.count);
    size_t o = 0;
    for (size_t i = 0; i < nc;) {
        size_t st = i;
        if (c[i] == '\n')
            i++;
        else {
            while (i < nc && c[i] == 0x2581) i++;
            while (i < nc && c[i] != 0x2581 && c[i] != '\n') i++;
        }
        w.off[w.n] = (uint32_t)o;
        w.len[w.n] = (uint32_t)(i - st);
        w.count[w.n] = 1;
        for (size_t k = st; k < i; k++) w.sym[o++] = c[k] < TOK_MAX_CPT ? cid[c[k]] : -1;
        w.n++;
    }
    w.off[w.n] = (uint32_t)o;
    free(c);
    free(cid);
    learn_merges(g, &w, n_vocab, false, true);
    words_free(&w);
    /* base characters score below every merged piece */
    pad_and_finish(g, n_vocab, "<unused_%u>");
    (void)err;
    return 0;
}

static int32_t spec_find(const tok_vocab_spec *s, const char *t) {
    for (uint32_t i = 0; i < s->n_vocab; i++)
        if (!strcmp(s->tokens[i], t)) return (int32_t)i;
    return -1;
}

int tok_vocab_generate(tok_vocab_spec *out, const char *model, const char *pre, uint32_t n_vocab,
                       fr_err *err) {
    memset(out, 0, sizeof *out);
    bool gpt2 = model && !strcmp(model, "gpt2"), spm = model && !strcmp(model, "llama");
    if (!gpt2 && !spm)
        return fr_fail(err, FR_EINVAL, "vocab generator: model '%s' (expected gpt2 or llama)",
                       model ? model : "(null)");
    if (n_vocab < (gpt2 ? 300u : 280u) || n_vocab > 1000000u)
        return fr_fail(err, FR_EINVAL,
                       "vocab generator: n_vocab %u out of range (%u..1000000 for %s)", n_vocab,
                       gpt2 ? 300u : 280u, model);
    if (!tok_cpt_table()) return fr_fail(err, FR_ENOMEM, "out of memory");
    gen g = {0};
    tok_strtab_init(&g.strs, n_vocab);
    int rc =
        gpt2 ? gen_gpt2(&g, pre && *pre ? pre : "qwen2", n_vocab, err) : gen_spm(&g, n_vocab, err);
    if (rc < 0) {
        tok_strtab_free(&g.strs);
        free(g.scores);
        free(g.types);
        for (uint32_t i = 0; i < g.n_merges; i++) free(g.merges[i]);
        free(g.merges);
        return rc;
    }
    out->model = gpt2 ? "gpt2" : "llama";
    out->n_vocab = n_vocab;
    out->tokens = fr_xmalloc(n_vocab * sizeof *out->tokens);
    for (uint32_t i = 0; i < n_vocab; i++) {
        out->tokens[i] = fr_xmalloc(g.strs.len[i] + 1);
        memcpy(out->tokens[i], tok_strtab_str(&g.strs, (int32_t)i), g.strs.len[i] + 1);
    }
    out->token_types = g.types;
    tok_strtab_free(&g.strs);
    if (gpt2) {
        free(g.scores);
        out->scores = NULL;
        out->n_merges = g.n_merges;
        out->merges = g.merges;
        const char *pn = pre && *pre ? pre : "qwen2";
        out->pre = pn; /* the caller's string (or a literal): it must outlive the spec */
        out->bos = spec_find(out, "<|endoftext|>");
        out->eos = spec_find(out, "<|im_end|>");
        out->add_bos = !strcmp(pn, "llama-bpe") || !strcmp(pn, "llama3");
        out->chat_template = k_chatml;
    } else {
        out->scores = g.scores;
        out->pre = "default";
        out->bos = 1;
        out->eos = 2;
        out->add_bos = true;
        out->chat_template = k_llama2;
        for (uint32_t i = 0; i < g.n_merges; i++) free(g.merges[i]);
        free(g.merges);
    }
    return 0;
}

void tok_vocab_spec_free(tok_vocab_spec *s) {
    if (!s) return;
    if (s->tokens)
        for (uint32_t i = 0; i < s->n_vocab; i++) free(s->tokens[i]);
    free(s->tokens);
    free(s->scores);
    free(s->token_types);
    if (s->merges)
        for (uint32_t i = 0; i < s->n_merges; i++) free(s->merges[i]);
    free(s->merges);
    memset(s, 0, sizeof *s);
}

void tok_vocab_spec_write(const tok_vocab_spec *s, gguf_writer *w) {
    gguf_w_str(w, "tokenizer.ggml.model", s->model);
    if (s->pre) gguf_w_str(w, "tokenizer.ggml.pre", s->pre);
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)s->tokens, s->n_vocab);
    if (s->scores) gguf_w_arr(w, "tokenizer.ggml.scores", GGUF_T_FLOAT32, s->scores, s->n_vocab);
    if (s->token_types)
        gguf_w_arr(w, "tokenizer.ggml.token_type", GGUF_T_INT32, s->token_types, s->n_vocab);
    if (s->merges)
        gguf_w_arr_str(w, "tokenizer.ggml.merges", (const char *const *)s->merges, s->n_merges);
    if (s->bos >= 0) gguf_w_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)s->bos);
    if (s->eos >= 0) gguf_w_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)s->eos);
    if (s->model && !strcmp(s->model, "llama")) gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    gguf_w_bool(w, "tokenizer.ggml.add_bos_token", s->add_bos);
    gguf_w_bool(w, "tokenizer.ggml.add_eos_token", false);
    if (s->chat_template) gguf_w_str(w, "tokenizer.chat_template", s->chat_template);
}
