"""Benchmark: forward time per image (batch 1, 224x224, eval, no grad) of the seed's AlexNet, the
seed's ResNet34 and torchvision's ResNet50, cnnscope vs PyTorch Python, same thread count, in one
run. cnnscope is timed in-process by `predict --repeat N` (its stderr line "forward: X ms per
image"), Python by the same loop around model(x); both after warm-up, best of --rounds. Also
prints GFLOP/s (2 x the mult-adds `summary --json` reports) against the CPU's theoretical peak.

Usage: bench_forward.py --cnnscope BIN --work DIR [--runs 20] [--rounds 3] [--threads N]
"""
import argparse
import os
import re
import subprocess
import sys
import json
import time

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "oracle"))
import seed_models  # noqa: E402

MODELS = [
    ("seed AlexNet", "bench_alexnet_seed.pth", lambda: seed_models.AlexNet(num_classes=5,
                                                                           init_weights=True)),
    ("seed ResNet34", "bench_resnet34.pth", lambda: seed_models.resnet34(num_classes=5)),
    ("ResNet50", "bench_resnet50.pth", lambda: torchvision.models.resnet50()),
]


def python_ms(model, x, runs, rounds):
    best = float("inf")
    with torch.no_grad():
        model(x)  # warm-up, as predict's first pass
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(runs):
                model(x)
            best = min(best, (time.perf_counter() - start) / runs)
    return best * 1e3


def cnnscope_ms(args, ckpt, npy, env, extra=()):
    """predict's in-process forward time; `extra`: more flags (["--arch", A])."""
    r = subprocess.run([args.cnnscope, "predict", ckpt, "--image", npy, "--json", "--repeat",
                        str(args.runs), *extra], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"bench_forward: cnnscope failed: {r.stderr.strip()}")
    return float(re.search(r"forward: ([0-9.]+) ms per image", r.stderr).group(1))


def peak_gflops(threads):
    """Theoretical fp32 peak: threads x clock x FLOP per cycle (AVX-512: 2 FMA x 16 lanes x 2;
    AVX2+FMA: 2 x 8 x 2; else SSE: 8), from /proc/cpuinfo."""
    mhz, flags = 0.0, ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz") and not mhz:
                mhz = float(line.split(":")[1])
            elif line.startswith("flags") and not flags:
                flags = line
    per_cycle = 64 if "avx512f" in flags else 32 if ("avx2" in flags and "fma" in flags) else 8
    return threads * mhz / 1e3 * per_cycle
def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cnnscope", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    npy = os.path.join(args.work, "bench_forward_input.npy")
    np.save(npy, x[0].numpy())
    peak = peak_gflops(args.threads)
    print(f"threads {args.threads}; theoretical fp32 peak {peak:.1f} GFLOP/s")
    print(f"{'model':<14} {'PyTorch ms':>11} {'cnnscope ms':>12} {'ratio':>6} "
          f"{'GFLOP':>6} {'cnnscope GFLOP/s':>17} {'% of peak':>9}")
    for label, name, make in MODELS:
        model = make().eval()
        ckpt = os.path.join(args.work, name)
        if not os.path.exists(ckpt):
            torch.save(model.state_dict(), ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)
        model.load_state_dict(torch.load(ckpt))
        s = subprocess.run([args.cnnscope, "summary", ckpt, "--json"], capture_output=True,
                           text=True)
        gflop = 2 * json.loads(s.stdout)["mult_adds"] / 1e9
        py = cs = float("inf")
        for _ in range(args.rounds):  # alternating, so a busy machine slows both alike
            py = min(py, python_ms(model, x, args.runs, 1))
            cs = min(cs, cnnscope_ms(args, ckpt, npy, env))
        rate = gflop / (cs / 1e3)
        print(f"{label:<14} {py:11.2f} {cs:12.2f} {cs / py:6.2f} {gflop:6.2f} {rate:17.1f} "
              f"{100 * rate / peak:8.0f}%")


if __name__ == "__main__":
    main()
