"""Benchmark: forward time per image (batch 1, 224x224, eval, no grad, 1 thread by
default) of torchvision's mobilenet_v3_large, efficientnet_b0, regnet_y_400mf, convnext_tiny,
densenet121, resnext50_32x4d, squeezenet1_1, googlenet and inception_v3 (224x224 for all),
cnnscope vs PyTorch Python, in one run. Both run LibTorch's kernels, so the ratio measures
cnnscope's own overhead (a permute or a copy too many; goal <= 1.05). cnnscope is timed in-process
by `predict --repeat N` (its stderr line "forward: X ms per image"), Python by the same loop
around model(x); both after warm-up, rounds alternating, best of --rounds.

Usage: bench_families.py --cnnscope BIN --work DIR [--runs 20] [--rounds 5] [--threads 1]
       [--archs A,B,...]
"""
import argparse
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_forward import cnnscope_ms, python_ms  # noqa: E402

ARCHS = ["mobilenet_v3_large", "efficientnet_b0", "regnet_y_400mf", "convnext_tiny",
         "densenet121", "resnext50_32x4d", "squeezenet1_1", "googlenet", "inception_v3"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cnnscope", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--archs", default=",".join(ARCHS), help="comma-separated builders")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    npy = os.path.join(args.work, "bench_families_input.npy")
    np.save(npy, x[0].numpy())
    print(f"threads {args.threads}; batch 1, 224x224; best of {args.rounds} rounds of "
          f"{args.runs}")
    print(f"{'model':<20} {'PyTorch ms':>11} {'cnnscope ms':>12} {'ratio':>6}")
    for arch in args.archs.split(","):
        model = getattr(torchvision.models, arch)().eval()
        if hasattr(model, "transform_input"):
            model.transform_input = True  # as cnnscope by default (torchvision's pretrained)
        ckpt = os.path.join(args.work, f"bench_{arch}.pth")
        if not os.path.exists(ckpt):
            torch.save(model.state_dict(), ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)
        model.load_state_dict(torch.load(ckpt))
        py = cs = float("inf")
        for _ in range(args.rounds):  # alternating, so a busy machine slows both alike
            py = min(py, python_ms(model, x, args.runs, 1))
            cs = min(cs, cnnscope_ms(args, ckpt, npy, env))
        print(f"{arch:<20} {py:11.2f} {cs:12.2f} {cs / py:6.2f}")


if __name__ == "__main__":
    main()
