/* model_load.c: opening a GGUF model: architecture dispatch, tensor table, tokenizer, and
 * the check that every tensor in the file was understood. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model/loader.h"
#include "tok/tok.h"

static const struct {
    const char *name;
    int (*load)(fr_loader *);
} arch_table[FR_ARCH_COUNT] = {
    [FR_ARCH_LLAMA] = {"llama", arch_llama_load},
    [FR_ARCH_QWEN2] = {"qwen2", arch_qwen2_load},
    [FR_ARCH_QWEN3] = {"qwen3", arch_qwen3_load},
    [FR_ARCH_QWEN3MOE] = {"qwen3moe", arch_qwen3moe_load},
    [FR_ARCH_DEEPSEEK2] = {"deepseek2", arch_deepseek2_load},
};

const char *fr_arch_name(fr_arch a) { return a < FR_ARCH_COUNT ? arch_table[a].name : "?"; }

/* Maps the page tables of the whole file now (MADV_POPULATE_READ, Linux 5.14+) when it fits
 * comfortably in memory (at most half of what is available), so decoding does not take
 * page faults on weights it touches for the first time (a MoE's experts, one by one).
 * FRUGAL_PREFAULT=0 never does it, =1 always; a kernel without the advice just skips it.
 * A model larger than that stays demand-paged. */
static void prefault(const gguf_file *g) {
#ifdef MADV_POPULATE_READ
    const char *e = getenv("FRUGAL_PREFAULT");
    if (!g->mapped || (e && !strcmp(e, "0"))) return;
    double avail = 0.0; /* MemAvailable counts reclaimable page cache (the file itself) */
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long kb;
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) avail = (double)kb * 1024.0;
    }
    if (f) fclose(f);
    if (avail <= 0.0) {
        long pages = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        avail = pages > 0 && psz > 0 ? (double)pages * (double)psz : 0.0;
    }
    if (!(e && !strcmp(e, "1")) && (double)g->size > avail / 2) return;
    (void)madvise((void *)g->base, g->size, MADV_POPULATE_READ);
#else
    (void)g;
#endif
}

int fr_model_load(fr_model **out, const char *path, fr_err *err) {
    *out = NULL;
    fr_model *m = fr_xcalloc(1, sizeof *m);
    m->path = fr_xstrdup(path);
    int rc = gguf_open(&m->gguf, path, err);
    if (rc) goto fail;

    gguf_str a;
    rc = gguf_get_str(m->gguf, "general.architecture", &a, err);
    if (rc == 1) {
        rc = fr_fail(err, FR_EFORMAT, "%s: key 'general.architecture' is missing", path);
        goto fail;
    }
    if (rc) goto fail;
    int found = -1;
    for (int i = 0; i < FR_ARCH_COUNT; i++)
        if (gguf_str_eq(a, arch_table[i].name)) found = i;
    if (found < 0 || !arch_table[found].load) {
        char name[64];
        rc = fr_fail(err, FR_EUNSUP,
                     "%s: architecture '%s' is not supported (supported: llama, qwen2, qwen3, "
                     "qwen3moe, deepseek2)",
                     path, gguf_str_copy(name, sizeof name, a));
        goto fail;
    }
    m->arch = (fr_arch)found;
    m->arch_name = arch_table[found].name;
    m->cap_tensors = (int)m->gguf->n_tensors;
    m->tensors = fr_xcalloc((size_t)m->cap_tensors + 1, sizeof *m->tensors);

    fr_loader ld = {.m = m, .err = err};
    /* layers are allocated once block_count is known: peek it here */
    char key[96];
    uint32_t n_layer = 0;
    snprintf(key, sizeof key, "%s.block_count", m->arch_name);
    rc = gguf_get_u32(m->gguf, key, &n_layer, err);
    if (rc == 1 || (rc == 0 && (n_layer == 0 || n_layer > 4096))) {
        rc = fr_fail(err, FR_EFORMAT, "%s: key '%s' is %s, expected 1..4096", path, key,
                     rc == 1 ? "missing" : "out of range");
        goto fail;
    }
    if (rc) goto fail;
    m->layers = fr_xcalloc(n_layer, sizeof *m->layers);
    rc = arch_table[found].load(&ld);
    if (rc) goto fail;
    m->hp.attn_scale = m->hp.attn_scale > 0 ? m->hp.attn_scale : 1.0f / sqrtf((float)m->hp.head_dim_k);

    if ((uint64_t)m->n_tensors != m->gguf->n_tensors) {
        /* name the first tensor we did not bind: the file holds something we'd ignore */
        for (uint64_t i = 0; i < m->gguf->n_tensors; i++) {
            const gguf_tensor *gt = &m->gguf->tensors[i];
            int bound = 0;
            for (int j = 0; j < m->n_tensors && !bound; j++) bound = m->tensors[j].name == gt->name.ptr;
            if (!bound) {
                char name[128];
                rc = fr_fail(err, FR_EFORMAT,
                             "%s: tensor '%s' is not used by arch %s (file has %" PRIu64
                             " tensors, %d expected)",
                             path, gguf_str_copy(name, sizeof name, gt->name), m->arch_name,
                             m->gguf->n_tensors, m->n_tensors);
                goto fail;
            }
        }
    }
    if (gguf_find(m->gguf, "tokenizer.ggml.model")) {
        rc = tok_load(&m->vocab, m->gguf, err);
        if (rc) goto fail;
        if (tok_n_vocab(m->vocab) > (int32_t)m->hp.n_vocab) {
            rc = fr_fail(err, FR_EFORMAT, "%s: tokenizer has %d tokens but the model only %u", path,
                         tok_n_vocab(m->vocab), m->hp.n_vocab);
            goto fail;
        }
    }
    prefault(m->gguf);
    *out = m;
    return 0;
fail:
    fr_model_free(m);
    return rc;
}

void fr_model_free(fr_model *m) {
    if (!m) return;
    if (m->vocab) tok_free(m->vocab);
    free(m->layers);
    free(m->tensors);
    gguf_close(m->gguf);
    free(m->path);
    free(m);
}

void fr_model_print_info(const fr_model *m, FILE *f) {
    const fr_hparams *hp = &m->hp;
    fprintf(f, "model: %s\n", m->path);
    fprintf(f, "  arch %s, %u layers, n_embd %u, heads %u (kv %u), head dim %u/%u, ffn %u\n",
            m->arch_name, hp->n_layer, hp->n_embd, hp->n_head, hp->n_head_kv, hp->head_dim_k,
            hp->head_dim_v, hp->n_ff);
    fprintf(f, "  vocab %u, train ctx %u, rope %s dims %u base %g scale %g, rms eps %g\n",
            hp->n_vocab, hp->n_ctx_train, hp->rope_type == FR_ROPE_NEOX ? "neox" : "norm",
            hp->n_rot, hp->rope_freq_base, hp->rope_freq_scale, hp->rms_eps);
    if (hp->n_expert) {
        fprintf(f, "  experts %u (used %u, shared %u), expert ffn %u, leading dense %u\n",
                hp->n_expert, hp->n_expert_used, hp->n_expert_shared, hp->n_ff_exp,
                hp->n_layer_dense_lead);
        fprintf(f, "  router %s%s, groups %u (used %u), weights %s, scale %g\n",
                hp->gating == FR_GATE_SIGMOID ? "sigmoid" : "softmax",
                m->layers[hp->n_layer - 1].exp_probs_b ? " + selection bias" : "",
                hp->n_expert_groups, hp->n_group_used,
                hp->expert_weights_norm ? "normalised" : "not normalised",
                hp->expert_weights_scale == 0.0f ? 1.0f : hp->expert_weights_scale);
    }
    if (hp->kv_lora_rank) {
        const fr_layer *L0 = &m->layers[0];
        fprintf(f, "  MLA: q_lora_rank %u, kv_lora_rank %u, rope %u, nope %u, v %u, %s; "
                   "cache row %u values per layer (MHA would need %u)\n",
                hp->q_lora_rank, hp->kv_lora_rank, hp->n_rot, hp->head_dim_k - hp->n_rot,
                hp->head_dim_v, L0->wk_b ? "attn_k_b/attn_v_b" : "attn_kv_b",
                hp->kv_lora_rank + hp->n_rot, hp->n_head * (hp->head_dim_k + hp->head_dim_v));
        if (hp->rope_scaling == FR_ROPE_SCALE_YARN)
            fprintf(f, "  YaRN: factor %g, original ctx %u, rope magnitude %g, kq scale %g\n",
                    1.0f / hp->rope_freq_scale, hp->rope_n_ctx_orig, hp->yarn_attn_factor,
                    hp->attn_scale);
    }
    /* tensor types histogram */
    int count[FR_TYPE_COUNT] = {0};
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].type < FR_TYPE_COUNT) count[m->tensors[i].type]++;
    fprintf(f, "  tensors:");
    for (int t = 0; t < FR_TYPE_COUNT; t++)
        if (count[t]) fprintf(f, " %d x %s", count[t], fr_type_name((fr_type)t));
    fprintf(f, "\n  params %.3f M, weights %.2f MiB (mmapped), tied output: %s\n",
            (double)m->n_params / 1e6, (double)m->n_bytes / (1024.0 * 1024.0),
            m->output == m->tok_embd ? "yes" : "no");
}

uint32_t fr_model_n_vocab(const fr_model *m) { return m->hp.n_vocab; }
const tok_vocab *fr_model_vocab(const fr_model *m) { return m->vocab; }
