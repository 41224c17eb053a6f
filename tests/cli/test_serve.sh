#!/usr/bin/env bash
# test_serve.sh: `frugal serve` end to end on a small synthetic model: the official openai
# SDK against the normal build (tests/server/test_api.mjs: API, streaming, greedy equality
# with `frugal run`, 32 concurrent streams, prefix reuse, cancellation, shutdown), then hostile
# clients against the ASan+UBSan build when build-asan/frugal exists
# (tests/server/test_hostile.mjs). Prints PASS/FAIL/SKIP lines.
#   env: FRUGAL (binary, default build/frugal), FRUGAL_ASAN (default build-asan/frugal),
#        FRUGAL_NODE_MODULES (default tests/oracle/node_modules, for the openai SDK)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
F=${FRUGAL:-$root/build/frugal}
A=${FRUGAL_ASAN:-$root/build-asan/frugal}
export FRUGAL_NODE_MODULES=${FRUGAL_NODE_MODULES:-$root/tests/oracle/node_modules}
if ! command -v node >/dev/null; then echo "SKIP serve: node is not installed (scripts/deps.sh --test)"; exit 0; fi
if [ ! -x "$F" ]; then echo "FAIL serve: $F is missing (make)"; exit 1; fi
tmp=$(mktemp -d /tmp/frugal-serve.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if ! "$F" synth --arch qwen3 --type q8_0 --vocab 2000 --embd 256 --layers 4 --heads 4 --kv-heads 2 \
        --head-dim 64 --ff 768 -o "$tmp/m.gguf" >"$tmp/synth.log" 2>&1; then
    echo "FAIL serve.synth: $(tail -2 "$tmp/synth.log")"; exit 1
fi
rc=0
FRUGAL=$F FRUGAL_MODEL=$tmp/m.gguf FRUGAL_TMP=$tmp node "$root/tests/server/test_api.mjs" || rc=1
H=$F
if [ -x "$A" ]; then H=$A; else echo "SKIP serve.asan: $A not built (make asan); hostile tests use $F"; fi
FRUGAL=$H FRUGAL_MODEL=$tmp/m.gguf node "$root/tests/server/test_hostile.mjs" || rc=1
exit $rc
