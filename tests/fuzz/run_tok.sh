#!/bin/sh
# run_tok.sh: builds the libFuzzer targets (`make fuzz`) and runs build-fuzz/fuzz_tok for
# $1 seconds (default 30) on a scratch copy of tests/fuzz/corpus/tok.
set -u
cd "$(dirname "$0")/../.." || exit 2
exec sh tests/fuzz/lib_fuzz.sh tok "${1:-30}" 4096
