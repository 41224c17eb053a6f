#!/usr/bin/env bash
# deps.sh: installs what frugal needs on a Debian machine, only what is missing:
#   build: gcc, make, pkg-config, libpcre2-dev, libjansson-dev, libmicrohttpd-dev, libedit-dev
#   tests (with --test): clang + libclang-rt-14-dev (fuzzing, sanitizers), nodejs + npm, and
#   the npm oracles in tests/oracle/node_modules (llama.cpp via node-llama-cpp, prebuilt).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

pkgs="gcc make pkg-config libpcre2-dev libjansson-dev libmicrohttpd-dev libedit-dev"
[ $want_test = 1 ] && pkgs="$pkgs clang libclang-rt-14-dev nodejs npm"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node/npm may come from elsewhere than Debian's packages: accept working binaries
if [ $want_test = 1 ] && command -v node >/dev/null && command -v npm >/dev/null; then
    missing=$(echo "$missing" | sed -e 's/ nodejs//' -e 's/ npm//')
fi
if [ -n "${missing// /}" ]; then
    echo "deps: installing Debian packages:$missing"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi

if [ $want_test = 1 ]; then
    nm="$root/tests/oracle/node_modules"
    if [ ! -f "$nm/node-llama-cpp/package.json" ] || [ ! -f "$nm/@huggingface/jinja/package.json" ] ||
       [ ! -d "$nm/@node-llama-cpp/linux-x64/bins" ] || [ ! -f "$nm/openai/package.json" ]; then
        echo "deps: installing npm oracles into tests/oracle/node_modules"
        (cd "$root/tests/oracle" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional \
            --no-audit --no-fund --loglevel=error >/dev/null)
    fi
    # The AMX ("sapphirerapids") CPU variant of this llama.cpp build aborts on some F16/Q8_0
    # models; the correctness oracle uses the next best variant. (bench/ keeps its own copy.)
    find "$nm/@node-llama-cpp" -name 'libggml-cpu-sapphirerapids.so' -exec mv {} {}.disabled \; 2>/dev/null || true
fi
