#!/usr/bin/env bash
# make demo: the main job on a built-in default. Part 1 trains the PyTorch 60-minute blitz CNN
# (`lenet_blitz`) on Fashion-MNIST (Debian's dataset-fashion-mnist, installed by
# scripts/install-deps.sh) with `cnnscope train` (4 epochs, about a minute on 2 cores), prints the
# test accuracy and writes the report of the trained network (learned first-layer filters, feature
# maps and predictions of test images, with class names) beside the per-epoch TensorBoard files.
# Part 2, the seed's pictures: `cnnscope init` makes the seed's AlexNet and a ResNet34 (5 flower
# classes, random weights) and `cnnscope report` writes a page for each on assets/chelsea.png.
set -euo pipefail
build=${1:-build}
cli="$build/cnnscope"
out=demo-out
photo=assets/chelsea.png
fashion=/usr/share/datasets/fashion-mnist
mkdir -p "$out"

# Part 1: a trained network. The IDX files are gunzipped once into $out/fashion-mnist.
data="$out/fashion-mnist"
run="$out/fashion-run"
if [ ! -f "$data/classes.txt" ]; then
  mkdir -p "$data"
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
    t10k-labels-idx1-ubyte; do
    gunzip -c "$fashion/$f.gz" > "$data/$f.tmp" && mv "$data/$f.tmp" "$data/$f"
  done
  printf '%s\n' T-shirt/top Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag "Ankle boot" \
    > "$data/classes.txt"
fi
if [ ! -f "$run/best.pth" ]; then
  echo "== cnnscope train --arch lenet_blitz --data $data -o $run --epochs 4 ..."
  "$cli" train --arch lenet_blitz --data "$data" -o "$run" --epochs 4 --batch-size 64 \
    --optimizer adam --lr 0.002 --augment none --threads "$(nproc)"
fi
# Four test images (t10k 0-3: ankle boot, pullover, trouser, trouser) as PNG files, written with
# Debian's python3 (standard library only) from the raw IDX bytes.
python3 - "$data/t10k-images-idx3-ubyte" "$out/fashion-test" <<'PY'
import os, struct, sys, zlib
images, folder = sys.argv[1], sys.argv[2]
os.makedirs(folder, exist_ok=True)
with open(images, "rb") as f:
    f.seek(16)
    for i in range(4):
        rows = f.read(28 * 28)
        raw = b"".join(b"\0" + rows[r * 28:(r + 1) * 28] for r in range(28))
        def chunk(kind, data):
            return (struct.pack(">I", len(data)) + kind + data +
                    struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
        png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0)) +
               chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
        with open(os.path.join(folder, f"test_{i}.png"), "wb") as out:
            out.write(png)
PY
echo "== cnnscope report $run/best.pth --image $out/fashion-test -o $out/fashion_mnist.html"
"$cli" report "$run/best.pth" --image "$out/fashion-test/test_0.png" \
  --image "$out/fashion-test/test_1.png" --image "$out/fashion-test/test_2.png" \
  --image "$out/fashion-test/test_3.png" --classes "$data/classes.txt" -o "$out/fashion_mnist.html"
accuracy=$(grep -o '"val_acc": *[0-9.]*' "$run/metrics.json" | tail -1 | grep -o '[0-9.]*$')
echo "Fashion-MNIST test accuracy after the last epoch: $accuracy (10,000 test images)"

# Part 2: the seed's networks, random weights.
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
echo "  file://$(pwd)/$out/fashion_mnist.html   (trained: learned filters, feature maps, predictions)"
echo "  file://$(pwd)/$out/alexnet_seed.html"
echo "  file://$(pwd)/$out/resnet34.html"
echo "TensorBoard (if you have it): tensorboard --logdir $out  (training curves: $run/tensorboard)"
