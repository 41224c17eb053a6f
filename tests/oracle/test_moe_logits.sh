#!/usr/bin/env bash
# test_moe_logits.sh: frugal's logits against llama.cpp's (node-llama-cpp) on synthetic MoE/MLA
# models: deepseek2 in V2-Lite style (no q compression, softmax router, no groups) and V3 style
# (q compression, sigmoid router with selection bias, group-limited top-k, weights scaled by
# 2.5), both key/value layouts (attn_kv_b and attn_k_b/attn_v_b), separate and fused
# (ffn_gate_up_exps) experts, YaRN past the original context, and qwen3moe; in f32, f16, q8_0 and q4_K, over 100 positions.
# Bounds (cmp_moe.mjs), over positions whose routing is not a near-tie (margin below a few
# times the router-logit noise of the type): f32 max |diff| <= 1e-3 (a near-tie also excludes
# the positions after it); other types mean KL <= 5e-3 and argmax agreement >= 99% where the
# oracle's top-2 logits differ by >= 0.1 (quantized types carry ~5e-2 of logit noise, in dense
# models too). Each line prints the near-tie count and the stats over all positions too.
# Some f32 cases also compare 24 greedy tokens (decode path) and logits with 7-token batches.
# Prints PASS/FAIL/SKIP lines; exits non-zero if any case failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
frugal=${FRUGAL:-$root/build/frugal}
nm=${FRUGAL_NODE_MODULES:-$here/node_modules}
export FRUGAL_NODE_MODULES=$nm
tmp=$(mktemp -d /tmp/frugal-moe-oracle.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
if [ ! -d "$nm/node-llama-cpp" ]; then
    echo "SKIP moe-logits-oracle: node-llama-cpp not installed in $nm (run scripts/deps.sh)"
    exit 0
fi
npos=100

# tokens: N pseudo-random ids below V from a seed
tokens() { awk -v n="$1" -v v="$2" -v s="$3" 'BEGIN{srand(s); for(i=0;i<n;i++) printf("%s%d", i?",":"", int(rand()*v))}'; }

# case NAME ARCH TYPE SEED "synth options" [frugal options] [dec: also batch-7 and greedy runs]
case_() {
    local name=$1 arch=$2 type=$3 seed=$4 opts=$5 fopts=${6:-} dec=${7:-}
    local model=$tmp/$name.gguf
    if ! "$frugal" synth --arch "$arch" --type "$type" --seed "$seed" $opts -o "$model" 2>"$tmp/err"; then
        echo "FAIL moe.$name: synth failed: $(cat "$tmp/err")"; fails=$((fails+1)); return
    fi
    # near-tie margins (router-logit units) a few times the router noise: f32 ~1e-6; the
    # other types carry ~1% noise in hidden states (activation rounding, f16 cache)
    local ids kv=f16 near=2e-2 bounds="--min-argmax 0.99 --argmax-gap 0.1 --max-kl 5e-3 --min-clean 0.6"
    ids=$(tokens $npos 600 "$seed")
    [ "$type" = f16 ] && near=5e-3
    if [ "$type" = f32 ]; then kv=f32; near=1e-5; bounds="--max-diff 1e-3 --taint-after --min-clean 0.5"; fi
    if ! FRUGAL_MOE_TRACE=$tmp/trace "$frugal" logits -m "$model" --tokens "$ids" -o "$tmp/ours.bin" \
            --kv-type $kv -t 2 $fopts 2>"$tmp/err"; then
        echo "FAIL moe.$name: frugal logits failed: $(cat "$tmp/err")"; fails=$((fails+1)); return
    fi
    if ! node "$here/llama_oracle.mjs" logits "$model" "$ids" "$tmp/ref.bin" --kv $kv --threads 2 2>"$tmp/err" >/dev/null; then
        echo "FAIL moe.$name: oracle failed: $(tail -3 "$tmp/err")"; fails=$((fails+1)); return
    fi
    local res
    if res=$(node "$here/cmp_moe.mjs" "$tmp/ours.bin" "$tmp/ref.bin" $npos "$tmp/trace" --near $near $bounds); then
        echo "PASS moe.$name ($res)"
    else
        echo "FAIL moe.$name ($res; bounds $bounds)"; fails=$((fails+1))
    fi
    if [ "$dec" = dec ]; then
        # the same logits evaluated 7 tokens per batch (prefill split across batches)
        FRUGAL_MOE_TRACE=$tmp/trace7 "$frugal" logits -m "$model" --tokens "$ids" -o "$tmp/ours7.bin" --kv-type f32 -t 2 -b 7 $fopts 2>/dev/null
        if res=$(node "$here/cmp_moe.mjs" "$tmp/ours7.bin" "$tmp/ref.bin" $npos "$tmp/trace7" --near $near $bounds); then
            echo "PASS moe.$name-batch7 ($res)"
        else
            echo "FAIL moe.$name-batch7 ($res; bounds $bounds)"; fails=$((fails+1))
        fi
        # decode: one token per step
        local p8 ours ref
        p8=$(tokens 8 600 $((seed+7)))
        ours=$("$frugal" run -m "$model" --tokens "$p8" -n 24 --temp 0 --ignore-eos --print-ids --kv-type f32 -t 2 $fopts 2>/dev/null | tr -d '\n')
        ref=$(node "$here/llama_oracle.mjs" greedy "$model" "$p8" 24 --kv f32 2>/dev/null | tr -d '\n')
        if [ -n "$ours" ] && [ "$ours" = "$ref" ]; then echo "PASS moe.$name-greedy (24 tokens identical)"
        else echo "FAIL moe.$name-greedy: ours [$ours] oracle [$ref]"; fails=$((fails+1)); fi
    fi
}

# deepseek2, V2-Lite style: no q compression, softmax, no groups, no normalisation, scale 1
lite="--vocab 600 --embd 64 --layers 3 --heads 4 --ff 96 --experts 8 --experts-used 2 --experts-shared 2
      --ff-exp 32 --dense-lead 1 --kv-lora 32 --qk-nope 16 --qk-rope 16 --v-dim 24 --gating softmax
      --no-norm-topk --weights-scale 1"
# deepseek2, V3 style: q compression, sigmoid + selection bias, 4 groups of 4 (2 used), scale 2.5
v3="--vocab 600 --embd 64 --layers 3 --heads 4 --ff 96 --experts 16 --experts-used 4 --experts-shared 1
    --ff-exp 32 --dense-lead 1 --q-lora 48 --kv-lora 32 --qk-nope 16 --qk-rope 16 --v-dim 16
    --gating sigmoid --probs-bias --groups 4 --groups-used 2 --weights-scale 2.5"
# the same families at widths every quantized type accepts (rows of 256)
lite_k="--vocab 600 --embd 256 --layers 3 --heads 4 --ff 256 --experts 8 --experts-used 2 --experts-shared 1
        --ff-exp 256 --dense-lead 1 --kv-lora 256 --qk-nope 32 --qk-rope 32 --v-dim 64 --gating softmax
        --no-norm-topk --weights-scale 1"
v3_k="--vocab 600 --embd 256 --layers 3 --heads 4 --ff 256 --experts 16 --experts-used 4 --experts-shared 2
      --ff-exp 256 --dense-lead 1 --q-lora 256 --kv-lora 256 --qk-nope 32 --qk-rope 32 --v-dim 64
      --gating sigmoid --probs-bias --groups 4 --groups-used 2 --weights-scale 2.5"
q3="--vocab 600 --embd 64 --layers 3 --heads 4 --kv-heads 2 --head-dim 16 --ff 96 --experts 16
    --experts-used 4 --ff-exp 32"
q3_k="--vocab 600 --embd 256 --layers 2 --heads 4 --kv-heads 2 --head-dim 64 --ff 256 --experts 16
      --experts-used 4 --ff-exp 256"

case_ ds2-lite-f32-kvb deepseek2 f32 1 "$lite" "" dec
case_ ds2-lite-f32-split deepseek2 f32 2 "$lite --split-kv-b --layers 4 --dense-lead 2 --fused-gate-up"
case_ ds2-lite-f16 deepseek2 f16 3 "$lite_k --split-kv-b"
case_ ds2-lite-q8_0 deepseek2 q8_0 4 "$lite_k"
case_ ds2-lite-q4_K deepseek2 q4_K 5 "$lite_k --split-kv-b"
case_ ds2-v3-f32-split deepseek2 f32 6 "$v3 --split-kv-b" "" dec
case_ ds2-v3-f32-kvb deepseek2 f32 7 "$v3 --heads 2 --experts 32 --experts-used 6 --groups 8 --groups-used 3"
case_ ds2-v3-f16 deepseek2 f16 8 "$v3_k"
case_ ds2-v3-q8_0 deepseek2 q8_0 9 "$v3_k --split-kv-b"
case_ ds2-v3-q4_K deepseek2 q4_K 10 "$v3_k --split-kv-b --fused-gate-up"
# YaRN: original context 32, factor 4, 100 positions (V3's mscale_all_dim 1, V2-Lite's 0.707)
case_ ds2-v3-f32-yarn deepseek2 f32 11 "$v3 --split-kv-b --ctx 32 --rope-scaling yarn --rope-factor 4" "-c 256" dec
case_ ds2-lite-f32-yarn deepseek2 f32 12 "$lite --ctx 32 --rope-scaling yarn --rope-factor 8 --yarn-log-mul 0.0707" "-c 256"
case_ qwen3moe-f32-s1 qwen3moe f32 13 "$q3" "" dec
case_ qwen3moe-f32-s2 qwen3moe f32 14 "$q3 --embd 96 --heads 3 --kv-heads 1 --head-dim 32 --experts 8 --experts-used 2 --tied"
case_ qwen3moe-f16 qwen3moe f16 15 "$q3_k"
case_ qwen3moe-q8_0 qwen3moe q8_0 16 "$q3_k"
case_ qwen3moe-q4_K qwen3moe q4_K 17 "$q3_k"
exit $((fails > 0))
