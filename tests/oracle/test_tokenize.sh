#!/bin/sh
# test_tokenize.sh: frugal's tokenizer against llama.cpp's (node-llama-cpp) on a generated
# corpus of > 100 KB (tests/oracle/corpus_gen.mjs), for every vocab GGUF in ../shared/vocab
# and for frugal's generated vocabularies. Prints one line per vocab:
#   PASS tok-oracle.<vocab>   |   FAIL tok-oracle.<vocab>: <cases>   |   SKIP tok-oracle...: why
# Cases per vocab (all with add_special = false, as node-llama-cpp's model.tokenize does):
#   corpus    corpus.txt, parse_special = false
#   special   specials.txt with parse_special = true, and nospecial with it false
#   invalid   invalid.bin: byte-level BPE gets the raw bytes (llama.cpp gets the text after
#             TextDecoder, which for these byte kinds equals llama.cpp's own per-byte U+FFFD
#             replacement); SPM vocabs get the U+FFFD text on both sides (their raw-byte
#             handling is byte fallback, which a JS string cannot carry to llama.cpp)
#   long      long single words (letters, digits, emoji, spaces, newlines)
#   detok     llama.cpp's ids for corpus.txt decoded by both (llama_detokenize, specials
#             hidden), and dspecial: the ids of specials.txt decoded with specials rendered
# env: FRUGAL (binary, default build/frugal), FRUGAL_SHARED (default ../shared),
#      FRUGAL_NODE_MODULES (default tests/oracle/node_modules), TOK_ORACLE_KEEP=1 keeps the
#      work directory.
set -u
cd "$(dirname "$0")/../.." || exit 2
FRUGAL=${FRUGAL:-build/frugal}
SHARED=${FRUGAL_SHARED:-../shared}
NM=${FRUGAL_NODE_MODULES:-tests/oracle/node_modules}
export FRUGAL_NODE_MODULES="$NM"

if ! command -v node >/dev/null 2>&1; then echo "SKIP tok-oracle: node not installed"; exit 0; fi
if [ ! -f "$NM/node-llama-cpp/dist/index.js" ]; then echo "SKIP tok-oracle: node-llama-cpp not found in $NM"; exit 0; fi
if [ ! -x "$FRUGAL" ]; then echo "FAIL tok-oracle: $FRUGAL not built"; exit 1; fi

work=$(mktemp -d /tmp/frugal-tok-oracle.XXXXXX)
[ "${TOK_ORACLE_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
node tests/oracle/corpus_gen.mjs "$work/c" >/dev/null || { echo "FAIL tok-oracle: corpus_gen.mjs failed"; exit 1; }

vocabs=""
if [ -d "$SHARED/vocab" ]; then
    for f in "$SHARED"/vocab/ggml-vocab-*.gguf; do [ -f "$f" ] && vocabs="$vocabs $f"; done
else
    echo "SKIP tok-oracle.shared: $SHARED/vocab not present"
fi
for g in gpt2:qwen2:4096 gpt2:llama-bpe:2048 gpt2:deepseek-v3:3000 gpt2:deepseek-llm:1500 \
         gpt2:gpt-2:1024 gpt2:starcoder:800 gpt2:kimi-k2:2000 gpt2:qwen35:1500 gpt2:gpt-4o:1500 \
         gpt2:tekken:1500 gpt2:command-r:1200 gpt2:default:1000 llama:2048 llama:300; do
    out="$work/gen-$(echo "$g" | tr ':' '-').gguf"
    if "$FRUGAL" tokenize --gen-vocab "$g" --out "$out" 2>"$work/err"; then
        vocabs="$vocabs $out"
    else
        echo "FAIL tok-oracle.gen-$g: cannot generate: $(cat "$work/err")"
    fi
done

# node-llama-cpp's binding self-test can time out on a loaded machine: one retry
oracle() { node tests/oracle/tokenize_oracle.mjs "$@" || { sleep 2; node tests/oracle/tokenize_oracle.mjs "$@"; }; }

fails=0
for f in $vocabs; do
    name=$(basename "$f" .gguf | sed 's/^ggml-vocab-//')
    info=$("$FRUGAL" tokenize -m "$f" --info 2>&1)
    case "$info" in
        model=*) ;;
        *unsupported*|*"not supported"*) echo "SKIP tok-oracle.$name: $info"; continue ;;
        *) echo "FAIL tok-oracle.$name: cannot load: $info"; fails=$((fails + 1)); continue ;;
    esac
    d="$work/$name"
    mkdir -p "$d"
    case "$info" in model=llama*) inv="$work/c/invalid_replaced.txt" ;; *) inv="$work/c/invalid.bin" ;; esac
    if ! oracle "$f" \
            "$work/c/corpus.txt:$d/o.corpus" "$work/c/specials.txt:$d/o.special:special" \
            "$work/c/specials.txt:$d/o.nospecial" "$work/c/invalid.bin:$d/o.invalid" \
            "$work/c/long.txt:$d/o.long" >"$d/node.log" 2>&1 ||
       ! oracle "$f" "detok:$d/o.corpus:$d/o.detok" \
            "detok:$d/o.special:$d/o.dspecial:special" >>"$d/node.log" 2>&1; then
        echo "FAIL tok-oracle.$name: node-llama-cpp failed: $(tail -c 300 "$d/node.log")"
        fails=$((fails + 1))
        continue
    fi
    bad=""
    run() { # case input extra-flags
        if ! "$FRUGAL" tokenize -m "$f" --no-special --file "$2" $3 >"$d/f.$1" 2>"$d/f.$1.err"; then
            bad="$bad $1(error: $(head -c 200 "$d/f.$1.err"))"
        elif ! cmp -s "$d/f.$1" "$d/o.$1"; then
            case "$1" in d*) bad="$bad $1($(cmp "$d/f.$1" "$d/o.$1" 2>&1 | head -c 120))"; return ;; esac
            nf=$(wc -w <"$d/f.$1"); no=$(wc -w <"$d/o.$1")
            first=$(tr ' ' '\n' <"$d/f.$1" | cmp - "$(tr ' ' '\n' <"$d/o.$1" >"$d/o.$1.l"; echo "$d/o.$1.l")" 2>/dev/null | sed 's/.*line //')
            bad="$bad $1(frugal $nf ids, llama.cpp $no, first difference at token ${first:-?})"
        fi
    }
    run corpus "$work/c/corpus.txt" ""
    run special "$work/c/specials.txt" "--parse-special"
    run nospecial "$work/c/specials.txt" ""
    run invalid "$inv" ""
    run long "$work/c/long.txt" ""
    run detok "$d/o.corpus" "--detokenize"
    run dspecial "$d/o.special" "--detokenize --parse-special"
    if [ -z "$bad" ]; then
        echo "PASS tok-oracle.$name ($(wc -w <"$d/o.corpus") corpus tokens)"
    else
        echo "FAIL tok-oracle.$name:$bad"
        fails=$((fails + 1))
    fi
done
[ "$fails" = 0 ]
