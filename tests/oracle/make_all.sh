#!/usr/bin/env bash
# Makes every test fixture at test time: runs each tests/oracle/make_*.py with Debian's Python
# (python3-torch, -torchvision, -pil, -numpy) into the fixture directory given as $1.
set -euo pipefail
out=${1:?usage: make_all.sh FIXTURE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
for script in "$here"/make_*.py; do
  echo "oracle: $(basename "$script")"
  /usr/bin/python3 "$script" "$out"
done
