#!/bin/sh
# run_jinja.sh: builds fuzz_jinja (clang, libFuzzer + ASan/UBSan, only the jinja sources and
# src/core/err.c, so it does not depend on the rest of the tree building with clang) and runs
# it for $1 seconds (default 60) on a scratch copy of tests/fuzz/corpus/jinja with the
# tests/fuzz/jinja.dict dictionary. Exits non-zero when the fuzzer finds a crash, leak or
# timeout; the reproducer stays in the printed scratch dir. (`make fuzz` also builds it.)
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-60}
out=${FUZZ_BUILD:-build-fuzz-jinja}
mkdir -p "$out"
if ! clang -std=c11 -D_GNU_SOURCE -O1 -g -Iinclude -Isrc -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=undefined -o "$out/fuzz_jinja" tests/fuzz/fuzz_jinja.c src/jinja/*.c \
        src/core/err.c $(pkg-config --libs jansson) -lm -pthread; then
    echo "FAIL fuzz.jinja: build failed"
    exit 2
fi
work=$(mktemp -d /tmp/fuzz_jinja.XXXXXX) || exit 2
mkdir -p "$work/corpus"
cp tests/fuzz/corpus/jinja/* "$work/corpus/"
"$out/fuzz_jinja" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -dict=tests/fuzz/jinja.dict -artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" \
    >"$work/log" 2>&1
rc=$?
grep -E '^(Done|stat::)|ERROR|SUMMARY' "$work/log" | head -n 20
if [ $rc -ne 0 ]; then
    tail -n 40 "$work/log"
    echo "FAIL fuzz.jinja: fuzzer exit $rc; log and reproducer in $work"
    exit 1
fi
echo "PASS fuzz.jinja ($secs s, corpus $(ls tests/fuzz/corpus/jinja | wc -l) -> $(ls "$work/corpus" | wc -l) inputs)"
rm -rf "$work"
