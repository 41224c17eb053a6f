#!/bin/sh
# run_gguf.sh: runs the GGUF reader's libFuzzer target for $1 seconds (default 30) on a
# scratch copy of tests/fuzz/corpus/gguf. The seeds are small valid files written by
# suite_gguf's corpus_seeds case; to regenerate:
#   FRUGAL_GGUF_CORPUS=tests/fuzz/corpus/gguf build/frugal-tests gguf
set -u
cd "$(dirname "$0")/../.." || exit 2
exec sh tests/fuzz/lib_fuzz.sh gguf "${1:-30}" 8192
