"""Benchmark: forward time per image (batch 1, eval, no grad, 1 thread by default) of the networks
cnnscope knows under other libraries' key names (issue 27's layouts: timm's, the seed series'
model.py files, the official ConvNeXt), cnnscope vs the same network in PyTorch Python, in one run.
Both run LibTorch's kernels, so the ratio is cnnscope's own overhead, the rename table's included
(goal <= 1.05). Each network is random-init, saved with its own state_dict() names and run by
cnnscope from the keys alone (or with --arch where the keys fit several archs alike). cnnscope is
timed in-process by `predict --repeat N`, Python by the same loop around model(x); rounds
alternate, best of --rounds.

Usage: bench_layouts.py --cnnscope BIN --work DIR [--runs 20] [--rounds 5] [--threads 1]
       [--archs timm/resnet50d,...]
"""
import argparse
import os
import sys

import numpy as np
import timm
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "tests", "oracle"))
from bench_forward import cnnscope_ms, python_ms  # noqa: E402

# cnnscope's arch name -> (the network in Python, input size, --arch needed)
TIMM = ["resnet50d", "seresnext50_32x4d", "efficientnet_b0", "tf_efficientnet_b0", "mobilenetv3_small_100",
        "tf_efficientnetv2_s", "mobilenetv2_100", "mobilenetv3_large_100", "convnext_tiny",
        "regnety_016", "densenet121", "inception_v3"]
NAMED = {"tf_efficientnet_b0", "efficientnet_b0", "inception_v3"}  # keys fit another arch too


def timm_model(name):
    return timm.create_model(name, pretrained=False, num_classes=1000).eval()


def seed_models():
    """The seed series' networks, from the oracle's classes (tests/oracle/seed_layouts_*.py)."""
    out = {}
    try:
        import seed_layouts_googlenet as g
        out["seed/googlenet"] = lambda: g.GoogLeNet(num_classes=1000, aux_logits=False)
    except (ImportError, AttributeError):
        pass
    try:
        import seed_layouts_efficientnet as e
        out["seed/efficientnet_b0"] = lambda: e.efficientnet_b0(num_classes=1000)
    except (ImportError, AttributeError):
        pass
    try:
        import seed_layouts_convnext as c
        out["seed/convnext_tiny"] = lambda: c.official_convnext("convnext_tiny", 1000)
        out["seed/regnety_400mf"] = lambda: c.SeedRegNet("regnety_400mf", 1000)
    except (ImportError, AttributeError):
        pass
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cnnscope", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--archs", default="", help="comma-separated cnnscope arch names")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    makers = {f"timm/{n}": (lambda n=n: timm_model(n)) for n in TIMM}
    makers.update(seed_models())
    archs = args.archs.split(",") if args.archs else list(makers)
    print(f"threads {args.threads}; batch 1, 224x224 (inception_v3 299x299); best of "
          f"{args.rounds} rounds of {args.runs}")
    print(f"{'network':<28} {'PyTorch ms':>11} {'cnnscope ms':>12} {'ratio':>6}")
    for arch in archs:
        torch.manual_seed(0)
        model = makers[arch]().eval()
        size = 299 if "inception" in arch else 224
        x = torch.randn(1, 3, size, size)
        npy = os.path.join(args.work, f"bench_layouts_input_{size}.npy")
        np.save(npy, x[0].numpy())
        ckpt = os.path.join(args.work, "bench_layouts_" + arch.replace("/", "_") + ".pth")
        torch.save(model.state_dict(), ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
        extra = ["--arch", arch] if arch.split("/")[-1] in NAMED else []
        py = cs = float("inf")
        for _ in range(args.rounds):  # alternating, so a busy machine slows both alike
            py = min(py, python_ms(model, x, args.runs, 1))
            cs = min(cs, cnnscope_ms(args, ckpt, npy, env, extra))
        print(f"{arch:<28} {py:11.2f} {cs:12.2f} {cs / py:6.2f}")


if __name__ == "__main__":
    main()
