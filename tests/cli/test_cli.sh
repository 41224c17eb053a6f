#!/usr/bin/env bash
# test_cli.sh: the frugal binary as users meet it: help texts, argument errors, bad files
# (clear message, non-zero exit, no crash), and run/logits/synth/bench end to end.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
F=${FRUGAL:-$root/build/frugal}
tmp=$(mktemp -d /tmp/frugal-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass() { echo "PASS cli.$1"; }
fail() { echo "FAIL cli.$1: $2"; fails=$((fails+1)); }

# expect NAME WANT_RC NEEDLE CMD... : exit code WANT_RC ("nz" = non-zero but not a crash),
# and stdout+stderr containing NEEDLE
expect() {
    local name=$1 want=$2 needle=$3; shift 3
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [ "$want" = nz ]; then
        if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then fail "$name" "exit $rc (want a clean non-zero exit): $out"; return; fi
    elif [ $rc -ne "$want" ]; then fail "$name" "exit $rc, want $want: $(echo "$out" | tail -3)"; return; fi
    if ! grep -qF -- "$needle" <<<"$out"; then fail "$name" "output lacks '$needle': $(echo "$out" | tail -3)"; return; fi
    pass "$name"
}

expect help 0 "usage: frugal COMMAND" "$F" --help
expect no-args 2 "usage" "$F"
expect unknown-cmd 2 "unknown command 'frobnicate'" "$F" frobnicate
for c in run logits synth bench info tokenize template; do
    expect "help-$c" 0 "usage: frugal $c" "$F" "$c" --help
done
expect run-no-model 2 "no model given" "$F" run -p hi
expect run-bad-opt 2 "unknown option '--bogus'" "$F" run -m x --bogus
expect run-bad-num 2 "'abc' is not an integer" "$F" run -m x -p hi -n abc
expect run-missing-file 1 "nope.gguf" "$F" run -m "$tmp/nope.gguf" -p hi
expect logits-bad-tokens 2 "not a comma-separated list" "$F" logits -m x --tokens 1,x -o "$tmp/o"

# bad files: each a clear error and exit 1
printf 'GGUF' > "$tmp/trunc.gguf"
expect bad-truncated nz "trunc.gguf" "$F" run -m "$tmp/trunc.gguf" --tokens 1
printf 'GGML\3\0\0\0' > "$tmp/magic.gguf"; head -c 64 /dev/zero >> "$tmp/magic.gguf"
expect bad-magic nz "magic" "$F" run -m "$tmp/magic.gguf" --tokens 1
: > "$tmp/empty.gguf"
expect bad-empty nz "empty.gguf" "$F" logits -m "$tmp/empty.gguf" --tokens 1 -o "$tmp/o"
head -c 100000 /dev/urandom > "$tmp/noise.gguf"
expect bad-noise nz "noise.gguf" "$F" run -m "$tmp/noise.gguf" --tokens 1

# a real (synthetic) model end to end
M=$tmp/m.gguf
expect synth 0 "wrote" "$F" synth --arch qwen3 --type q8_0 --vocab 500 --embd 64 --layers 2 --heads 4 --kv-heads 2 --head-dim 16 --ff 96 -o "$M"
expect synth-bad-block nz "block size" "$F" synth --arch llama --type q4_K --embd 96 -o "$tmp/x.gguf"
expect run-tokens 0 "generated 8 tokens" "$F" run -m "$M" --tokens 1,2,3 -n 8 --temp 0 --print-ids
expect run-verbose 0 "bytes per token" "$F" run -m "$M" --tokens 1,2 -n 2 -v
expect run-token-oob 1 "out of range" "$F" run -m "$M" --tokens 1,999999 -n 2
expect run-ctx-full 1 "exceeds the context size" "$F" run -m "$M" --tokens 1,2,3 -n 100 -c 16
# greedy output is deterministic and independent of threads and batch size
a=$("$F" run -m "$M" --tokens 5,6,7,8,9 -n 16 --temp 0 --print-ids -t 1 2>/dev/null)
b=$("$F" run -m "$M" --tokens 5,6,7,8,9 -n 16 --temp 0 --print-ids -t 2 -b 2 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] && pass greedy-threads-batch || fail greedy-threads-batch "[$a] vs [$b]"
# seeded sampling is reproducible
a=$("$F" run -m "$M" --tokens 5,6 -n 16 --temp 1 --seed 9 --print-ids 2>/dev/null)
b=$("$F" run -m "$M" --tokens 5,6 -n 16 --temp 1 --seed 9 --print-ids 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] && pass seeded-sampling || fail seeded-sampling "[$a] vs [$b]"
# logits: n_positions x n_vocab float32
"$F" logits -m "$M" --tokens 1,2,3,4 -o "$tmp/l.bin" 2>/dev/null
sz=$(stat -c %s "$tmp/l.bin" 2>/dev/null || echo 0)
nv=500 # the --vocab given to synth above
[ "$sz" -eq $((4 * 4 * nv)) ] && pass logits-size || fail logits-size "size $sz, want $((16 * nv))"
# text in, text out with the model's own tokenizer
expect run-prompt 0 "generated 8 tokens" "$F" run -m "$M" -p "Hello, 世界" -n 8 --temp 0 --ignore-eos
expect help-chat 0 "usage: frugal chat" "$F" chat --help
# chat: one reply line per user line; a turn after /reset replies as the first turn did
out=$(printf 'Hello there\nHow are you?\n/reset\nHello there\n' | "$F" chat -m "$M" -n 6 --temp 0 --ignore-eos 2>/dev/null)
n=$(printf '%s\n' "$out" | wc -l); l1=$(printf '%s\n' "$out" | sed -n 1p); l3=$(printf '%s\n' "$out" | sed -n 3p)
[ "$n" -eq 3 ] && [ -n "$l1" ] && [ "$l1" = "$l3" ] && pass chat-turns || fail chat-turns "$n lines: [$out]"
expect bench 0 "tg8" "$F" bench -m "$M" -p 16 -n 8 -r 1
expect bench-json 0 '"test": "pp16"' "$F" bench -m "$M" -p 16 -n 8 -r 1 -o json
exit $((fails > 0))
