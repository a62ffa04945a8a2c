#!/usr/bin/env bash
# make demo: the main job on a built-in default. `cnnscope init` makes the seed's AlexNet and a
# ResNet34 (5 flower classes, the seed's init), then `cnnscope report` writes one HTML page for each
# on the sample photo in assets/ (plus TensorBoard files) and the paths to open are printed.
set -euo pipefail
build=${1:-build}
cli="$build/cnnscope"
out=demo-out
photo=assets/chelsea.png
mkdir -p "$out"
printf '{"0": "daisy", "1": "dandelion", "2": "roses", "3": "sunflowers", "4": "tulips"}\n' \
  > "$out/class_indices.json"
for arch in alexnet_seed resnet34; do
  ckpt="$out/$arch.pth"
  if [ ! -f "$ckpt" ]; then
    echo "== cnnscope init $arch -o $ckpt --num-classes 5"
    "$cli" init "$arch" -o "$ckpt" --num-classes 5
  fi
  echo "== cnnscope report $ckpt --image $photo -o $out/$arch.html --tensorboard $out/tensorboard/$arch"
  "$cli" report "$ckpt" --image "$photo" --classes "$out/class_indices.json" \
    -o "$out/$arch.html" --tensorboard "$out/tensorboard/$arch"
done
echo
echo "demo: open these in a browser (self-contained, no network needed):"
echo "  file://$(pwd)/$out/alexnet_seed.html"
echo "  file://$(pwd)/$out/resnet34.html"
echo "TensorBoard (if you have it): tensorboard --logdir $out/tensorboard"
