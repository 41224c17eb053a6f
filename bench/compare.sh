#!/usr/bin/env bash
# compare.sh: frugal vs llama.cpp (node-llama-cpp, its best CPU variant for this machine; the
# variant it loaded is printed) side by side on the same GGUF files, same threads and prompt
# lengths, alternating frugal / llama.cpp for several rounds. Prints each round and, per
# model and thread count, the medians and the median of the per-round ratios frugal/llama.cpp
# for pp and tg, plus both peak RSS. Decode is also put against the machine's read bandwidth
# (`frugal bench --mem` at the same thread count before every round; the median is used):
# active weight bytes per token x tg t/s, as GB/s and as a fraction of the measured bandwidth.
# --md FILE appends the summary rows as a markdown table (header: see docs/PERFORMANCE.md).
# --variant V pins llama.cpp's CPU variant (haswell = AVX2, x64 = no SIMD, zen4, ...) by
# running it from a copy of bench/node_modules (hard links) holding only that variant's
# library: use it with FRUGAL_CPU=avx2 / generic to compare the same kernel levels.
#   bench/compare.sh [--rounds N] [--threads "1 2"] [--pp N] [--tg N] [--md FILE] [--variant V] MODEL.gguf...
# Environment: FRUGAL (binary, default build/frugal), FRUGAL_BENCH_NODE_MODULES.
# Models: `frugal synth --preset llama-1.4b --type q8_0 -o bench/models/llama-1.4b-q8_0.gguf`.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 threads="1 2" pp=512 tg=64 md="" pin=""
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;; --threads) threads=$2; shift 2 ;;
        --pp) pp=$2; shift 2 ;; --tg) tg=$2; shift 2 ;; --md) md=$2; shift 2 ;;
        --variant) pin=$2; shift 2 ;; *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: bench/compare.sh [--rounds N] [--threads \"1 2\"] [--pp N] [--tg N] [--md FILE] MODEL..."; exit 2; }
frugal=${FRUGAL:-$root/build/frugal}
nm=${FRUGAL_BENCH_NODE_MODULES:-$root/bench/node_modules}
if [ ! -d "$nm/node-llama-cpp" ]; then
    echo "installing node-llama-cpp into bench/node_modules (all CPU variants)"
    (cd "$root/bench" && cp ../tests/oracle/package.json . && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true \
        npm install --omit=optional --no-audit --no-fund --loglevel=error >/dev/null)
fi
if [ -n "$pin" ]; then
    bins=node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
    [ -f "$nm/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-$pin.so" ] ||
        { echo "compare.sh: no llama.cpp CPU variant '$pin' in $nm"; exit 2; }
    vdir=$root/bench/.variant-$pin
    if [ ! -d "$vdir/node_modules" ]; then
        mkdir -p "$vdir" && cp -al "$nm" "$vdir/node_modules"
        for f in "$vdir/$bins"/libggml-cpu-*.so; do
            [ "$(basename "$f")" = "libggml-cpu-$pin.so" ] || rm -f "$f"
        done
    fi
    nm=$vdir/node_modules
fi
export FRUGAL_BENCH_NODE_MODULES=$nm
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^,\"}]*\).*/\1/p" | head -1; }
for model in "$@"; do
  for th in $threads; do
    echo "== $model (threads $th, pp $pp, tg $tg, $rounds rounds, $(date -u +%FT%TZ))"
    fp=() ft=() lp=() lt=() rp=() rt=() bws=() frss=0 lrss=0 variant="" act=0 kern=""
    for r in $(seq "$rounds"); do
        bws+=("$("$frugal" bench --mem -t "$th" -o json | sed -n 's/.*"mem_read_gbs": *\([0-9.]*\).*/\1/p')")
        f=$("$frugal" bench -m "$model" -p "$pp" -n "$tg" -r 1 -t "$th" -o json)
        fpp=$(echo "$f" | sed -n 's/.*"test": "pp[0-9]*", "t_s": \([0-9.]*\).*/\1/p')
        ftg=$(echo "$f" | sed -n 's/.*"test": "tg[0-9]*", "t_s": \([0-9.]*\).*/\1/p')
        frss=$(echo "$f" | field peak_rss_mib)
        act=$(echo "$f" | field active_bytes)
        kern=$(echo "$f" | field kernels)
        l=$(node "$root/bench/llama_bench.mjs" "$model" "$pp" "$tg" "$th" 1)
        lpp=$(echo "$l" | sed -n 's/.*"pp":\([0-9.e+-]*\).*/\1/p')
        ltg=$(echo "$l" | sed -n 's/.*"tg":\([0-9.e+-]*\).*/\1/p')
        variant=$(echo "$l" | sed -n 's/.*"variant":"\([^"]*\)".*/\1/p')
        lrss=$(echo "$l" | sed -n 's/.*"peak_rss_mib":\([0-9]*\).*/\1/p')
        echo "round $r: frugal ($kern) pp $fpp tg $ftg | llama.cpp ($variant) pp $lpp tg $ltg"
        fp+=("$fpp") ft+=("$ftg") lp+=("$lpp") lt+=("$ltg")
        rp+=("$(awk -v a="$fpp" -v b="$lpp" 'BEGIN{print a/b}')")
        rt+=("$(awk -v a="$ftg" -v b="$ltg" 'BEGIN{print a/b}')")
    done
    mfp=$(printf '%s\n' "${fp[@]}" | median) mft=$(printf '%s\n' "${ft[@]}" | median)
    mlp=$(printf '%s\n' "${lp[@]}" | median) mlt=$(printf '%s\n' "${lt[@]}" | median)
    mrp=$(printf '%s\n' "${rp[@]}" | median) mrt=$(printf '%s\n' "${rt[@]}" | median)
    bw=$(printf '%s\n' "${bws[@]}" | median)
    fgb=$(awk -v a="$act" -v t="$mft" 'BEGIN{printf "%.1f", a * t / 1e9}')
    lgb=$(awk -v a="$act" -v t="$mlt" 'BEGIN{printf "%.1f", a * t / 1e9}')
    ffr=$(awk -v g="$fgb" -v b="$bw" 'BEGIN{printf "%.0f", (b > 0) ? 100 * g / b : 0}')
    lfr=$(awk -v g="$lgb" -v b="$bw" 'BEGIN{printf "%.0f", (b > 0) ? 100 * g / b : 0}')
    echo "median: frugal pp$pp $mfp tg$tg $mft | llama.cpp pp$pp $mlp tg$tg $mlt | ratio pp $mrp tg $mrt | peak RSS frugal ${frss} MiB llama.cpp ${lrss} MiB"
    echo "decode bandwidth: frugal $fgb GB/s ($ffr% of $bw GB/s measured, median of ${bws[*]}), llama.cpp $lgb GB/s ($lfr%)"
    if [ -n "$md" ]; then
        printf '| %s | %s | %.1f | %.1f | **%.2fx** | %.2f | %.2f | **%.2fx** | %s (%s%%) / %s (%s%%) of %s | %s / %s | %s |\n' \
            "$(basename "$model" .gguf)" "$th" "$mfp" "$mlp" "$mrp" "$mft" "$mlt" "$mrt" "$fgb" "$ffr" "$lgb" "$lfr" "$bw" \
            "$frss" "$lrss" "$kern / $variant" >> "$md"
    fi
  done
done
