#!/usr/bin/env bash
# make bench: runs every bench/bench_*.py with the oracle venv's Python (scripts/install-deps.sh),
# each timing cnnscope and the equivalent Python/PyTorch pipeline in one run and printing the ratio.
# Arguments: the build directory (default build). PYTHON overrides the Python.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-$here/../build/oracle-venv/bin/python}
work=${BENCH_DIR:-$build/bench}
mkdir -p "$work"
for b in "$here"/bench_*.py; do
  echo "== $(basename "$b")"
  "$python" "$b" --cnnscope "$build/cnnscope" --work "$work"
done
