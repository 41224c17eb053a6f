/* moe.h: mixture-of-experts routing, shared by the MoE architectures (qwen3moe, deepseek2).
 * The router turns one token's gate logits into n_used expert ids and weights, exactly as
 * llama.cpp's build_moe_ffn does: probabilities by softmax or sigmoid; an optional selection
 * bias (exp_probs_b) that changes which experts are chosen but not their weights; optional
 * group-limited selection (DeepSeek-V3: a group scores the sum of its two best biased
 * probabilities, only the best n_group_used groups compete); top-k; optional normalisation
 * of the chosen weights to sum 1 and scaling. */
#ifndef FR_MOE_H
#define FR_MOE_H

#include "model/loader.h"

typedef struct fr_moe_router {
    int n_expert, n_used;       /* experts, experts chosen per token */
    int n_groups, n_group_used; /* group-limited selection when n_groups > 1 */
    fr_gating gating;
    bool norm;         /* weights /= their sum */
    float scale;       /* weights *= scale unless 0 or 1 */
    const float *bias; /* [n_expert] selection bias, or NULL */
} fr_moe_router;

/* Routes one token. probs: [n_expert] gate logits in, probabilities out. sel/w: [n_used]
 * chosen experts in rank order (best first) and their weights. scratch: [3*n_expert +
 * 2*n_groups] floats. Returns the routing margin: the gap between the last chosen and the
 * best rejected selection score (and group score, with groups) in router-logit units (the
 * gap divided by the scores' slope against their logits). A margin below the noise of the
 * router logits is a near-tie that a rounding difference elsewhere can flip. */
float fr_moe_route(int32_t *sel, float *w, float *probs, float *scratch, const fr_moe_router *r);

/* Router settings of layer L from the model's hyper-parameters. */
fr_moe_router fr_moe_router_of(const fr_hparams *hp, const fr_layer *L);

/* Binds layer il's MoE tensors: ffn_norm, router, experts (separate gate/up, or the fused
 * ffn_gate_up_exps llama.cpp's converter can write) and, when shared, the shared experts. */
void ld_ffn_moe_any(fr_loader *ld, int il, int shared);

/* Reads and checks the router keys every MoE architecture shares: expert_count,
 * expert_used_count, expert_group_count, expert_group_used_count ("{arch}." prefixed). */
void ld_moe_hparams(fr_loader *ld, fr_hparams *hp);

#endif
