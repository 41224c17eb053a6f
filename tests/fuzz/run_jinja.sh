#!/bin/sh
# run_jinja.sh: builds the libFuzzer targets (`make fuzz`) and runs build-fuzz/fuzz_jinja for
# $1 seconds (default 60) on a scratch copy of tests/fuzz/corpus/jinja, with the dictionary
# tests/fuzz/jinja.dict (template syntax, filters, methods).
set -u
cd "$(dirname "$0")/../.." || exit 2
exec sh tests/fuzz/lib_fuzz.sh jinja "${1:-60}" 4096 tests/fuzz/jinja.dict
