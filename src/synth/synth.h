/* synth.h: the synthetic-model writer: random-weight GGUF files for every supported
 * architecture and tensor type, with llama.cpp's exact tensor names and metadata keys and
 * a real (generated) tokenizer, so llama.cpp can load the same file as our oracle.
 * Weights ~ N(0, 1/fan_in); norms ~ 1 + N(0, 0.1^2); deterministic for a seed. */
#ifndef FR_SYNTH_H
#define FR_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "quant/qtypes.h"

typedef struct fr_synth_spec {
    const char *arch;     /* llama, qwen2, qwen3, qwen3moe, deepseek2 */
    fr_type type;         /* type of the 2-D weights (1-D ones are f32) */
    uint64_t seed;
    uint32_t n_vocab;     /* tokenizer size (the generated vocab decides; >= 300) */
    uint32_t n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx;
    bool tied;            /* no output.weight: logits use token_embd */
    float rope_base;
    const char *rope_scaling; /* NULL/"none", "linear", "llama3" (rope_freqs tensor), "yarn" */
    float rope_factor;
    const char *tok_model;/* "gpt2" (default) or "llama" */
    float out_scale;      /* multiplies the output projection's std (default 1) */
    /* mixture of experts (qwen3moe, deepseek2) */
    uint32_t n_expert, n_expert_used, n_expert_shared, n_ff_exp, n_layer_dense_lead;
    uint32_t n_expert_groups, n_group_used;
    bool norm_topk;           /* qwen3moe norm_topk_prob / deepseek expert_weights_norm */
    float expert_weights_scale;
    int gating;               /* 1 softmax, 2 sigmoid */
    bool probs_bias;          /* exp_probs_b tensor */
    bool fused_gate_up;       /* one ffn_gate_up_exps [n_embd, 2*n_ff_exp, n_expert] tensor */
    /* MLA (deepseek2) */
    uint32_t q_lora_rank, kv_lora_rank, qk_nope, qk_rope, v_head_dim;
    bool split_kv_b;          /* write attn_k_b / attn_v_b instead of attn_kv_b */
    float yarn_log_mul;       /* deepseek2 rope.scaling.yarn_log_multiplier (0.1 * mscale_all_dim) */
} fr_synth_spec;

/* Defaults for a small model of the given arch (the caller then adjusts fields). */
fr_synth_spec fr_synth_default(const char *arch);
int fr_synth_write(const fr_synth_spec *s, const char *path, fr_err *err);

#endif
