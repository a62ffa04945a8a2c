"""Benchmark: the seed's analyze_kernel_weight.py, headless (matplotlib Agg, savefig per tensor),
against `cnnscope weights --plots` making the same 50-bin histograms, on the seed's ResNet34
checkpoint, in one run. Also: statistics throughput (GB/s) against this machine's memory bandwidth,
measured as numpy.copyto of a 256 MiB float32 array (bytes read + bytes written per second).

usage: bench_weights.py --cnnscope BIN --work DIR [--repeat N]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "tests", "oracle")

# The seed's script (analyze_kernel_weight.py for ResNet34), with plt.show() replaced by savefig.
SEED_SCRIPT = r'''
import sys, time
t0 = time.perf_counter()
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
sys.path.insert(0, sys.argv[3])
from seed_models import resnet34
t1 = time.perf_counter()
model = resnet34(num_classes=5)
model.load_state_dict(torch.load(sys.argv[1]))
weights_keys = model.state_dict().keys()
n = 0
for key in weights_keys:
    if "num_batches_tracked" in key:
        continue
    weight_t = model.state_dict()[key].numpy()
    weight_mean = weight_t.mean()
    weight_std = weight_t.std(ddof=1)
    weight_min = weight_t.min()
    weight_max = weight_t.max()
    print("mean is {}, std is {}, min is {}, max is {}".format(weight_mean, weight_std,
                                                               weight_min, weight_max))
    plt.close()
    weight_vec = np.reshape(weight_t, [-1])
    plt.hist(weight_vec, bins=50)
    plt.title(key)
    plt.savefig(f"{sys.argv[2]}/{key}.png")
    n += 1
t2 = time.perf_counter()
print(f"TIMES imports={t1 - t0:.3f} work={t2 - t1:.3f} figures={n}", file=sys.stderr)
'''


def make_checkpoint(path):
    if os.path.exists(path):
        return
    sys.path.insert(0, ORACLE)
    import torch
    from seed_models import randomize_bn, resnet34
    torch.manual_seed(0)
    model = randomize_bn(resnet34(num_classes=5), torch.Generator().manual_seed(0))
    torch.save(model.state_dict(), path + ".tmp")
    os.replace(path + ".tmp", path)


def timed(cmd, **kw):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    elapsed = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return elapsed, r


def best(n, cmd):
    return min(timed(cmd)[0] for _ in range(n))


def memory_bandwidth():
    import numpy as np
    src = np.ones(64 * 1024 * 1024, dtype=np.float32)  # 256 MiB
    dst = np.empty_like(src)
    np.copyto(dst, src)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t)
    return 2 * src.nbytes / min(times) / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnscope", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--repeat", type=int, default=3, help="cnnscope runs (best is kept)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    ckpt = os.path.join(a.work, "resnet34_seed.pth")
    make_checkpoint(ckpt)

    seed_dir = os.path.join(a.work, "weights_seed")
    ours_dir = os.path.join(a.work, "weights_cnnscope")
    for d in (seed_dir, ours_dir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    script = os.path.join(a.work, "analyze_kernel_weight_headless.py")
    with open(script, "w") as f:
        f.write(SEED_SCRIPT)

    seed_time, r = timed([sys.executable, script, ckpt, seed_dir, ORACLE])
    inner = dict(kv.split("=") for kv in r.stderr.strip().splitlines()[-1].split()[1:])
    ours_time = best(a.repeat, [a.cnnscope, "weights", ckpt, "--plots", ours_dir])
    stats_time = best(a.repeat, [a.cnnscope, "weights", ckpt, "--json"])
    startup = best(a.repeat, [a.cnnscope, "--version"])
    n_seed = len(os.listdir(seed_dir))
    n_ours = len([f for f in os.listdir(ours_dir) if f != "overview.png"])

    import torch
    nbytes = sum(t.numel() * t.element_size() for t in torch.load(ckpt).values())
    bandwidth = memory_bandwidth()
    stats_gbs = nbytes / (stats_time - startup) / 1e9

    print(f"checkpoint: {ckpt} ({nbytes / 1e6:.1f} MB of tensors)")
    print(f"python seed (Agg, savefig): {seed_time:8.2f} s  {n_seed} figures "
          f"(imports {float(inner['imports']):.2f} s, stats+plots {float(inner['work']):.2f} s)")
    print(f"cnnscope weights --plots:   {ours_time:8.2f} s  {n_ours} figures + overview sheet")
    print(f"speed-up end to end:        {seed_time / ours_time:8.1f}x "
          f"(excluding Python imports: {float(inner['work']) / ours_time:.1f}x)")
    print(f"statistics only (--json):   {stats_time:8.3f} s, process start {startup:.3f} s -> "
          f"{stats_gbs:.2f} GB/s over the tensor bytes")
    print(f"memory bandwidth (numpy copyto 256 MiB, read+write): {bandwidth:.1f} GB/s -> "
          f"statistics at {100 * stats_gbs / bandwidth:.0f}% of it")


if __name__ == "__main__":
    main()
