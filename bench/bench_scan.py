"""Benchmark: `cnnscope scan` images/s on a few hundred photos vs the PyTorch script one would write
by hand (PIL decoding + torchvision transforms, forward hooks on the same layers, per-channel
count/mean/M2/min/max/positive count in float64, top-k spatial maxima with argmax positions), and vs
cnnscope's own pure forward throughput (`predict --repeat`, batch 1) on the same network. Same
thread count for both, alternating rounds, best of --rounds. The photos are the oracle venv's
sample photos, cropped and resized into N different images in class folders.

Usage: bench_scan.py --cnnscope BIN --work DIR [--images 300] [--rounds 2] [--threads N]
       [--arch resnet18] [--layers layer1,layer2,layer3,layer4] [--size 320x240]
"""
import argparse
import os
import re
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

TOPK = 9


def make_images(folder, n, size):
    photos = [Image.open(p).convert("RGB") for p in sample_photos.photos(
        "grace_hopper.jpg", "chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg")]
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        src = photos[i % len(photos)]
        w, h = src.size
        cw, ch = int(w * rng.uniform(0.5, 1)), int(h * rng.uniform(0.5, 1))
        x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        im = src.crop((x0, y0, x0 + cw, y0 + ch)).resize(size)
        d = os.path.join(folder, "class%d" % (i % 4))
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "img%04d.jpg" % i)
        if not os.path.exists(path):
            im.save(path, quality=90)
        paths.append(path)
    return sorted(paths)


def python_scan(model, paths, layers, batch):
    """The hand-written PyTorch equivalent of scan's statistics and top-k."""
    tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                             transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    modules = dict(model.named_modules())
    stats = {n: None for n in layers}
    state = {"first": 0}

    def hook(name):
        def fn(m, i, o):
            x = o.detach().double()  # [B, C, H, W]
            b, c = x.shape[:2]
            rows = x.transpose(0, 1).reshape(c, -1)
            n = rows.shape[1]
            mean = rows.mean(1)
            m2 = ((rows - mean[:, None]) ** 2).sum(1)
            part = [n, mean, m2, rows.amin(1), rows.amax(1), (rows > 0).sum(1)]
            flat = o.detach().reshape(b, c, -1)
            val, pos = flat.max(2)  # [B, C]
            idx = torch.arange(state["first"], state["first"] + b)[:, None].expand(b, c)
            s = stats[name]
            if s is None:
                stats[name] = part + [val, idx, pos]
                return
            na, nb = s[0], n
            delta = mean - s[1]
            s[1] = s[1] + delta * nb / (na + nb)
            s[2] = s[2] + m2 + delta ** 2 * na * nb / (na + nb)
            s[0] = na + nb
            s[3], s[4], s[5] = torch.minimum(s[3], part[3]), torch.maximum(s[4], part[4]), \
                s[5] + part[5]
            v, i2, p = torch.cat([s[6], val]), torch.cat([s[7], idx]), torch.cat([s[8], pos])
            order = v.argsort(0, descending=True)[:TOPK]
            s[6], s[7], s[8] = v.gather(0, order), i2.gather(0, order), p.gather(0, order)
        return fn

    handles = [modules[n].register_forward_hook(hook(n)) for n in layers]
    with torch.no_grad():
        for first in range(0, len(paths), batch):
            x = torch.stack([tf(Image.open(p).convert("RGB")) for p in paths[first:first + batch]])
            state["first"] = first
            model(x)
    for h in handles:
        h.remove()
    return stats


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cnnscope", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--images", type=int, default=300)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--size", default="320x240", help="photo size WxH")
    p.add_argument("--layers", default="layer1,layer2,layer3,layer4")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    size = tuple(int(v) for v in args.size.split("x"))
    folder = os.path.join(args.work, "scan_images_" + args.size)
    paths = make_images(folder, args.images, size)
    torch.manual_seed(0)
    model = getattr(torchvision.models, args.arch)().eval()
    ckpt = os.path.join(args.work, "bench_scan_%s.pth" % args.arch)
    if not os.path.exists(ckpt):
        torch.save(model.state_dict(), ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
    model.load_state_dict(torch.load(ckpt))
    layers = args.layers.split(",")
    npy = os.path.join(args.work, "bench_scan_input.npy")
    np.save(npy, torch.randn(3, 224, 224).numpy())

    py = cs = fw = float("inf")
    for _ in range(args.rounds):  # alternating, so a busy machine slows all alike
        start = time.perf_counter()
        python_scan(model, paths, layers, args.batch)
        py = min(py, time.perf_counter() - start)
        start = time.perf_counter()
        r = subprocess.run([args.cnnscope, "scan", ckpt, "--images", folder, "--layers",
                            args.layers, "--topk", str(TOPK), "--batch", str(args.batch),
                            "--threads", str(args.threads), "-o",
                            os.path.join(args.work, "scan_out")],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            sys.exit("bench_scan: cnnscope scan failed: " + r.stderr.strip())
        cs = min(cs, time.perf_counter() - start)
        r = subprocess.run([args.cnnscope, "predict", ckpt, "--image", npy, "--json", "--repeat",
                            "20"], capture_output=True, text=True, env=env)
        ms = float(re.search(r"forward: ([0-9.]+) ms per image", r.stderr).group(1))
        fw = min(fw, ms / 1e3)
    n = len(paths)
    print(f"{args.arch}, layers {args.layers}, {n} photos {args.size} JPEG, batch {args.batch}, "
          f"threads {args.threads}")
    print(f"PyTorch hooks script   {n / py:8.1f} images/s")
    print(f"cnnscope scan          {n / cs:8.1f} images/s   {py / cs:.2f}x PyTorch")
    print(f"cnnscope forward only  {1 / fw:8.1f} images/s   scan is {fw * n / cs:.2f} of it "
          f"(predict --repeat, batch 1)")


if __name__ == "__main__":
    main()
