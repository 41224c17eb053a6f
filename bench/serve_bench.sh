#!/usr/bin/env bash
# serve_bench.sh: starts `frugal serve` on a model and measures it under load with
# bench/serve_bench.mjs: aggregate generation tokens/s at 1, 4 and 16 concurrent streams,
# time to first token, and time to first token of a long system prompt cold vs cached.
#   bench/serve_bench.sh [--threads N] [--tokens N] [--levels 1,4,16] [--repeat 3] MODEL.gguf [serve options]
# Models: `frugal synth --preset qwen3moe-2b --type q8_0 -o bench/models/qwen3moe-2b-q8_0.gguf`
#         `frugal synth --preset llama-1.4b --type q8_0 -o bench/models/llama-1.4b-q8_0.gguf`
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
F=${FRUGAL:-$root/build/frugal}
threads=2 tokens=64 levels=1,4,16 repeat=3
while [ $# -gt 0 ]; do
    case $1 in
        --threads) threads=$2; shift 2 ;; --tokens) tokens=$2; shift 2 ;; --levels) levels=$2; shift 2 ;; --repeat) repeat=$2; shift 2 ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: bench/serve_bench.sh [--threads N] [--tokens N] [--levels L] MODEL.gguf [serve options]"; exit 2; }
model=$1; shift
log=$(mktemp /tmp/frugal-serve-bench.XXXXXX)
"$F" serve -m "$model" --port 0 -t "$threads" -np 16 -c 16384 "$@" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 600); do grep -q "listening on" "$log" && break; sleep 0.2; done
port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\) .*/\1/p' "$log")
[ -n "$port" ] || { cat "$log"; exit 1; }
echo "== $(basename "$model"): $threads threads, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
sed -n 's/^frugal serve: listening on [^ ]* *//p' "$log"
node "$root/bench/serve_bench.mjs" "http://127.0.0.1:$port" --levels "$levels" --tokens "$tokens" --repeat "$repeat"
