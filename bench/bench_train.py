"""Benchmark: seconds per training epoch and images/s of `cnnscope train` against the equivalent
PyTorch script (same network, data, batch, optimizer, threads, the validation transform for
training as `--augment none`, a DataLoader with 2 workers), in one run, and the ratio (goal <= 1.0).
The data set is generated: C classes of S x S noisy colour PNGs in an ImageFolder tree. cnnscope's
time is its metrics.json `seconds` (the training part of the epoch, validation left out), PyTorch's
the same loop timed around the batches.

Usage: bench_train.py --cnnscope BIN --work DIR [--arch lenet_seed] [--size 32] [--images 2000]
       [--batch 32] [--threads N]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "oracle"))
import tutorial_models  # noqa: E402

CLASSES = 4


def make_data(root, images, size):
    rng = np.random.default_rng(0)
    colours = rng.integers(40, 216, (CLASSES, 3))
    for split, n in (("train", images), ("val", max(CLASSES, images // 10))):
        for c in range(CLASSES):
            folder = os.path.join(root, split, f"class{c}")
            os.makedirs(folder, exist_ok=True)
            for i in range(n // CLASSES):
                path = os.path.join(folder, f"{i:05d}.png")
                if not os.path.exists(path):
                    px = np.clip(colours[c] + rng.integers(-50, 51, (size, size, 3)), 0, 255)
                    Image.fromarray(px.astype(np.uint8)).save(path)


def python_epoch(model, root, size, batch, lr):
    tf = transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor(),
                             transforms.Normalize([0.5] * 3, [0.5] * 3)])
    data = torchvision.datasets.ImageFolder(os.path.join(root, "train"), transform=tf)
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, num_workers=2)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    start = time.perf_counter()
    for x, y in loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return time.perf_counter() - start, len(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnscope", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--arch", default="lenet_seed")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    root = os.path.join(a.work, "bench_train_data")
    make_data(root, a.images, a.size)
    run = os.path.join(a.work, "bench_train_run")
    subprocess.run([a.cnnscope, "train", "--arch", a.arch, "--data", root, "-o", run, "--epochs",
                    "1", "--batch-size", str(a.batch), "--augment", "none", "--input-size",
                    str(a.size), "--threads", str(a.threads)], check=True, capture_output=True)
    with open(os.path.join(run, "metrics.json")) as f:
        ours = json.load(f)["epochs"][-1]
    if a.arch == "lenet_seed":
        model = tutorial_models.LeNet(num_classes=CLASSES)
    else:
        model = getattr(torchvision.models, a.arch)(num_classes=CLASSES)
    seconds, n = python_epoch(model, root, a.size, a.batch, 2e-4)
    print(f"{a.arch} {a.size}x{a.size}, {n} images, batch {a.batch}, {a.threads} threads")
    print(f"cnnscope: {ours['seconds']:.2f} s/epoch, {ours['images_per_second']:.1f} images/s")
    print(f"PyTorch:  {seconds:.2f} s/epoch, {n / seconds:.1f} images/s")
    print(f"ratio cnnscope/PyTorch: {ours['seconds'] / seconds:.2f}x")


if __name__ == "__main__":
    main()
