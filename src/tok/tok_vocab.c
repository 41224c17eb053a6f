/* tok_vocab.c: loading a tokenizer from GGUF metadata (tokenizer.ggml.*) with llama.cpp's
 * rules: defaults per tokenizer model and pre-type, special-token ids, token attributes
 * (including the text-based control/EOG detection), merges by rank; plus the string
 * interning table and the small accessors of tok.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok_internal.h"

/* ---- string table ---- */
static uint32_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, finished with a mixer */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
    return tok_hash64(h ^ n);
}

void tok_strtab_init(tok_strtab *t, uint32_t expect) {
    memset(t, 0, sizeof *t);
    t->n_slots = 16;
    while (t->n_slots < expect * 2u + 16u) t->n_slots *= 2;
    t->slots = fr_xmalloc(sizeof *t->slots * t->n_slots);
    memset(t->slots, 0xFF, sizeof *t->slots * t->n_slots);
}

void tok_strtab_free(tok_strtab *t) {
    free(t->arena);
    free(t->off);
    free(t->len);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

int32_t tok_strtab_find(const tok_strtab *t, const char *s, size_t n) {
    if (!t->n_slots) return -1;
    uint32_t mask = t->n_slots - 1, i = hash_bytes(s, n) & mask;
    for (;;) {
        int32_t k = t->slots[i];
        if (k < 0) return -1;
        if (t->len[k] == n && !memcmp(t->arena + t->off[k], s, n)) return k;
        i = (i + 1) & mask;
    }
}

static void strtab_grow(tok_strtab *t) {
    uint32_t ns = t->n_slots * 2, mask = ns - 1;
    int32_t *sl = fr_xmalloc(sizeof *sl * ns);
    memset(sl, 0xFF, sizeof *sl * ns);
    for (uint32_t k = 0; k < t->n; k++) {
        uint32_t i = hash_bytes(t->arena + t->off[k], t->len[k]) & mask;
        while (sl[i] >= 0) i = (i + 1) & mask;
        sl[i] = (int32_t)k;
    }
    free(t->slots);
    t->slots = sl;
    t->n_slots = ns;
}

int32_t tok_strtab_intern(tok_strtab *t, const char *s, size_t n, bool *added) {
    int32_t k = tok_strtab_find(t, s, n);
    if (added) *added = k < 0;
    if (k >= 0) return k;
    if ((t->n + 1) * 2 > t->n_slots) strtab_grow(t);
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->off = fr_xrealloc(t->off, sizeof *t->off * t->cap);
        t->len = fr_xrealloc(t->len, sizeof *t->len * t->cap);
    }
    if (t->arena_len + n + 1 > t->arena_cap) {
        while (t->arena_len + n + 1 > t->arena_cap)
            t->arena_cap = t->arena_cap ? t->arena_cap * 2 : 65536;
        t->arena = fr_xrealloc(t->arena, t->arena_cap);
    }
    memcpy(t->arena + t->arena_len, s, n);
    t->arena[t->arena_len + n] = 0;
    k = (int32_t)t->n++;
    t->off[k] = t->arena_len;
    t->len[k] = (uint32_t)n;
    t->arena_len += n + 1;
    uint32_t mask = t->n_slots - 1, i = hash_bytes(s, n) & mask;
    while (t->slots[i] >= 0) i = (i + 1) & mask;
    t->slots[i] = k;
    return k;
}

/* ---- small helpers ---- */
void tok_ids_push(tok_ids *o, int32_t id) {
    if (o->oom) return;
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 64;
        int32_t *p = realloc(o->v, nc * sizeof *p);
        if (!p) {
            o->oom = true;
            return;
        }
        o->v = p;
        o->cap = nc;
    }
    o->v[o->n++] = id;
}

void *tok_scratch_get(tok_scratch *s, int i, size_t n) {
    if (s->cap[i] < n) {
        size_t nc = s->cap[i] ? s->cap[i] : 256;
        while (nc < n) nc *= 2;
        void *p = realloc(s->buf[i], nc);
        if (!p) return NULL;
        s->buf[i] = p;
        s->cap[i] = nc;
    }
    return s->buf[i];
}

void tok_scratch_free(tok_scratch *s) {
    for (int i = 0; i < 8; i++) free(s->buf[i]);
    memset(s, 0, sizeof *s);
}

/* ---- merges ---- */
static void merges_put(tok_merge_tab *m, int32_t a, int32_t b, int32_t rank, int32_t result) {
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    uint32_t mask = m->n_slots - 1, i = tok_hash64(key) & mask;
    while (m->keys[i] != UINT64_MAX) {
        if (m->keys[i] == key) return; /* first rank wins, like std::map::emplace */
        i = (i + 1) & mask;
    }
    m->keys[i] = key;
    m->rank[i] = rank;
    m->result[i] = result;
    m->n++;
}

static int load_merges(tok_vocab *v, const gguf_value *arr) {
    tok_merge_tab *m = &v->merges;
    uint64_t n = arr->v.arr.n;
    m->n_slots = 16;
    while (m->n_slots < n * 2 + 16) m->n_slots *= 2;
    m->keys = malloc(sizeof *m->keys * m->n_slots);
    m->rank = malloc(sizeof *m->rank * m->n_slots);
    m->result = malloc(sizeof *m->result * m->n_slots);
    if (!m->keys || !m->rank || !m->result) return FR_ENOMEM;
    memset(m->keys, 0xFF, sizeof *m->keys * m->n_slots);
    char *buf = NULL;
    size_t cap = 0;
    for (uint64_t i = 0; i < n; i++) {
        gguf_str s = arr->v.arr.strs[i];
        /* llama.cpp: split at the first space after position 0; no space -> ("", "") */
        const char *first = "", *second = "";
        size_t n1 = 0, n2 = 0;
        const char *sp = s.len > 1 ? memchr(s.ptr + 1, ' ', s.len - 1) : NULL;
        if (sp) {
            first = s.ptr;
            n1 = (size_t)(sp - s.ptr);
            second = sp + 1;
            n2 = s.len - n1 - 1;
        }
        if (n1 + n2 > cap) {
            cap = (n1 + n2) * 2;
            buf = fr_xrealloc(buf, cap);
        }
        int32_t a = tok_strtab_intern(&v->strs, first, n1, NULL);
        int32_t b = tok_strtab_intern(&v->strs, second, n2, NULL);
        memcpy(buf, first, n1);
        memcpy(buf + n1, second, n2);
        int32_t r = tok_strtab_intern(&v->strs, buf, n1 + n2, NULL);
        merges_put(m, a, b, (int32_t)i, r);
    }
    free(buf);
    return 0;
}

/* ---- loading ---- */
static int get_id(const gguf_file *f, const char *key, int32_t n_vocab, int32_t *id, fr_err *err) {
    uint32_t x;
    int rc = gguf_get_u32(f, key, &x, err);
    if (rc < 0) return rc;
    if (rc == 0 && x < (uint32_t)n_vocab) *id = (int32_t)x; /* out of range: keep default */
    return 0;
}

static int32_t find_text(const tok_vocab *v, const char *s) {
    return tok_lookup(v, s, strlen(s));
}

static bool in_list(const char *t, size_t n, const char *const *list) {
    for (; *list; list++)
        if (strlen(*list) == n && !memcmp(*list, t, n)) return true;
    return false;
}

/* llama.cpp finds EOT/FIM tokens by their text when the GGUF does not name them; such a
 * token is made a control token. */
static void detect_by_text(tok_vocab *v, int32_t *slot, const char *const *names) {
    if (*slot >= 0) return;
    for (int32_t id = 0; id < v->n_vocab; id++) {
        if (in_list(tok_strtab_str(&v->strs, id), v->strs.len[id], names)) {
            *slot = id;
            v->attr[id] |= TOK_ATTR_CONTROL;
            return;
        }
    }
}

static void add_eog(tok_vocab *v, int32_t id) {
    if (id < 0) return;
    for (int i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id) return;
    v->eog = fr_xrealloc(v->eog, sizeof *v->eog * (size_t)(v->n_eog + 1));
    v->eog[v->n_eog++] = id;
}

static void del_eog(tok_vocab *v, int32_t id) {
    for (int i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id) {
            v->eog[i] = v->eog[--v->n_eog];
            return;
        }
}

static const char *const k_eot[] = {"<|eot_id|>",
                                    "<|im_end|>",
                                    "<|end|>",
                                    "<end_of_turn>",
                                    "<|endoftext|>",
                                    "<|end_of_text|>",
                                    "<EOT>",
                                    "_<EOT>",
                                    "[EOT]",
                                    "<\xef\xbd\x9c"
                                    "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
                                    "<end_of_utterance>",
                                    NULL};
static const char *const k_eom[] = {"<|eom_id|>", NULL};
static const char *const k_fim_pre[] = {"<|fim_prefix|>",
                                        "<fim-prefix>",
                                        "<fim_prefix>",
                                        "<\xef\xbd\x9c"
                                        "fim\xe2\x96\x81"
                                        "begin\xef\xbd\x9c>",
                                        "<PRE>",
                                        "\xe2\x96\x81<PRE>",
                                        "<|code_prefix|>",
                                        "<|prefix|>",
                                        NULL};
static const char *const k_fim_suf[] = {"<|fim_suffix|>",
                                        "<fim-suffix>",
                                        "<fim_suffix>",
                                        "<\xef\xbd\x9c"
                                        "fim\xe2\x96\x81hole\xef\xbd\x9c>",
                                        "<SUF>",
                                        "\xe2\x96\x81<SUF>",
                                        "<|code_suffix|>",
                                        "<|suffix|>",
                                        NULL};
static const char *const k_fim_mid[] = {"<|fim_middle|>",
                                        "<fim-middle>",
                                        "<fim_middle>",
                                        "<\xef\xbd\x9c"
                                        "fim\xe2\x96\x81"
                                        "end\xef\xbd\x9c>",
                                        "<MID>",
                                        "\xe2\x96\x81<MID>",
                                        "<|code_middle|>",
                                        "<|middle|>",
                                        NULL};
static const char *const k_fim_pad[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>",
                                        "<PAD>",       "[PAD]",     NULL};
static const char *const k_fim_rep[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                        "<REPO>",       "<reponame>",    NULL};
static const char *const k_fim_sep[] = {"<|file_sep|>", NULL};
static const char *const k_eog[] = {"<|eot_id|>",
                                    "<|im_end|>",
                                    "<|end|>",
                                    "<|return|>",
                                    "<|call|>",
                                    "<|flush|>",
                                    "<|calls|>",
                                    "<end_of_turn>",
                                    "<|endoftext|>",
                                    "</s>",
                                    "<|eom_id|>",
                                    "<EOT>",
                                    "_<EOT>",
                                    "[EOT]",
                                    "[EOS]",
                                    "<|end_of_text|>",
                                    "<end_of_utterance>",
                                    "<eos>",
                                    "<turn|>",
                                    "<|tool_response>",
                                    "<\xef\xbd\x9c"
                                    "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
                                    "[e~[",
                                    NULL};
static const char *const k_harmony_user[] = {"<|channel|>", "<|message|>", "<|start|>",
                                             "<|constrain|>", NULL};

static void setup_special(tok_vocab *v, const gguf_file *f) {
    detect_by_text(v, &v->eot, k_eot);
    detect_by_text(v, &v->eom, k_eom);
    detect_by_text(v, &v->fim_pre, k_fim_pre);
    detect_by_text(v, &v->fim_suf, k_fim_suf);
    detect_by_text(v, &v->fim_mid, k_fim_mid);
    detect_by_text(v, &v->fim_pad, k_fim_pad);
    detect_by_text(v, &v->fim_rep, k_fim_rep);
    detect_by_text(v, &v->fim_sep, k_fim_sep);
    /* control tokens whose text says "unused" */
    for (int32_t id = 0; id < v->n_vocab; id++)
        if ((v->attr[id] & TOK_ATTR_CONTROL) && strstr(tok_strtab_str(&v->strs, id), "unused"))
            v->attr[id] |= TOK_ATTR_UNUSED;
    add_eog(v, v->fim_pad);
    add_eog(v, v->fim_rep);
    add_eog(v, v->fim_sep);
    for (int32_t id = 0; id < v->n_vocab; id++) {
        if (in_list(tok_strtab_str(&v->strs, id), v->strs.len[id], k_eog)) {
            add_eog(v, id);
            v->attr[id] |= TOK_ATTR_CONTROL;
        }
    }
    for (int32_t id = 0; id < v->n_vocab; id++)
        if (in_list(tok_strtab_str(&v->strs, id), v->strs.len[id], k_harmony_user))
            v->attr[id] = TOK_ATTR_USER_DEFINED;
    add_eog(v, v->eos);
    add_eog(v, v->eot);
    add_eog(v, v->eom);
    /* o200k_harmony / solar-open: <|end|> is not an end of generation there */
    int32_t ret = find_text(v, "<|return|>"), call = find_text(v, "<|call|>"),
            calls = find_text(v, "<|calls|>"), flush = find_text(v, "<|flush|>"),
            end = find_text(v, "<|end|>");
    bool has_call = call >= 0 || calls >= 0;
    if (end >= 0 && ((ret >= 0 && has_call) || (has_call && flush >= 0))) {
        del_eog(v, end);
        v->attr[end] = TOK_ATTR_USER_DEFINED;
    }
    /* gemma4 / paddleocr: </s> is not an end of generation when <|tool_response> exists */
    int32_t tr = find_text(v, "<|tool_response>"), s_end = find_text(v, "</s>");
    if (tr >= 0 && s_end >= 0) {
        del_eog(v, s_end);
        v->attr[s_end] = TOK_ATTR_NORMAL;
    }
    /* special tokens for partitioning: control, user-defined, unknown; longest first */
    int n = 0;
    v->special = fr_xmalloc(sizeof *v->special * (size_t)(v->n_vocab ? v->n_vocab : 1));
    for (int32_t id = 0; id < v->n_vocab; id++)
        if (v->attr[id] & (TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED | TOK_ATTR_UNKNOWN))
            v->special[n++] = id;
    v->n_special = n;
    /* insertion-stable sort by length, descending (ties keep id order) */
    for (int i = 1; i < n; i++) {
        int32_t x = v->special[i];
        uint32_t lx = v->strs.len[x];
        int j = i - 1;
        while (j >= 0 && v->strs.len[v->special[j]] < lx) {
            v->special[j + 1] = v->special[j];
            j--;
        }
        v->special[j + 1] = x;
    }
    /* per-model attributes (llama.cpp sets them by model name) */
    gguf_str name = {0, NULL};
    char lname[128] = "";
    if (gguf_get_str(f, "general.name", &name, NULL) == 0) {
        gguf_str_copy(lname, sizeof lname, name);
        for (char *p = lname; *p; p++) *p = (char)tolower((unsigned char)*p);
    }
    if (strstr(lname, "phi-3") || strstr(lname, "phi3")) {
        for (int i = 0; i < n; i++) v->attr[v->special[i]] |= TOK_ATTR_RSTRIP;
        int32_t t;
        if ((t = find_text(v, "</s>")) >= 0) v->attr[t] |= TOK_ATTR_RSTRIP;
        if ((t = find_text(v, "<unk>")) >= 0) v->attr[t] &= ~(uint32_t)TOK_ATTR_RSTRIP;
        if ((t = find_text(v, "<s>")) >= 0) v->attr[t] &= ~(uint32_t)TOK_ATTR_RSTRIP;
        if ((t = find_text(v, "<|endoftext|>")) >= 0) v->attr[t] &= ~(uint32_t)TOK_ATTR_RSTRIP;
    }
}

static uint32_t attr_of_type(int64_t t) {
    switch (t) {
    case 1:
        return TOK_ATTR_NORMAL;
    case 2:
        return TOK_ATTR_UNKNOWN;
    case 3:
        return TOK_ATTR_CONTROL;
    case 4:
        return TOK_ATTR_USER_DEFINED;
    case 5:
        return TOK_ATTR_UNUSED;
    case 6:
        return TOK_ATTR_BYTE;
    default:
        return TOK_ATTR_UNDEFINED;
    }
}

static int load_tokens(tok_vocab *v, const gguf_file *f, fr_err *err) {
    const gguf_value *toks, *scores = NULL, *types = NULL;
    int rc = gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_T_STRING, &toks, err);
    if (rc < 0) return rc;
    if (rc == 1)
        return fr_fail(err, FR_EFORMAT, "%s: key 'tokenizer.ggml.tokens' is missing", f->path);
    if (toks->v.arr.n == 0 || toks->v.arr.n > INT32_MAX / 2)
        return fr_fail(err, FR_EFORMAT, "%s: 'tokenizer.ggml.tokens' has %llu entries", f->path,
                       (unsigned long long)toks->v.arr.n);
    uint32_t n = (uint32_t)toks->v.arr.n;
    rc = gguf_get_arr(f, "tokenizer.ggml.scores", GGUF_T_COUNT, &scores, err);
    if (rc < 0) return rc;
    if (rc == 0) {
        gguf_vtype et = scores->v.arr.type;
        if (et != GGUF_T_FLOAT32 && et != GGUF_T_INT32)
            return fr_fail(
                err, FR_EFORMAT,
                "%s: 'tokenizer.ggml.scores': expected arr[f32] or arr[i32], found arr[%s]",
                f->path, gguf_vtype_name(et));
        if (scores->v.arr.n < n)
            return fr_fail(err, FR_EFORMAT,
                           "%s: 'tokenizer.ggml.scores' has %llu entries, expected %u", f->path,
                           (unsigned long long)scores->v.arr.n, n);
    } else
        scores = NULL;
    rc = gguf_get_arr(f, "tokenizer.ggml.token_type", GGUF_T_INT32, &types, err);
    if (rc < 0) return rc;
    if (rc == 0 && types->v.arr.n < n)
        return fr_fail(err, FR_EFORMAT,
                       "%s: 'tokenizer.ggml.token_type' has %llu entries, expected %u", f->path,
                       (unsigned long long)types->v.arr.n, n);
    if (rc == 1) types = NULL;

    v->n_vocab = (int32_t)n;
    tok_strtab_init(&v->strs, n);
    v->scores = malloc(sizeof *v->scores * n);
    v->attr = malloc(sizeof *v->attr * n);
    if (!v->scores || !v->attr)
        return fr_fail(err, FR_ENOMEM, "out of memory loading %u tokens", n);
    for (uint32_t i = 0; i < n; i++) {
        gguf_str s = toks->v.arr.strs[i];
        char empty[32];
        const char *p = s.ptr;
        size_t len = s.len;
        if (len == 0) { /* llama.cpp renames empty tokens */
            len = (size_t)snprintf(empty, sizeof empty, "[EMPTY_%u]", i);
            p = empty;
        }
        bool added;
        int32_t k = tok_strtab_intern(&v->strs, p, len, &added);
        if (!added)
            return fr_fail(err, FR_EFORMAT,
                           "%s: duplicate token in vocabulary: '%.*s' has ids %d and %u", f->path,
                           (int)(len > 64 ? 64 : len), p, k, i);
        if ((int32_t)len > v->max_token_len) v->max_token_len = (int32_t)len;
        v->scores[i] = scores ? (float)gguf_arr_f64(scores, i) : 0.0f;
        v->attr[i] = types ? attr_of_type(gguf_arr_i64(types, i)) : TOK_ATTR_NORMAL;
    }
    return 0;
}

static int32_t spm_byte_token(const tok_vocab *v, int b) {
    char buf[8];
    snprintf(buf, sizeof buf, "<0x%02X>", b);
    int32_t id = find_text(v, buf);
    if (id >= 0) return id;
    char c = (char)b;
    return tok_lookup(v, &c, 1);
}

static int load_all(tok_vocab *v, const gguf_file *f, fr_err *err) {
    gguf_str s;
    int rc = gguf_get_str(f, "tokenizer.ggml.model", &s, err);
    if (rc < 0) return rc;
    if (rc == 1)
        return fr_fail(err, FR_EFORMAT, "%s: key 'tokenizer.ggml.model' is missing", f->path);
    gguf_str_copy(v->model_name, sizeof v->model_name, s);
    if (gguf_get_str(f, "tokenizer.ggml.pre", &s, err) == 0)
        gguf_str_copy(v->pre_name, sizeof v->pre_name, s);
    else
        v->pre_name[0] = 0;

    v->bos = v->eos = v->eot = v->eom = v->unk = v->sep = v->pad = v->mask = v->nl = -1;
    v->fim_pre = v->fim_suf = v->fim_mid = v->fim_pad = v->fim_rep = v->fim_sep = -1;
    if (!strcmp(v->model_name, "llama")) {
        v->model = TOK_MODEL_SPM;
        v->bos = 1;
        v->eos = 2;
        v->unk = 0;
        v->add_space_prefix = true;
        v->clean_spaces = false;
        v->add_bos = true;
        v->add_eos = false;
    } else if (!strcmp(v->model_name, "gpt2")) {
        v->model = TOK_MODEL_BPE;
        v->bos = 11;
        v->eos = 11;
        v->add_space_prefix = false;
        v->clean_spaces = true;
    } else {
        return fr_fail(err, FR_EUNSUP,
                       "%s: tokenizer model '%s' is not supported (supported: gpt2, llama)",
                       f->path, v->model_name);
    }
    if ((rc = load_tokens(v, f, err)) < 0) return rc;

    if (v->model == TOK_MODEL_BPE) {
        if ((rc = tok_pre_create(&v->pre, v->pre_name, err)) < 0)
            return fr_wrap(err, rc, "%s", f->path);
        const tok_pre_info *pi = tok_pre_get_info(v->pre);
        v->clean_spaces = pi->clean_spaces;
        v->ignore_merges = pi->ignore_merges;
        if (pi->add_bos >= 0) v->add_bos = pi->add_bos;
        if (pi->no_bos) v->bos = -1;
        const gguf_value *m;
        rc = gguf_get_arr(f, "tokenizer.ggml.merges", GGUF_T_STRING, &m, err);
        if (rc < 0) return rc;
        if (rc == 1 && strcmp(pi->name, "kimi-k2"))
            return fr_fail(err, FR_EFORMAT, "%s: key 'tokenizer.ggml.merges' is missing", f->path);
        if (rc == 0 && (rc = load_merges(v, m)) < 0)
            return fr_fail(err, rc, "out of memory loading merges");
        for (int b = 0; b < 256; b++) {
            char buf[4];
            size_t l = tok_utf8_put(buf, tok_byte_to_cpt((uint8_t)b));
            v->byte_sid[b] = tok_strtab_intern(&v->strs, buf, l, NULL);
            char c = (char)b;
            v->byte_tok[b] = tok_lookup(v, &c, 1);
        }
    } else {
        for (int b = 0; b < 256; b++) {
            v->byte_sid[b] = -1;
            v->byte_tok[b] = spm_byte_token(v, b);
        }
    }
    bool bv;
    if ((rc = gguf_get_bool(f, "tokenizer.ggml.add_space_prefix", &bv, err)) < 0) return rc;
    if (rc == 0) v->add_space_prefix = bv;
    if ((rc = gguf_get_bool(f, "tokenizer.ggml.remove_extra_whitespaces", &bv, err)) < 0) return rc;
    if (rc == 0) v->remove_extra_ws = bv;

    /* default ids out of range are disabled; GGUF ids out of range keep the default */
    int32_t *ids[] = {&v->bos,     &v->eos,     &v->eot,     &v->eom,     &v->unk,     &v->sep,
                      &v->pad,     &v->mask,    &v->fim_pre, &v->fim_suf, &v->fim_mid, &v->fim_pad,
                      &v->fim_rep, &v->fim_sep, &v->fim_pre, &v->fim_suf, &v->fim_mid};
    static const char *const keys[] = {
        "tokenizer.ggml.bos_token_id",     "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.eot_token_id",     "tokenizer.ggml.eom_token_id",
        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.seperator_token_id",
        "tokenizer.ggml.padding_token_id", "tokenizer.ggml.mask_token_id",
        "tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id",
        "tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.fim_pad_token_id",
        "tokenizer.ggml.fim_rep_token_id", "tokenizer.ggml.fim_sep_token_id",
        "tokenizer.ggml.prefix_token_id",  "tokenizer.ggml.suffix_token_id",
        "tokenizer.ggml.middle_token_id"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        if (*ids[i] >= v->n_vocab) *ids[i] = -1;
        if ((rc = get_id(f, keys[i], v->n_vocab, ids[i], err)) < 0) return rc;
    }
    if ((rc = gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &bv, err)) < 0) return rc;
    if (rc == 0) v->add_bos = bv;
    if ((rc = gguf_get_bool(f, "tokenizer.ggml.add_eos_token", &bv, err)) < 0) return rc;
    if (rc == 0) v->add_eos = bv;
    if ((rc = gguf_get_bool(f, "tokenizer.ggml.add_sep_token", &bv, err)) < 0) return rc;
    if (rc == 0) v->add_sep = bv;
    if (v->add_bos && v->bos < 0)
        return fr_fail(
            err, FR_EFORMAT,
            "%s: tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set",
            f->path);
    if (v->add_eos && v->eos < 0)
        return fr_fail(
            err, FR_EFORMAT,
            "%s: tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set",
            f->path);

    setup_special(v, f);
    tok_special_build(v);
    if (v->model == TOK_MODEL_SPM && (rc = tok_spm_build(v, err)) < 0) return rc;
    if ((rc = tok_build_pieces(v, err)) < 0) return rc;

    /* newline token */
    if (v->model == TOK_MODEL_SPM) {
        v->nl = v->byte_tok['\n'] >= 0 ? v->byte_tok['\n'] : v->pad;
    } else {
        int32_t *ids_nl = NULL;
        size_t n_nl = 0;
        if (tok_encode(v, "\n", 1, false, false, &ids_nl, &n_nl, NULL) == 0 && n_nl > 0)
            v->nl = ids_nl[0];
        else
            v->nl = v->pad;
        free(ids_nl);
    }
    return 0;
}

int tok_load(tok_vocab **out, const gguf_file *f, fr_err *err) {
    *out = NULL;
    tok_vocab *v = fr_xcalloc(1, sizeof *v);
    int rc = load_all(v, f, err);
    if (rc < 0) {
        tok_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

void tok_free(tok_vocab *v) {
    if (!v) return;
    tok_strtab_free(&v->strs);
    free(v->scores);
    free(v->attr);
    free(v->eog);
    free(v->special);
    tok_trie_free(v->trie);
    tok_pre_free(v->pre);
    free(v->merges.keys);
    free(v->merges.rank);
    free(v->merges.result);
    free(v->spm_pairs);
    free(v->piece_cache);
    free(v->piece_off);
    free(v);
}

int32_t tok_n_vocab(const tok_vocab *v) {
    return v->n_vocab;
}
int32_t tok_bos(const tok_vocab *v) {
    return v->bos;
}
int32_t tok_eos(const tok_vocab *v) {
    return v->eos;
}
bool tok_add_bos(const tok_vocab *v) {
    return v->add_bos;
}

bool tok_is_eog(const tok_vocab *v, int32_t id) {
    for (int i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id) return true;
    return false;
}

bool tok_is_control(const tok_vocab *v, int32_t id) {
    return id >= 0 && id < v->n_vocab && (v->attr[id] & TOK_ATTR_CONTROL);
}

int32_t tok_find(const tok_vocab *v, const char *text) {
    return find_text(v, text);
}

const char *tok_text(const tok_vocab *v, int32_t id, size_t *len) {
    if (id < 0 || id >= v->n_vocab) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = v->strs.len[id];
    return tok_strtab_str(&v->strs, id);
}

const char *tok_model_name(const tok_vocab *v) {
    return v->model_name;
}
const char *tok_pre_name(const tok_vocab *v) {
    return v->pre ? tok_pre_get_info(v->pre)->name : "";
}
