"""Checkpoints from the wild, ResNet18 (torchvision, random weights): a whole-model pickle
(torch.save(model)) and a TorchScript archive (torch.jit.script + torch.jit.save), against the
Python that reads them in one run.
  load + read:  `cnnscope ls --time-load` (in-process: state_dict from the module tree, then a
                float64 sum of every tensor) vs torch.load(weights_only=False).state_dict() /
                torch.jit.load(f).state_dict() and the same sums;
  weights:      `cnnscope weights --json` (whole process: load, statistics, 100-bin histograms)
                vs the same load + numpy mean/std/min/max/l2/percentiles/histogram per tensor
                (in-process, imports not counted); also `cnnscope ls` as a whole process, the
                start-up and load that `weights` pays before its statistics.
Best of REPEATS, one thread both sides, files in the page cache.

usage: bench_wild.py --cnnscope BIN --work DIR
"""
import argparse
import os
import re
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
import torchvision

REPEATS = 5
warnings.filterwarnings("ignore")


def make_files(work):
    model_path = os.path.join(work, "resnet18_model.pth")
    script_path = os.path.join(work, "resnet18_script.pt")
    if not (os.path.exists(model_path) and os.path.exists(script_path)):
        torch.manual_seed(0)
        model = torchvision.models.resnet18().eval()
        torch.save(model, model_path + ".tmp")
        os.replace(model_path + ".tmp", model_path)
        torch.jit.save(torch.jit.script(model), script_path + ".tmp")
        os.replace(script_path + ".tmp", script_path)
    return model_path, script_path


def torch_state_dict(path):
    if path.endswith(".pt"):
        return torch.jit.load(path).state_dict()
    return torch.load(path, weights_only=False).state_dict()


def numpy_weights(sd):
    out = {}
    for k, t in sd.items():
        if k.endswith("num_batches_tracked"):
            continue
        v = t.detach().numpy().astype(np.float64).ravel()
        out[k] = (v.mean(), v.std(ddof=1), v.min(), v.max(), np.sqrt((v * v).sum()),
                  np.percentile(v, [1, 50, 99]), np.histogram(v, bins=100))
    return out


def best(f):
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        result = f()
        times.append((time.perf_counter() - t0) * 1e3)
    return min(times), result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnscope", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(1)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    print(f"ResNet18, best of {REPEATS}, 1 thread")
    for label, path in zip(("whole model (torch.save(model))", "TorchScript (torch.jit.save)"),
                           make_files(args.work)):
        def py_read():
            sd = torch_state_dict(path)
            return sum(t.double().sum().item() for t in sd.values())

        py_ms, py_sum = best(py_read)
        cs = []
        for _ in range(REPEATS):
            r = subprocess.run([args.cnnscope, "ls", path, "--time-load"], capture_output=True,
                               text=True, env=env, check=True)
            m = re.search(r"load_and_read_ms ([\d.]+) tensors (\d+) sum (\S+)", r.stderr)
            cs.append(float(m.group(1)))
            if abs(float(m.group(3)) - py_sum) > 1e-9 * max(1.0, abs(py_sum)):
                sys.exit(f"{path}: sums differ: cnnscope {m.group(3)}, torch {py_sum}")
        cs_ms = min(cs)

        py_w_ms, _ = best(lambda: numpy_weights(torch_state_dict(path)))
        cs_w_ms, _ = best(lambda: subprocess.run([args.cnnscope, "weights", path, "--json"],
                                                 capture_output=True, env=env, check=True))
        # The process start (LibTorch's shared libraries) and load alone: `ls` of the same file.
        ls_ms, _ = best(lambda: subprocess.run([args.cnnscope, "ls", path], capture_output=True,
                                               env=env, check=True))
        mb = os.path.getsize(path) / 2**20
        print(f"{label}, {mb:.1f} MB")
        print(f"  load + read  cnnscope {cs_ms:8.2f} ms   python {py_ms:8.2f} ms"
              f"   ratio {py_ms / cs_ms:5.1f}x")
        print(f"  weights      cnnscope {cs_w_ms:8.2f} ms   python {py_w_ms:8.2f} ms"
              f"   ratio {py_w_ms / cs_w_ms:5.1f}x   (cnnscope: whole process)")
        print(f"  (cnnscope ls, whole process: {ls_ms:.2f} ms; weights beyond it "
              f"{cs_w_ms - ls_ms:.2f} ms)")


if __name__ == "__main__":
    main()
