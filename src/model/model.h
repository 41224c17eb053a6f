/* model.h: a loaded model: hyper-parameters from GGUF metadata and weights bound by name
 * (borrowed from the GGUF mapping, never copied). One arch_*.c file per architecture
 * fills these; the forward pass reads them. Shapes use ggml order: ne[0] is contiguous,
 * so a linear layer y = W x with x of n_in and y of n_out has ne = {n_in, n_out}. */
#ifndef FR_MODEL_H
#define FR_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "frugal.h"
#include "gguf/gguf.h"
#include "quant/qtypes.h"

typedef enum {
    FR_ARCH_LLAMA,
    FR_ARCH_QWEN2,
    FR_ARCH_QWEN3,
    FR_ARCH_QWEN3MOE,
    FR_ARCH_DEEPSEEK2,
    FR_ARCH_COUNT
} fr_arch;

typedef struct fr_tensor {
    const char *name;  /* the GGUF tensor name (in the mapping's handle) */
    fr_type type;
    int n_dims;
    int64_t ne[4];
    const void *data;  /* in the mapping */
    size_t nb1;        /* bytes per row (ne[0] elements) */
} fr_tensor;

typedef enum { FR_ROPE_NORM = 0, FR_ROPE_NEOX = 2 } fr_rope_type;
typedef enum { FR_ROPE_SCALE_NONE, FR_ROPE_SCALE_LINEAR, FR_ROPE_SCALE_YARN } fr_rope_scaling;
typedef enum { FR_GATE_SOFTMAX = 1, FR_GATE_SIGMOID = 2 } fr_gating;

typedef struct fr_hparams {
    uint32_t n_vocab;
    uint32_t n_ctx_train;
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_head;
    uint32_t n_head_kv;
    uint32_t head_dim_k;     /* per-head key/query width (attention.key_length) */
    uint32_t head_dim_v;     /* per-head value width (attention.value_length) */
    uint32_t n_ff;           /* dense FFN hidden width */
    float rms_eps;
    /* rope */
    fr_rope_type rope_type;
    uint32_t n_rot;          /* rope.dimension_count */
    float rope_freq_base;
    float rope_freq_scale;   /* 1 / rope.scaling.factor for linear/yarn */
    fr_rope_scaling rope_scaling;
    uint32_t rope_n_ctx_orig;
    float yarn_ext_factor, yarn_attn_factor, yarn_beta_fast, yarn_beta_slow;
    float yarn_log_mul;      /* rope.scaling.yarn_log_multiplier (deepseek2) */
    /* mixture of experts */
    uint32_t n_expert, n_expert_used, n_expert_shared, n_ff_exp, n_layer_dense_lead;
    uint32_t n_expert_groups, n_group_used;
    float expert_weights_scale;
    bool expert_weights_norm;
    fr_gating gating;
    /* multi-head latent attention (deepseek2) */
    uint32_t q_lora_rank, kv_lora_rank;
    uint32_t head_dim_k_mla, head_dim_v_mla; /* key/value_length_mla when present */
    float attn_scale;        /* final kq scale (1/sqrt(head_dim_k) unless the arch says) */
} fr_hparams;

typedef struct fr_layer {
    const fr_tensor *attn_norm;   /* [n_embd] */
    const fr_tensor *wq;          /* [n_embd, n_head*head_dim_k] */
    const fr_tensor *wk;          /* [n_embd, n_head_kv*head_dim_k] */
    const fr_tensor *wv;          /* [n_embd, n_head_kv*head_dim_v] */
    const fr_tensor *wo;          /* [n_head*head_dim_v, n_embd] */
    const fr_tensor *bq, *bk, *bv;/* [n_head*head_dim_k] ... (qwen2), may be NULL */
    const fr_tensor *bo;          /* [n_embd], may be NULL */
    const fr_tensor *q_norm;      /* [head_dim_k] (qwen3), may be NULL */
    const fr_tensor *k_norm;      /* [head_dim_k] (qwen3), may be NULL */
    /* MLA (deepseek2) */
    const fr_tensor *wq_a;        /* [n_embd, q_lora_rank] */
    const fr_tensor *q_a_norm;    /* [q_lora_rank] */
    const fr_tensor *wq_b;        /* [q_lora_rank, n_head*head_dim_k] */
    const fr_tensor *wkv_a_mqa;   /* [n_embd, kv_lora_rank + n_rot] */
    const fr_tensor *kv_a_norm;   /* [kv_lora_rank] */
    const fr_tensor *wkv_b;       /* [kv_lora_rank, n_head*(nope + head_dim_v)] or NULL */
    const fr_tensor *wk_b;        /* [nope, kv_lora_rank, n_head] or NULL */
    const fr_tensor *wv_b;        /* [kv_lora_rank, head_dim_v, n_head] or NULL */
    /* dense FFN */
    const fr_tensor *ffn_norm;    /* [n_embd] */
    const fr_tensor *ffn_gate;    /* [n_embd, n_ff] */
    const fr_tensor *ffn_up;      /* [n_embd, n_ff] */
    const fr_tensor *ffn_down;    /* [n_ff, n_embd] */
    /* MoE FFN */
    const fr_tensor *ffn_gate_inp;/* [n_embd, n_expert] router */
    const fr_tensor *exp_probs_b; /* [n_expert] selection bias, may be NULL */
    const fr_tensor *ffn_gate_exps;/* [n_embd, n_ff_exp, n_expert] */
    const fr_tensor *ffn_up_exps;  /* [n_embd, n_ff_exp, n_expert] */
    const fr_tensor *ffn_down_exps;/* [n_ff_exp, n_embd, n_expert] */
    const fr_tensor *ffn_gate_up_exps;/* [n_embd, 2*n_ff_exp, n_expert]: per expert the gate
                                     * rows then the up rows (instead of gate/up_exps), or NULL */
    const fr_tensor *ffn_gate_shexp;/* [n_embd, n_ff_exp*n_expert_shared] */
    const fr_tensor *ffn_up_shexp;
    const fr_tensor *ffn_down_shexp;/* [n_ff_exp*n_expert_shared, n_embd] */
    bool is_moe;
} fr_layer;

struct tok_vocab;

struct fr_model {
    char *path;
    gguf_file *gguf;
    fr_arch arch;
    const char *arch_name;
    fr_hparams hp;
    fr_tensor *tensors;           /* all bound tensors (owned) */
    int n_tensors, cap_tensors;
    const fr_tensor *tok_embd;    /* [n_embd, n_vocab] */
    const fr_tensor *output_norm; /* [n_embd] */
    const fr_tensor *output;      /* [n_embd, n_vocab]; == tok_embd when tied */
    const fr_tensor *rope_freqs;  /* [n_rot/2] per-frequency divisors (llama3), or NULL */
    fr_layer *layers;             /* [n_layer] */
    struct tok_vocab *vocab;      /* NULL if the file has no tokenizer */
    uint64_t n_params;
    uint64_t n_bytes;             /* weight bytes */
};

const char *fr_arch_name(fr_arch a);
/* Prints a summary (arch, hyper-parameters, tensor types, memory) to f. */
void fr_model_print_info(const fr_model *m, FILE *f);
/* The row of tensor t at index r (for 3-D tensors, r counts rows over all slices). */
static inline const void *fr_tensor_row(const fr_tensor *t, int64_t r) {
    return (const char *)t->data + (size_t)r * t->nb1;
}

#endif
