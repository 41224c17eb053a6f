#!/usr/bin/env bash
# compare.sh: frugal vs llama.cpp (node-llama-cpp) side by side on the same GGUF files, same
# threads and prompt lengths, alternating for several rounds; prints per-round t/s and the
# median ratio frugal/llama.cpp for pp and tg.
#   bench/compare.sh [--rounds N] [--threads N] [--pp N] [--tg N] MODEL.gguf...
# Models: `frugal synth --preset llama-1.4b --type q8_0 -o bench/models/llama-1.4b-q8_0.gguf`.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 threads=2 pp=64 tg=32
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;; --threads) threads=$2; shift 2 ;;
        --pp) pp=$2; shift 2 ;; --tg) tg=$2; shift 2 ;; *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: bench/compare.sh [--rounds N] [--threads N] [--pp N] [--tg N] MODEL..."; exit 2; }
nm=${FRUGAL_BENCH_NODE_MODULES:-$root/bench/node_modules}
if [ ! -d "$nm/node-llama-cpp" ]; then
    echo "installing node-llama-cpp into bench/node_modules (all CPU variants)"
    (cd "$root/bench" && cp ../tests/oracle/package.json . && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true \
        npm install --omit=optional --no-audit --no-fund --loglevel=error >/dev/null)
fi
export FRUGAL_BENCH_NODE_MODULES=$nm
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for model in "$@"; do
    echo "== $model (threads $threads, pp $pp, tg $tg, $rounds rounds)"
    rp=() rt=()
    for r in $(seq "$rounds"); do
        f=$("$root/build/frugal" bench -m "$model" -p "$pp" -n "$tg" -r 3 -t "$threads" -o json)
        fpp=$(echo "$f" | sed -n 's/.*"test": "pp[0-9]*", "t_s": \([0-9.]*\).*/\1/p')
        ftg=$(echo "$f" | sed -n 's/.*"test": "tg[0-9]*", "t_s": \([0-9.]*\).*/\1/p')
        l=$(node "$root/bench/llama_bench.mjs" "$model" "$pp" "$tg" "$threads" 3)
        lpp=$(echo "$l" | sed -n 's/.*"pp":\([0-9.e+-]*\).*/\1/p')
        ltg=$(echo "$l" | sed -n 's/.*"tg":\([0-9.e+-]*\).*/\1/p')
        echo "round $r: frugal pp $fpp tg $ftg | llama.cpp pp $lpp tg $ltg"
        rp+=("$(awk -v a="$fpp" -v b="$lpp" 'BEGIN{print a/b}')")
        rt+=("$(awk -v a="$ftg" -v b="$ltg" 'BEGIN{print a/b}')")
    done
    echo "median ratio frugal/llama.cpp: pp $(printf '%s\n' "${rp[@]}" | median)  tg $(printf '%s\n' "${rt[@]}" | median)"
done
