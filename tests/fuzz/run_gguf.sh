#!/bin/sh
# run_gguf.sh: builds the libFuzzer targets (`make fuzz`) and runs build-fuzz/fuzz_gguf for
# $1 seconds (default 30) on a scratch copy of tests/fuzz/corpus/gguf. Exits non-zero when
# the fuzzer finds a crash, leak or timeout; the reproducer stays in the printed scratch dir.
# The seeds are small valid files written by suite_gguf's corpus_seeds case; to regenerate:
#   FRUGAL_GGUF_CORPUS=tests/fuzz/corpus/gguf build/frugal-tests gguf
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-30}
if ! make -j2 fuzz >/tmp/fuzz_gguf_build.$$ 2>&1; then
    tail -n 30 /tmp/fuzz_gguf_build.$$
    rm -f /tmp/fuzz_gguf_build.$$
    echo "FAIL fuzz.gguf: make fuzz failed"
    exit 2
fi
rm -f /tmp/fuzz_gguf_build.$$
work=$(mktemp -d /tmp/fuzz_gguf.XXXXXX) || exit 2
mkdir -p "$work/corpus"
cp tests/fuzz/corpus/gguf/* "$work/corpus/"
build-fuzz/fuzz_gguf -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1
rc=$?
grep -E '^(Done|stat::)|ERROR|SUMMARY' "$work/log" | head -n 20
if [ $rc -ne 0 ]; then
    tail -n 40 "$work/log"
    echo "FAIL fuzz.gguf: fuzzer exit $rc; log and reproducer in $work"
    exit 1
fi
echo "PASS fuzz.gguf ($secs s, corpus $(ls tests/fuzz/corpus/gguf | wc -l) -> $(ls "$work/corpus" | wc -l) inputs)"
rm -rf "$work"
