#!/usr/bin/env bash
# make bench: runs every bench/bench_*.py, each timing cnnscope and the equivalent Python/PyTorch
# pipeline in one run and printing the ratio. Arguments: the build directory (default build).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=${BENCH_DIR:-$build/bench}
mkdir -p "$work"
for b in "$here"/bench_*.py; do
  echo "== $(basename "$b")"
  /usr/bin/python3 "$b" --cnnscope "$build/cnnscope" --work "$work"
done
