#!/bin/sh
# lib_fuzz.sh NAME SECONDS MAX_LEN [DICT]: builds the libFuzzer targets (`make fuzz`) and
# runs build-fuzz/fuzz_NAME for SECONDS on a scratch copy of tests/fuzz/corpus/NAME. Prints
# "PASS fuzz.NAME" or "FAIL fuzz.NAME: ..." (the reproducer stays in the printed scratch dir).
set -u
cd "$(dirname "$0")/../.." || exit 2
name=$1 secs=$2 maxlen=$3 dict=${4:-}
log=$(mktemp /tmp/fuzz_build.XXXXXX)
if ! make -j2 fuzz >"$log" 2>&1; then
    tail -n 30 "$log"; rm -f "$log"
    echo "FAIL fuzz.$name: make fuzz failed"
    exit 2
fi
rm -f "$log"
work=$(mktemp -d "/tmp/fuzz_$name.XXXXXX") || exit 2
mkdir -p "$work/corpus"
cp "tests/fuzz/corpus/$name"/* "$work/corpus/"
set --
[ -n "$dict" ] && set -- "-dict=$dict"
"build-fuzz/fuzz_$name" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/" -print_final_stats=1 "$@" "$work/corpus" >"$work/log" 2>&1
rc=$?
grep -E '^(Done|stat::)|ERROR|SUMMARY' "$work/log" | head -n 20
if [ $rc -ne 0 ]; then
    tail -n 40 "$work/log"
    echo "FAIL fuzz.$name: fuzzer exit $rc; log and reproducer in $work"
    exit 1
fi
echo "PASS fuzz.$name ($secs s, corpus $(ls "tests/fuzz/corpus/$name" | wc -l) -> $(ls "$work/corpus" | wc -l) inputs)"
rm -rf "$work"
