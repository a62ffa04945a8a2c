"""Benchmark: `cnnscope similarity` (linear CKA, minibatch estimator) between resnet18's four
stages over 1,000 photos vs the PyTorch script one would write (PIL decoding + torchvision
transforms, forward hooks on the same layers, per-minibatch Gram matrices and HSIC terms in numpy
float64, CKA from the sums); both give the same 4x4 matrix (checked, 1e-6). Same thread count,
alternating rounds, best of --rounds. Then cnnscope's peak resident memory (the child's
ru_maxrss) over 1,000 and 5,000 images: the estimator keeps one minibatch, so it should not grow.

Usage: bench_similarity.py --cnnscope BIN --work DIR [--images 1000] [--many 5000] [--rounds 2]
       [--threads N] [--size 64]
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
import sample_photos  # noqa: E402
from cka_reference import gram, hsic  # noqa: E402

LAYERS = ["layer1", "layer2", "layer3", "layer4"]


def make_images(folder, n, size):
    photos = [Image.open(p).convert("RGB") for p in sample_photos.photos(
        "grace_hopper.jpg", "chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg")]
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        path = os.path.join(folder, "img%05d.jpg" % i)
        if os.path.exists(path):
            continue
        src = photos[i % len(photos)]
        w, h = src.size
        cw, ch = int(w * rng.uniform(0.3, 1)), int(h * rng.uniform(0.3, 1))
        x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        src.crop((x0, y0, x0 + cw, y0 + ch)).resize((size, size)).save(path, quality=90)
    return folder


def python_similarity(model, folder, size, batch):
    """The hand-written PyTorch + numpy equivalent: minibatch linear CKA between LAYERS."""
    tf = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size),
                             transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder))
    modules = dict(model.named_modules())
    acts = {}
    handles = [modules[n].register_forward_hook(
        lambda m, i, o, n=n: acts.__setitem__(n, o.detach().numpy())) for n in LAYERS]
    L = len(LAYERS)
    kl = np.zeros((L, L))
    with torch.no_grad():
        for first in range(0, len(paths), batch):
            x = torch.stack([tf(Image.open(p).convert("RGB")) for p in paths[first:first + batch]])
            model(x)
            grams = [gram(acts[n]) for n in LAYERS]
            for i in range(L):
                for j in range(i, L):
                    kl[i, j] += hsic(grams[i], grams[j])
    for h in handles:
        h.remove()
    d = np.sqrt(np.diag(kl))
    return np.triu(kl / np.outer(d, d)) + np.triu(kl / np.outer(d, d), 1).T


def similarity_cmd(args, ckpt, folder, out):
    return [args.cnnscope, "similarity", ckpt, "--images", folder, "--layers", ",".join(LAYERS),
            "--preset", "imagenet", "--resize", str(args.size), "--crop", str(args.size),
            "--batch", str(args.batch),
            "--threads", str(args.threads), "-o", out]


def run_cnnscope(args, ckpt, folder, env, out):
    """Runs similarity; returns (seconds, the JSON)."""
    start = time.perf_counter()
    r = subprocess.run(similarity_cmd(args, ckpt, folder, out) + ["--json"], capture_output=True,
                       text=True, env=env)
    seconds = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit("bench_similarity: cnnscope similarity failed: " + r.stderr.strip())
    return seconds, json.loads(r.stdout)


def peak_rss_mb(args, ckpt, folder, env, out):
    """Peak resident memory of one run: ru_maxrss of a fresh Python's only child."""
    cmd = [sys.executable, "-c",
           "import resource,subprocess,sys;subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,"
           "check=True);print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
           *similarity_cmd(args, ckpt, folder, out)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("bench_similarity: " + r.stderr.strip())
    return int(r.stdout.strip()) / 1024


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cnnscope", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--many", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--size", type=int, default=64)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    folder = make_images(os.path.join(args.work, "similarity_%d" % args.images), args.images,
                         args.size)
    torch.manual_seed(0)
    model = torchvision.models.resnet18().eval()
    ckpt = os.path.join(args.work, "bench_similarity_resnet18.pth")
    if not os.path.exists(ckpt):
        torch.save(model.state_dict(), ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
    out = os.path.join(args.work, "similarity_out")
    py = cs = float("inf")
    for _ in range(args.rounds):  # alternating, so a busy machine slows both alike
        start = time.perf_counter()
        want = python_similarity(model, folder, args.size, args.batch)
        py = min(py, time.perf_counter() - start)
        seconds, doc = run_cnnscope(args, ckpt, folder, env, out)
        cs = min(cs, seconds)
    diff = np.abs(np.array(doc["cka"]) - want).max()
    if diff > 1e-6:
        sys.exit(f"bench_similarity: cnnscope and the script differ by {diff:.2e}")
    n = args.images
    print(f"resnet18 {','.join(LAYERS)}, {n} photos {args.size}x{args.size} JPEG, linear CKA, "
          f"batch {args.batch}, threads {args.threads}; matrices agree within {diff:.1e}")
    print(f"PyTorch hooks + numpy  {n / py:8.1f} images/s")
    print(f"cnnscope similarity    {n / cs:8.1f} images/s   {py / cs:.2f}x PyTorch")
    many = make_images(os.path.join(args.work, "similarity_%d" % args.many), args.many, args.size)
    small, large = (peak_rss_mb(args, ckpt, f, env, out) for f in (folder, many))
    print(f"peak RSS: {small:.0f} MB over {n} images, {large:.0f} MB over {args.many} images")


if __name__ == "__main__":
    main()
