"""Benchmark: preprocess 100 photos (ImageNet preset: Resize 256, CenterCrop 224, Normalize) and
save each tensor as .npy, with `cnnscope preprocess --out` and with torchvision + Pillow, in one
run; prints both wall times (process start included, best of --repeat) and the ratio, and checks
that both wrote identical tensors.

Usage: bench_preprocess.py --cnnscope BIN --work DIR [--count 100] [--repeat 3]
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "oracle"))
import sample_photos  # noqa: E402

PHOTO_SOURCES = sample_photos.all_photos()

PYTHON_PIPELINE = r"""
import os, sys
import numpy as np
from PIL import Image
from torchvision import transforms
t = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
out = sys.argv[1]
for path in sys.argv[2:]:
    x = t(Image.open(path).convert("RGB"))
    np.save(os.path.join(out, os.path.splitext(os.path.basename(path))[0] + ".npy"), x.numpy())
"""


def make_photos(work, count):
    """`count` JPEG photos of assorted sizes (crops and rescales of the sample photos)."""
    folder = os.path.join(work, "photos")
    os.makedirs(folder, exist_ok=True)
    sources = []
    for s in PHOTO_SOURCES:
        try:
            img = Image.open(s)
            img = img.convert("RGBA" if img.mode == "P" else img.mode).convert("RGB")
        except OSError:
            continue
        if min(img.size) >= 200:
            sources.append(img)
    if not sources:
        sys.exit("bench_preprocess: no sample photos found (matplotlib / scikit-image in the oracle venv)")
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        img = sources[i % len(sources)]
        w, h = img.size
        cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        scale = rng.uniform(0.8, 1.6)
        crop = img.crop((x, y, x + cw, y + ch)).resize((int(cw * scale), int(ch * scale)))
        path = os.path.join(folder, f"photo{i:03d}.jpg")
        if not os.path.exists(path):
            crop.save(path + ".tmp.jpg", quality=90)
            os.replace(path + ".tmp.jpg", path)
        paths.append(path)
    return paths


def timed(cmd, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnscope", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    work = os.path.join(a.work, "preprocess")
    photos = make_photos(work, a.count)
    ours, theirs = os.path.join(work, "cnnscope"), os.path.join(work, "torchvision")
    os.makedirs(ours, exist_ok=True)
    os.makedirs(theirs, exist_ok=True)
    t_ours = timed([a.cnnscope, "preprocess", *photos, "--preset", "imagenet", "--out", ours],
                   a.repeat)
    t_theirs = timed([sys.executable, "-c", PYTHON_PIPELINE, theirs, *photos], a.repeat)
    worst = 0.0
    for p in photos:
        name = os.path.splitext(os.path.basename(p))[0] + ".npy"
        worst = max(worst, float(np.abs(np.load(os.path.join(ours, name))
                                        - np.load(os.path.join(theirs, name))).max()))
    print(f"preprocess {len(photos)} photos (imagenet preset, .npy out), best of {a.repeat}:")
    print(f"  cnnscope             {t_ours:8.3f} s")
    print(f"  torchvision + Pillow {t_theirs:8.3f} s")
    print(f"  speed-up             {t_theirs / t_ours:8.2f}x   (max |difference| {worst})")


if __name__ == "__main__":
    main()
