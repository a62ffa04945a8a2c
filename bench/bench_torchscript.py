"""Benchmark: TorchScript archives (scripted and traced ResNet18 and mobilenet_v2, random init),
cnnscope vs Python's torch.jit.load + forward, same thread count, in one run. Per archive: the
forward per image (batch 1, 224x224, eval, no grad; cnnscope's `predict --repeat N` stderr line
"forward: X ms per image", Python the same loop around model(x), best of --rounds, after
warm-up), and the whole `features --layers L1,L2,L3 --npy` command (load, op check, forward with
three taps, .npy and figures written) against a Python script that loads the archive's weights
into the eager torchvision model (Python cannot hook a ScriptModule), hooks the same modules and
saves the .npy files (process start included on both sides).

Usage: bench_torchscript.py --cnnscope BIN --work DIR [--runs 20] [--rounds 3] [--threads N]
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_forward import python_ms  # noqa: E402

MODELS = [
    ("resnet18", torchvision.models.resnet18, ["layer1", "layer2.0.conv1", "layer4"]),
    ("mobilenet_v2", torchvision.models.mobilenet_v2, ["features.1", "features.7", "features.18"]),
]

# Python cannot hook a ScriptModule's submodules (register_forward_hook is not supported on
# ScriptModules), so its side is what a user with the source does: the eager torchvision model,
# the archive's weights loaded into it, forward hooks, np.save.
PYTHON_FEATURES = """
import sys, numpy as np, torch, torchvision
torch.set_num_threads(int(sys.argv[4]))
m = getattr(torchvision.models, sys.argv[6])().eval()
m.load_state_dict(torch.jit.load(sys.argv[1]).state_dict())
x = torch.from_numpy(np.load(sys.argv[2]))[None]
names = sys.argv[3].split(",")
mods = dict(m.named_modules())
got = {}
for n in names:
    mods[n].register_forward_hook(lambda mod, i, o, n=n: got.__setitem__(n, o.clone()))
with torch.no_grad():
    m(x)
for n in names:
    np.save(sys.argv[5] + "/" + n + ".npy", got[n][0].numpy())
"""


def timed(cmd, env):
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"bench_torchscript: {cmd[0]} failed: {r.stderr.strip()[-500:]}")
    return time.perf_counter() - start, r


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
    npy = os.path.join(args.work, "bench_ts_input.npy")
    np.save(npy, x[0].numpy())
    print(f"threads {args.threads}")
    print(f"{'archive':<22} {'PyTorch ms':>11} {'cnnscope ms':>12} {'ratio':>6}   "
          f"{'features: Python s':>18} {'cnnscope s':>11} {'ratio':>6}")
    for name, make, layers in MODELS:
        model = make().eval()
        for how in ("script", "trace"):
            archive = os.path.join(args.work, f"bench_ts_{name}_{how}.pt")
            if not os.path.exists(archive):
                with torch.no_grad():
                    scripted = torch.jit.script(model) if how == "script" else \
                        torch.jit.trace(model, x)
                scripted.save(archive + ".tmp")
                os.replace(archive + ".tmp", archive)
            loaded = torch.jit.load(archive).eval()
            py = python_ms(loaded, x, args.runs, args.rounds)
            _, r = timed([args.cnnscope, "predict", archive, "--image", npy, "--json", "--repeat",
                          str(args.runs)], env)
            cs = float(re.search(r"forward: ([0-9.]+) ms per image", r.stderr).group(1))
            out = os.path.join(args.work, f"feats_{name}_{how}")
            os.makedirs(out + "_py", exist_ok=True)
            py_s, _ = timed([sys.executable, "-c", PYTHON_FEATURES, archive, npy, ",".join(layers),
                             str(args.threads), out + "_py", name], env)
            cs_s, _ = timed([args.cnnscope, "features", archive, "--image", npy, "--layers",
                             ",".join(layers), "--npy", "-o", out], env)
            print(f"{name + ' ' + how:<22} {py:11.2f} {cs:12.2f} {py / cs:6.2f}   "
                  f"{py_s:18.2f} {cs_s:11.2f} {py_s / cs_s:6.2f}")
    print("ratio = Python / cnnscope (above 1: cnnscope faster)")


if __name__ == "__main__":
    main()
