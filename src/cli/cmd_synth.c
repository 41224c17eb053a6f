/* cmd_synth.c: `frugal synth`: writes a random-weight model for tests and benchmarks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "synth/synth.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: frugal synth --arch ARCH [options] -o FILE\n\n"
            "Writes a GGUF model with random weights ~ N(0, 1/fan_in), llama.cpp's tensor names\n"
            "and metadata, and a generated tokenizer. Deterministic for a seed.\n\n"
            "options:\n"
            "      --arch A          llama, qwen2, qwen3, qwen3moe, deepseek2\n"
            "      --preset P        tiny (default), llama-1.4b, qwen2-1.6b, qwen3-0.6b,\n"
            "                        deepseek-v3-2b, deepseek-v2-lite-2b, qwen3moe-2b\n"
            "      --type T          f32 (default), f16, bf16, q8_0, q4_0, q4_K, q5_K, q6_K\n"
            "      --seed N          random seed (default 1)\n"
            "      --vocab N         tokenizer/vocabulary size\n"
            "      --embd N --layers N --heads N --kv-heads N --head-dim N --ff N --ctx N\n"
            "      --tied            no output.weight (logits use token_embd)\n"
            "      --rope-base F     rope.freq_base\n"
            "      --rope-scaling S  none, linear, llama3 (writes rope_freqs), yarn\n"
            "      --rope-factor F   scaling factor\n"
            "      --tok M           tokenizer: gpt2 (byte-level BPE, default) or llama (SPM)\n"
            "      --out-scale F     multiplies the output projection's std (default 1)\n"
            "  MoE:  --experts N --experts-used N --experts-shared N --ff-exp N --dense-lead N\n"
            "        --groups N --groups-used N --gating softmax|sigmoid --probs-bias\n"
            "        --weights-scale F --no-norm-topk --fused-gate-up\n"
            "  MLA:  --q-lora N --kv-lora N --qk-nope N --qk-rope N --v-dim N --split-kv-b\n"
            "        --yarn-log-mul F  rope.scaling.yarn_log_multiplier (default 0.1; 0 = none)\n"
            "  -o, --output FILE     output file (required)\n");
}

static int preset(fr_synth_spec *s, const char *p) {
    if (!strcmp(p, "tiny")) return 0;
    if (!strcmp(p, "llama-1.4b")) {
        *s = fr_synth_default("llama");
        s->n_vocab = 32000, s->n_embd = 2048, s->n_layer = 24, s->n_head = 16, s->n_head_kv = 16;
        s->head_dim = 128, s->n_ff = 5632, s->n_ctx = 4096;
    } else if (!strcmp(p, "qwen2-1.6b")) {
        *s = fr_synth_default("qwen2");
        s->n_vocab = 32000, s->n_embd = 2048, s->n_layer = 24, s->n_head = 16, s->n_head_kv = 4;
        s->head_dim = 128, s->n_ff = 6144, s->n_ctx = 4096;
    } else if (!strcmp(p, "qwen3-0.6b")) {
        *s = fr_synth_default("qwen3");
        s->n_vocab = 32000, s->n_embd = 1024, s->n_layer = 28, s->n_head = 16, s->n_head_kv = 8;
        s->head_dim = 128, s->n_ff = 3072, s->n_ctx = 4096, s->tied = true;
    } else if (!strcmp(p, "deepseek-v3-2b")) {
        *s = fr_synth_default("deepseek2");
        s->n_vocab = 32000, s->n_embd = 1024, s->n_layer = 12, s->n_head = 16, s->n_head_kv = 16;
        s->n_ff = 2816, s->n_ctx = 4096, s->n_expert = 64, s->n_expert_used = 6;
        s->n_expert_shared = 2, s->n_ff_exp = 768, s->n_layer_dense_lead = 1;
        s->q_lora_rank = 384, s->kv_lora_rank = 512, s->qk_nope = 128, s->qk_rope = 64;
        s->v_head_dim = 128, s->gating = 2, s->probs_bias = true, s->norm_topk = true;
        s->expert_weights_scale = 2.5f, s->n_expert_groups = 8, s->n_group_used = 4;
        s->split_kv_b = true; /* attn_k_b/attn_v_b, as llama.cpp converts DeepSeek today */
    } else if (!strcmp(p, "deepseek-v2-lite-2b")) {
        *s = fr_synth_default("deepseek2");
        s->n_vocab = 32000, s->n_embd = 1024, s->n_layer = 12, s->n_head = 16, s->n_head_kv = 16;
        s->n_ff = 2816, s->n_ctx = 4096, s->n_expert = 64, s->n_expert_used = 6;
        s->n_expert_shared = 2, s->n_ff_exp = 768, s->n_layer_dense_lead = 1;
        s->q_lora_rank = 0, s->kv_lora_rank = 512, s->qk_nope = 128, s->qk_rope = 64;
        s->v_head_dim = 128, s->gating = 1, s->norm_topk = false, s->expert_weights_scale = 1.0f;
        s->split_kv_b = true;
    } else if (!strcmp(p, "qwen3moe-2b")) {
        *s = fr_synth_default("qwen3moe");
        s->n_vocab = 32000, s->n_embd = 1024, s->n_layer = 16, s->n_head = 16, s->n_head_kv = 4;
        s->head_dim = 128, s->n_ff = 3072, s->n_ctx = 4096, s->n_expert = 128;
        s->n_expert_used = 8, s->n_ff_exp = 384, s->norm_topk = true;
    } else {
        return -1;
    }
    return 0;
}

int cmd_synth(int argc, char **argv) {
    const char *arch = NULL, *out = NULL, *pre = "tiny", *v;
    /* first pass: arch and preset decide the defaults the other options override */
    for (int i = 1; i < argc; i++) {
        if (opt_flag(argv, i, "-h", "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--arch") && i + 1 < argc) arch = argv[i + 1];
        if (!strcmp(argv[i], "--preset") && i + 1 < argc) pre = argv[i + 1];
    }
    fr_synth_spec s = fr_synth_default(arch ? arch : "llama");
    if (preset(&s, pre)) {
        cli_error("synth: unknown preset '%s'", pre);
        return 2;
    }
    if (arch && strcmp(arch, s.arch)) {
        cli_error("synth: preset '%s' is for arch %s, not %s", pre, s.arch, arch);
        return 2;
    }
    if (!arch && !strcmp(pre, "tiny")) {
        cli_error("synth: give --arch or --preset");
        return 2;
    }
    const long U = 1L << 24;
    for (int i = 1; i < argc; i++) {
        if (opt_arg(argc, argv, &i, NULL, "--arch", &v) || opt_arg(argc, argv, &i, NULL, "--preset", &v)) {
        } else if (opt_arg(argc, argv, &i, "-o", "--output", &v)) out = v;
        else if (opt_arg(argc, argv, &i, NULL, "--type", &v)) {
            int t = fr_type_from_name(v);
            if (t < 0) {
                cli_error("synth: unknown type '%s'", v);
                return 2;
            }
            s.type = (fr_type)t;
        } else if (opt_arg(argc, argv, &i, NULL, "--seed", &v)) s.seed = (uint64_t)opt_long("--seed", v, 0, INT64_MAX);
        else if (opt_arg(argc, argv, &i, NULL, "--vocab", &v)) s.n_vocab = (uint32_t)opt_long("--vocab", v, 260, U);
        else if (opt_arg(argc, argv, &i, NULL, "--embd", &v)) s.n_embd = (uint32_t)opt_long("--embd", v, 1, U);
        else if (opt_arg(argc, argv, &i, NULL, "--layers", &v)) s.n_layer = (uint32_t)opt_long("--layers", v, 1, 4096);
        else if (opt_arg(argc, argv, &i, NULL, "--heads", &v)) s.n_head = (uint32_t)opt_long("--heads", v, 1, 4096);
        else if (opt_arg(argc, argv, &i, NULL, "--kv-heads", &v)) s.n_head_kv = (uint32_t)opt_long("--kv-heads", v, 1, 4096);
        else if (opt_arg(argc, argv, &i, NULL, "--head-dim", &v)) s.head_dim = (uint32_t)opt_long("--head-dim", v, 2, 4096);
        else if (opt_arg(argc, argv, &i, NULL, "--ff", &v)) s.n_ff = (uint32_t)opt_long("--ff", v, 1, U);
        else if (opt_arg(argc, argv, &i, NULL, "--ctx", &v)) s.n_ctx = (uint32_t)opt_long("--ctx", v, 1, U);
        else if (opt_flag(argv, i, NULL, "--tied")) s.tied = true;
        else if (opt_arg(argc, argv, &i, NULL, "--rope-base", &v)) s.rope_base = (float)opt_double("--rope-base", v, 1, 1e12);
        else if (opt_arg(argc, argv, &i, NULL, "--rope-scaling", &v)) s.rope_scaling = v;
        else if (opt_arg(argc, argv, &i, NULL, "--rope-factor", &v)) s.rope_factor = (float)opt_double("--rope-factor", v, 1e-3, 1e6);
        else if (opt_arg(argc, argv, &i, NULL, "--tok", &v)) s.tok_model = v;
        else if (opt_arg(argc, argv, &i, NULL, "--out-scale", &v)) s.out_scale = (float)opt_double("--out-scale", v, 1e-3, 1e3);
        else if (opt_arg(argc, argv, &i, NULL, "--experts", &v)) s.n_expert = (uint32_t)opt_long("--experts", v, 1, 4096);
        else if (opt_arg(argc, argv, &i, NULL, "--experts-used", &v)) s.n_expert_used = (uint32_t)opt_long("--experts-used", v, 1, 4096);
        else if (opt_arg(argc, argv, &i, NULL, "--experts-shared", &v)) s.n_expert_shared = (uint32_t)opt_long("--experts-shared", v, 0, 64);
        else if (opt_arg(argc, argv, &i, NULL, "--ff-exp", &v)) s.n_ff_exp = (uint32_t)opt_long("--ff-exp", v, 1, U);
        else if (opt_arg(argc, argv, &i, NULL, "--dense-lead", &v)) s.n_layer_dense_lead = (uint32_t)opt_long("--dense-lead", v, 0, 4096);
        else if (opt_arg(argc, argv, &i, NULL, "--groups", &v)) s.n_expert_groups = (uint32_t)opt_long("--groups", v, 0, 4096);
        else if (opt_arg(argc, argv, &i, NULL, "--groups-used", &v)) s.n_group_used = (uint32_t)opt_long("--groups-used", v, 0, 4096);
        else if (opt_arg(argc, argv, &i, NULL, "--gating", &v)) {
            if (!strcmp(v, "softmax")) s.gating = 1;
            else if (!strcmp(v, "sigmoid")) s.gating = 2;
            else {
                cli_error("synth: --gating must be softmax or sigmoid");
                return 2;
            }
        } else if (opt_flag(argv, i, NULL, "--probs-bias")) s.probs_bias = true;
        else if (opt_flag(argv, i, NULL, "--no-norm-topk")) s.norm_topk = false;
        else if (opt_flag(argv, i, NULL, "--fused-gate-up")) s.fused_gate_up = true;
        else if (opt_arg(argc, argv, &i, NULL, "--weights-scale", &v)) s.expert_weights_scale = (float)opt_double("--weights-scale", v, 0, 1e3);
        else if (opt_arg(argc, argv, &i, NULL, "--q-lora", &v)) s.q_lora_rank = (uint32_t)opt_long("--q-lora", v, 0, U);
        else if (opt_arg(argc, argv, &i, NULL, "--kv-lora", &v)) s.kv_lora_rank = (uint32_t)opt_long("--kv-lora", v, 1, U);
        else if (opt_arg(argc, argv, &i, NULL, "--qk-nope", &v)) s.qk_nope = (uint32_t)opt_long("--qk-nope", v, 1, U);
        else if (opt_arg(argc, argv, &i, NULL, "--qk-rope", &v)) s.qk_rope = (uint32_t)opt_long("--qk-rope", v, 2, U);
        else if (opt_arg(argc, argv, &i, NULL, "--v-dim", &v)) s.v_head_dim = (uint32_t)opt_long("--v-dim", v, 1, U);
        else if (opt_flag(argv, i, NULL, "--split-kv-b")) s.split_kv_b = true;
        else if (opt_arg(argc, argv, &i, NULL, "--yarn-log-mul", &v)) s.yarn_log_mul = (float)opt_double("--yarn-log-mul", v, 0, 10);
        else {
            cli_error("synth: unknown option '%s'", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!out) {
        cli_error("synth: -o FILE is required");
        return 2;
    }
    fr_err err;
    double t0 = cli_now();
    if (fr_synth_write(&s, out, &err)) {
        cli_error("%s", err.msg);
        return 1;
    }
    fprintf(stderr, "frugal: wrote %s (%s, %s, %u layers, n_embd %u, seed %llu) in %.1f s\n", out,
            s.arch, fr_type_name(s.type), s.n_layer, s.n_embd, (unsigned long long)s.seed,
            cli_now() - t0);
    return 0;
}
