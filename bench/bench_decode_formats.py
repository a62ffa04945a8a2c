"""Benchmark: decode + preprocess (ImageNet preset) photos saved as BMP, GIF, WebP and TIFF (LZW),
with `cnnscope preprocess --out` and with Pillow + torchvision, in one run; prints both wall times
per format (process start included, best of --repeat), the ratio, and checks both wrote identical
tensors.

Usage: bench_decode_formats.py --cnnscope BIN --work DIR [--count 40] [--repeat 3]
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "oracle"))
import sample_photos  # noqa: E402
from bench_preprocess import PYTHON_PIPELINE, timed  # noqa: E402  (same pipeline, same timer)

FORMATS = {"bmp": {}, "gif": {}, "webp": {"quality": 85}, "tif": {"compression": "tiff_lzw"}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnscope", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sources = [p for p in sample_photos.all_photos() if os.path.exists(p)]
    if not sources:
        raise SystemExit("no sample photos found (oracle venv's matplotlib / scikit-image)")
    for ext, options in FORMATS.items():
        folder = os.path.join(args.work, ext)
        os.makedirs(folder, exist_ok=True)
        files = []
        for i in range(args.count):
            img = Image.open(sources[i % len(sources)]).convert("RGB")
            path = os.path.join(folder, f"photo{i:03d}.{ext}")
            img.save(path, **options)
            files.append(path)
        ours, theirs = os.path.join(args.work, ext + "_ours"), os.path.join(args.work, ext + "_py")
        os.makedirs(theirs, exist_ok=True)
        t_ours = timed([args.cnnscope, "preprocess", *files, "-o", ours], args.repeat)
        t_py = timed([sys.executable, "-c", PYTHON_PIPELINE, theirs, *files], args.repeat)
        diff = max(float(np.abs(np.load(os.path.join(ours, n)) - np.load(os.path.join(theirs, n))).max())
                   for n in os.listdir(theirs))
        print(f"{ext:5s} {args.count} photos: cnnscope {t_ours:.2f} s, Pillow+torchvision "
              f"{t_py:.2f} s ({t_py / t_ours:.1f}x), max difference {diff:g}")


if __name__ == "__main__":
    main()
