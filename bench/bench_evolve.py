"""Benchmark: `cnnscope evolve` over a series of ResNet18 checkpoints with figures, against the
equivalent Python pipeline in one run (torch.load + numpy float64 statistics and shared-bin
histograms + matplotlib Agg figures: drift curves per layer, a step x bin heat map per weight
tensor, the first conv's kernels per step), and `cnnscope diff` of the first and last against
torch.load + numpy. Peak memory (max RSS) of each side is printed too: cnnscope keeps at most
two checkpoints loaded.

usage: bench_evolve.py --cnnscope BIN --work DIR [--checkpoints 20]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

PYTHON_EVOLVE = r'''
import glob, os, re, sys, time
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
files = sorted(glob.glob(os.path.join(sys.argv[1], "*.pth")),
               key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[-1]))
out = sys.argv[2]
os.makedirs(os.path.join(out, "histograms"), exist_ok=True)
os.makedirs(os.path.join(out, "filters"), exist_ok=True)
names, first, prev, stats, lo, hi = None, None, None, {}, {}, {}
for i, f in enumerate(files):
    sd = torch.load(f)
    if names is None:
        names = [k for k in sd if not k.endswith("num_batches_tracked")]
        first = {k: sd[k].double().numpy().ravel().copy() for k in names}
    for k in names:
        x = sd[k].double().numpy().ravel()
        s = stats.setdefault(k, {"mean": [], "std": [], "l2": [], "first": [], "prev": []})
        s["mean"].append(x.mean()); s["std"].append(x.std(ddof=1) if x.size > 1 else np.nan)
        s["l2"].append(np.linalg.norm(x))
        n0 = np.linalg.norm(first[k])
        s["first"].append(np.linalg.norm(x - first[k]) / n0 if n0 > 0 else np.nan)
        if prev is not None:
            n1 = np.linalg.norm(prev[k])
            s["prev"].append(np.linalg.norm(x - prev[k]) / n1 if n1 > 0 else np.nan)
        lo[k] = min(lo.get(k, np.inf), x.min()); hi[k] = max(hi.get(k, -np.inf), x.max())
    prev = {k: sd[k].double().numpy().ravel().copy() for k in names}
counts = {k: [] for k in names}
for i, f in enumerate(files):
    sd = torch.load(f)
    for k in names:
        c, edges = np.histogram(sd[k].double().numpy().ravel(), bins=50, range=(lo[k], hi[k]))
        counts[k].append(c)
    w = sd["conv1.weight"].numpy()
    fig, axes = plt.subplots(8, 8, figsize=(8, 8))
    for j, ax in enumerate(axes.flat):
        k = w[j].transpose(1, 2, 0)
        ax.imshow((k - k.min()) / (k.max() - k.min() + 1e-12)); ax.axis("off")
    fig.savefig(os.path.join(out, "filters", f"step_{i}.png")); plt.close(fig)
plt.figure(figsize=(9, 5))
for k in names:
    if k.endswith(".weight") and sd[k].dim() >= 2:
        plt.plot(stats[k]["first"], label=k)
plt.legend(fontsize=5); plt.savefig(os.path.join(out, "drift.png")); plt.close()
for k in names:
    if sd[k].dim() == 0:
        continue
    plt.figure(figsize=(9, 4)); plt.imshow(np.array(counts[k]), aspect="auto"); plt.title(k)
    plt.savefig(os.path.join(out, "histograms", k + ".png")); plt.close()
'''

PYTHON_DIFF = r'''
import sys
import numpy as np
import torch
a, b = torch.load(sys.argv[1]), torch.load(sys.argv[2])
for k in a:
    if k in b and a[k].shape == b[k].shape:
        x, y = a[k].double().numpy().ravel(), b[k].double().numpy().ravel()
        d = y - x
        la, lb = np.linalg.norm(x), np.linalg.norm(y)
        print(k, la, lb, np.linalg.norm(d), np.dot(x, y), np.abs(d).max() if d.size else 0,
              np.mean(x != y) if x.size else 0)
'''


def make_series(folder, n, python):
    if os.path.isdir(folder) and len(os.listdir(folder)) == n:
        return
    os.makedirs(folder, exist_ok=True)
    script = r'''
import sys, torch, torchvision
torch.manual_seed(0)
m = torchvision.models.resnet18(num_classes=10)
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
x, y = torch.randn(4, 3, 64, 64), torch.randint(0, 10, (4,))
for e in range(int(sys.argv[2])):
    torch.save(m.state_dict(), f"{sys.argv[1]}/epoch_{e}.pth")
    opt.zero_grad(); torch.nn.functional.cross_entropy(m(x), y).backward(); opt.step()
'''
    subprocess.run([python, "-c", script, folder, str(n)], check=True)


def timed(cmd):
    """Wall seconds and max RSS (MiB) of one command, from its own rusage (os.wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {cmd}")
    return took, usage.ru_maxrss / 1024.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cnnscope", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--checkpoints", type=int, default=20)
    a = p.parse_args()
    python = sys.executable
    series = os.path.join(a.work, f"evolve_resnet18_{a.checkpoints}")
    make_series(series, a.checkpoints, python)
    ours, theirs = os.path.join(a.work, "evolve_cnnscope"), os.path.join(a.work, "evolve_python")
    for d in (ours, theirs):
        shutil.rmtree(d, ignore_errors=True)
    t_ours, rss_ours = timed([a.cnnscope, "evolve", series, "-o", ours])
    t_py, rss_py = timed([python, "-c", PYTHON_EVOLVE, series, theirs])
    print(f"evolve, {a.checkpoints} ResNet18 checkpoints with figures: cnnscope {t_ours:.2f} s "
          f"(max RSS {rss_ours:.0f} MiB), Python {t_py:.2f} s (max RSS {rss_py:.0f} MiB), "
          f"{t_py / t_ours:.1f}x")
    files = sorted(os.listdir(series), key=lambda f: int(f.split("_")[1].split(".")[0]))
    first, last = os.path.join(series, files[0]), os.path.join(series, files[-1])
    t_ours, _ = timed([a.cnnscope, "diff", first, last, "--json"])
    t_py, _ = timed([python, "-c", PYTHON_DIFF, first, last])
    print(f"diff of two ResNet18 checkpoints: cnnscope {t_ours:.2f} s, Python {t_py:.2f} s, "
          f"{t_py / t_ours:.1f}x")


if __name__ == "__main__":
    main()
