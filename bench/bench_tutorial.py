"""Benchmark: the tutorial nets, cnnscope vs the Python pipeline, in one run.
(1) Forward time per image (batch 1 at the net's own input size, eval, no grad): cnnscope timed
in-process by `predict --repeat N` (stderr "forward: X ms per image"), Python by the same loop
around model(x) of the class in tests/oracle/tutorial_models.py; best of --rounds, alternating.
(2) One photo end to end, as a user runs it: `cnnscope predict CKPT --image PHOTO` (a process:
load, preset, forward, print) vs a Python process doing the same (import torch/torchvision, load
the state_dict into the class, the torchvision pipeline of the preset, forward, softmax); wall
time, best of --rounds.

Usage: bench_tutorial.py --cnnscope BIN --work DIR [--runs 200] [--rounds 3] [--threads N]
"""
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "tests", "oracle")
sys.path.insert(0, ORACLE)
from sample_photos import photos  # noqa: E402
from tutorial_models import ARCHS  # noqa: E402

# arch, input [C, H, W], the Python pipeline of its default preset
MODELS = [
    ("lenet_blitz", [3, 32, 32], "Resize(32), CenterCrop(32), ToTensor(), "
                                 "Normalize((0.5,) * 3, (0.5,) * 3)"),
    ("mnist_net", [1, 28, 28], "Grayscale(), Resize(28), CenterCrop(28), ToTensor(), "
                               "Normalize((0.1307,), (0.3081,))"),
    ("resnet56_cifar", [3, 32, 32], "Resize(32), CenterCrop(32), ToTensor(), "
                                    "Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])"),
]

PYTHON_PREDICT = """
import sys, torch
from PIL import Image
from torchvision.transforms import *
sys.path.insert(0, {oracle!r})
from tutorial_models import ARCHS
model = ARCHS[{arch!r}](10)
model.load_state_dict(torch.load({ckpt!r}, weights_only=True))
model.eval()
with Image.open({photo!r}) as im:
    x = Compose([{pipeline}])(im.convert("RGB")).unsqueeze(0)
with torch.no_grad():
    p = torch.softmax(model(x), 1)[0]
print(p.topk(5))
"""


def python_ms(model, x, runs):
    with torch.no_grad():
        model(x)
        start = time.perf_counter()
        for _ in range(runs):
            model(x)
    return (time.perf_counter() - start) / runs * 1e3


def cnnscope_ms(args, ckpt, npy, env):
    r = subprocess.run([args.cnnscope, "predict", ckpt, "--image", npy, "--json", "--repeat",
                        str(args.runs)], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"bench_tutorial: cnnscope failed: {r.stderr.strip()}")
    return float(re.search(r"forward: ([0-9.]+) ms per image", r.stderr).group(1))


def wall_ms(cmd, env):
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"bench_tutorial: {cmd[0]} failed: {r.stderr.strip()}")
    return (time.perf_counter() - start) * 1e3


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cnnscope", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    photo = photos("chelsea.png")
    if not photo:
        sys.exit("bench_tutorial: scikit-image's chelsea.png is missing")
    print(f"threads {args.threads}; photo {os.path.basename(photo[0])}")
    print(f"{'model':<15} {'forward PyTorch ms':>19} {'cnnscope ms':>12} {'ratio':>6}"
          f" {'photo Python ms':>16} {'cnnscope ms':>12} {'ratio':>6}")
    torch.manual_seed(0)
    for arch, shape, pipeline in MODELS:
        model = ARCHS[arch](10).eval()
        ckpt = os.path.join(args.work, f"bench_{arch}.pth")
        torch.save(model.state_dict(), ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
        x = torch.randn([1] + shape)
        npy = os.path.join(args.work, f"bench_{arch}_input.npy")
        np.save(npy, x[0].numpy())
        script = os.path.join(args.work, f"bench_{arch}_predict.py")
        with open(script, "w") as f:
            f.write(PYTHON_PREDICT.format(oracle=ORACLE, arch=arch, ckpt=ckpt, photo=photo[0],
                                          pipeline=pipeline))
        py = cs = py_photo = cs_photo = float("inf")
        for _ in range(args.rounds):  # alternating, so a busy machine slows both alike
            py = min(py, python_ms(model, x, args.runs))
            cs = min(cs, cnnscope_ms(args, ckpt, npy, env))
            py_photo = min(py_photo, wall_ms([sys.executable, script], env))
            cs_photo = min(cs_photo, wall_ms([args.cnnscope, "predict", ckpt, "--image",
                                              photo[0]], env))
        print(f"{arch:<15} {py:19.3f} {cs:12.3f} {cs / py:6.2f} {py_photo:16.0f} "
              f"{cs_photo:12.0f} {cs_photo / py_photo:6.2f}")


if __name__ == "__main__":
    main()
