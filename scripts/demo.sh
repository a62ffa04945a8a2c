#!/usr/bin/env bash
# make demo: saves the seed's AlexNet (tests/oracle/seed_models.py) with torch.save, then runs
# `cnnscope ls` and `cnnscope convert` on it and says where the results are.
set -euo pipefail
build=${1:-build}
out=demo-out
mkdir -p "$out"
ckpt="$out/AlexNet.pth"
if [ ! -f "$ckpt" ]; then
  echo "demo: saving the seed's AlexNet state_dict to $ckpt (Python, once)"
  /usr/bin/python3 - "$ckpt" <<'PY'
import os, sys
import torch
sys.path.insert(0, "tests/oracle")
import seed_models
torch.manual_seed(0)
path = sys.argv[1]
torch.save(seed_models.AlexNet().state_dict(), path + ".tmp.pth")
os.replace(path + ".tmp.pth", path)
PY
fi
echo "== cnnscope ls $ckpt"
"$build/cnnscope" ls "$ckpt" | tee "$out/ls.txt"
"$build/cnnscope" ls "$ckpt" --json > "$out/ls.json"
echo "== cnnscope convert $ckpt $out/AlexNet.safetensors"
"$build/cnnscope" convert "$ckpt" "$out/AlexNet.safetensors"
"$build/cnnscope" convert "$out/AlexNet.safetensors" "$out/AlexNet-roundtrip.pth"
echo "demo: results in $out/ (ls.txt, ls.json, AlexNet.safetensors, AlexNet-roundtrip.pth)"
