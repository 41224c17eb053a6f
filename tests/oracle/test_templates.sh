#!/bin/sh
# test_templates.sh: chat templates rendered by frugal vs @huggingface/jinja, byte for byte.
# For every template in ../shared/templates and every message case that applies to it
# (render_hf.mjs defines them: with/without system prompt, multi-turn, add_generation_prompt
# on/off, reasoning_content, thinking on/off, tools and tool calls, unicode), prints
#   PASS tmpl.<template>.<case>            identical output
#   FAIL tmpl.<template>.<case>: ...       different output or frugal failed
#   SKIP tmpl.<template>.<case>: ...       the oracle itself threw (frugal's result noted)
# then runs the random differential test (jinja_diff.mjs: PASS/FAIL tmpl.random_diff) and
# ends with "templates: X/N identical" (a template is identical when it has no FAIL and at
# least one PASS). Environment: FRUGAL (binary, default build/frugal), FRUGAL_SHARED,
# FRUGAL_NODE_MODULES, KEEP=1 keeps the work directory, ONLY=substring limits templates.
set -u
cd "$(dirname "$0")/../.." || exit 1
FRUGAL=${FRUGAL:-build/frugal}
SHARED=${FRUGAL_SHARED:-../shared}
TDIR=$SHARED/templates
NM=${FRUGAL_NODE_MODULES:-tests/oracle/node_modules}
export FRUGAL_NODE_MODULES=$NM
export FRUGAL_NOW=${FRUGAL_NOW:-1760000000}
export TZ=UTC

if [ ! -d "$TDIR" ]; then echo "SKIP tmpl: no $TDIR"; exit 0; fi
if [ ! -d "$NM/@huggingface/jinja" ]; then echo "SKIP tmpl: no @huggingface/jinja in $NM"; exit 0; fi
if ! command -v node >/dev/null 2>&1; then echo "SKIP tmpl: node not installed"; exit 0; fi
if [ ! -x "$FRUGAL" ]; then echo "FAIL tmpl: $FRUGAL not built"; exit 1; fi

WORK=$(mktemp -d /tmp/frugal-tmpl.XXXXXX)
SRC=$TDIR
if [ -n "${ONLY:-}" ]; then
    SRC=$WORK/src
    mkdir -p "$SRC"
    for f in "$TDIR"/*"$ONLY"*.jinja; do [ -f "$f" ] && ln -s "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" "$SRC/"; done
fi
if ! node tests/oracle/render_hf.mjs cases "$SRC" "$WORK/cases"; then
    echo "FAIL tmpl: the oracle script failed"
    exit 1
fi

pass=0; fail=0; skip=0; ntmpl=0; ident=0
for t in "$SRC"/*.jinja; do
    name=$(basename "$t" .jinja)
    ntmpl=$((ntmpl + 1))
    tp=0; tf=0
    for vars in "$WORK/cases/$name".*.json; do
        [ -f "$vars" ] || continue
        base=${vars%.json}
        case_name=${base##*/}
        case_name=${case_name#"$name".}
        id="tmpl.$name.$case_name"
        "$FRUGAL" template --template "$t" --messages "$vars" >"$base.got" 2>"$base.msg"
        rc=$?
        if [ -f "$base.err" ]; then
            if [ $rc -eq 0 ]; then what="frugal rendered it"; else what="frugal: $(head -c 200 "$base.msg")"; fi
            echo "SKIP $id: oracle threw: $(head -c 160 "$base.err") ($what)"
            skip=$((skip + 1))
        elif [ $rc -ne 0 ]; then
            echo "FAIL $id: $(head -c 300 "$base.msg")"
            fail=$((fail + 1)); tf=$((tf + 1))
        elif cmp -s "$base.out" "$base.got"; then
            echo "PASS $id"
            pass=$((pass + 1)); tp=$((tp + 1))
        else
            at=$(cmp "$base.out" "$base.got" 2>&1 | head -1 | sed 's/.*byte \([0-9]*\).*/\1/')
            echo "FAIL $id: output differs from the oracle (first difference near byte $at)"
            fail=$((fail + 1)); tf=$((tf + 1))
        fi
    done
    if [ $tf -eq 0 ] && [ $tp -gt 0 ]; then ident=$((ident + 1)); fi
done
# random expressions and whitespace-control combinations (tests/oracle/jinja_diff.mjs)
if node tests/oracle/jinja_diff.mjs "$FRUGAL" 400 7 >"$WORK/diff.log" 2>&1; then
    echo "PASS tmpl.random_diff ($(tail -1 "$WORK/diff.log" | sed 's/^jinja_diff: //'))"
    pass=$((pass + 1))
else
    echo "FAIL tmpl.random_diff: $(grep -m1 -A2 '^DIFF' "$WORK/diff.log" | tr '\n' ' ' | head -c 300)"
    fail=$((fail + 1))
fi
echo "tmpl: $pass passed, $fail failed, $skip skipped (oracle threw)"
echo "templates: $ident/$ntmpl identical"
if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "work directory: $WORK"; fi
[ $fail -eq 0 ]
