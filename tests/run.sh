#!/usr/bin/env bash
# run.sh: the whole test suite. Builds (normal and ASan+UBSan), runs the unit tests in both
# builds, the CLI tests, the oracle comparisons (llama.cpp, @huggingface/jinja) and short fuzz
# runs, and ends with one line: "N passed, N failed".
#   FRUGAL_FUZZ_SECONDS (default 30) per fuzz target; FRUGAL_QUICK=1 skips ASan and fuzzing.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log=$(mktemp /tmp/frugal-run.XXXXXX)
trap 'rm -f "$log"' EXIT
jobs=$(nproc 2>/dev/null || echo 2)

step() { # step NAME COMMAND...: runs a component, echoes its output, counts a crash as a failure
    local name=$1; shift
    echo "== $name"
    local out rc
    out=$(mktemp)
    "$@" >"$out" 2>&1
    rc=$?
    cat "$out" | tee -a "$log" >/dev/null
    grep -E '^(PASS|FAIL|SKIP)' "$out" | sed 's/^/  /' | head -400
    grep -vE '^(PASS|FAIL|SKIP)' "$out" | tail -5 | sed 's/^/  | /'
    if [ $rc -ne 0 ] && ! grep -q '^FAIL' "$out"; then
        echo "FAIL $name (exit $rc)" | tee -a "$log"
    fi
    rm -f "$out"
}

echo "== build"
if ! make -j"$jobs" >/tmp/frugal-build.log 2>&1; then
    tail -30 /tmp/frugal-build.log
    echo "FAIL build" | tee -a "$log"
    echo "0 passed, 1 failed"
    exit 1
fi
step unit build/frugal-tests
if [ "${FRUGAL_QUICK:-0}" != 1 ]; then
    if make -j"$jobs" asan >/tmp/frugal-asan.log 2>&1; then
        step unit-asan env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
            sh -c 'build-asan/frugal-tests | sed "s/^\(PASS\|FAIL\) /\1 asan./"'
    else
        tail -30 /tmp/frugal-asan.log
        echo "FAIL asan build" | tee -a "$log"
    fi
fi
for t in tests/cli/test_*.sh; do [ -f "$t" ] && step "$(basename "$t" .sh)" bash "$t"; done
for t in tests/oracle/test_*.sh; do [ -f "$t" ] && step "$(basename "$t" .sh)" bash "$t"; done
if [ "${FRUGAL_QUICK:-0}" != 1 ]; then
    for t in tests/fuzz/run_*.sh; do
        [ -f "$t" ] && step "$(basename "$t" .sh)" bash "$t" "${FRUGAL_FUZZ_SECONDS:-30}"
    done
fi
pass=$(grep -c '^PASS' "$log")
fail=$(grep -c '^FAIL' "$log")
skip=$(grep -c '^SKIP' "$log")
if [ "$fail" -gt 0 ]; then echo "failures:"; grep '^FAIL' "$log" | sed 's/^/  /'; fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
