#!/bin/sh
# tokenize_speed.sh: tokenizer throughput, frugal vs llama.cpp (node-llama-cpp), side by side
# on ~10 MB of mixed text (the oracle corpus of tests/oracle/corpus_gen.mjs repeated:
# English, CJK, Arabic, emoji, code, numbers, whitespace runs).
# usage: bench/tokenize_speed.sh [MODEL.gguf ...]
#   default models: ../shared/vocab gpt-2, llama-spm, deepseek-llm, falcon (when present) and
#   frugal's generated gpt2/qwen2 32000-token vocab.
# Both sides time tokenization only (add_special = false, parse_special = false; model load
# excluded), best of 3 runs for frugal and of LLAMA_REPEATS (default 1) for llama.cpp, whose
# figure includes node-llama-cpp's JS <-> C++ string and array conversion. Prints one line
# per model: "MODEL: frugal X MB/s, llama.cpp Y MB/s (Z x)" and checks the token counts agree.
# env: FRUGAL (default build/frugal), FRUGAL_SHARED (default ../shared), FRUGAL_NODE_MODULES
#      (default tests/oracle/node_modules), BENCH_MB (default 10).
set -u
cd "$(dirname "$0")/.." || exit 2
FRUGAL=${FRUGAL:-build/frugal}
SHARED=${FRUGAL_SHARED:-../shared}
NM=${FRUGAL_NODE_MODULES:-tests/oracle/node_modules}
export FRUGAL_NODE_MODULES="$NM"
MB=${BENCH_MB:-10}
[ -x "$FRUGAL" ] || { echo "tokenize_speed: $FRUGAL not built" >&2; exit 1; }
work=$(mktemp -d /tmp/frugal-tok-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

node tests/oracle/corpus_gen.mjs "$work/c" >/dev/null || { echo "tokenize_speed: corpus_gen.mjs failed" >&2; exit 1; }
: >"$work/text.txt"
while [ "$(wc -c <"$work/text.txt")" -lt $((MB * 1000000)) ]; do cat "$work/c/corpus.txt" >>"$work/text.txt"; done
echo "text: $(wc -c <"$work/text.txt") bytes of mixed text; $(nproc) CPUs; $(uname -m)"

models="$*"
if [ -z "$models" ]; then
    for v in gpt-2 llama-spm deepseek-llm falcon; do
        [ -f "$SHARED/vocab/ggml-vocab-$v.gguf" ] && models="$models $SHARED/vocab/ggml-vocab-$v.gguf"
    done
    "$FRUGAL" tokenize --gen-vocab gpt2:qwen2:32000 --out "$work/gen-qwen2-32000.gguf" && models="$models $work/gen-qwen2-32000.gguf"
fi
have_node=1
if ! command -v node >/dev/null 2>&1 || [ ! -f "$NM/node-llama-cpp/dist/index.js" ]; then
    have_node=0
    echo "(node-llama-cpp not found in $NM: llama.cpp side skipped)"
fi

for m in $models; do
    name=$(basename "$m" .gguf | sed 's/^ggml-vocab-//')
    best=""
    ntok=""
    for r in 1 2 3; do
        line=$("$FRUGAL" tokenize -m "$m" --file "$work/text.txt" --no-special --time 2>&1 >/dev/null | grep '^tokenize:')
        rate=$(echo "$line" | sed 's/.*(\([0-9.]*\) MB\/s).*/\1/')
        ntok=$(echo "$line" | sed 's/.*-> \([0-9]*\) tokens.*/\1/')
        best=$(awk -v a="$best" -v b="$rate" 'BEGIN { print (a == "" || b > a) ? b : a }')
    done
    if [ "$have_node" = 1 ]; then
        l=$(node bench/tokenize_speed.mjs "$m" "$work/text.txt" "${LLAMA_REPEATS:-1}" 2>/dev/null | grep '^llama.cpp:')
        lrate=$(echo "$l" | sed 's/.*(\([0-9.]*\) MB\/s).*/\1/')
        ltok=$(echo "$l" | sed 's/.*-> \([0-9]*\) tokens.*/\1/')
        ratio=$(awk -v a="$best" -v b="$lrate" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "?" }')
        check=""
        [ "$ntok" = "$ltok" ] || check=" TOKEN COUNTS DIFFER: frugal $ntok, llama.cpp $ltok"
        echo "$name: frugal $best MB/s, llama.cpp $lrate MB/s (${ratio}x), $ntok tokens$check"
    else
        echo "$name: frugal $best MB/s, $ntok tokens"
    fi
done
