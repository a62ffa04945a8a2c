"""Benchmark: `cnnscope report` (one HTML page: stats and histograms of every tensor, filters,
feature maps, predictions) against the seed's two scripts run headless on the same checkpoint and
photo: analyze_kernel_weight.py (mean/std/min/max and a 50-bin matplotlib histogram per tensor,
savefig instead of show) and analyze_feature_map.py (three 3x4 grids of AlexNet's features.1/4/7),
in one run, end to end (process start to last file written). Best of --repeat runs each.

usage: bench_report.py --cnnscope BIN --work DIR [--repeat N]
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "tests", "oracle")
PHOTO = os.path.join(HERE, "..", "assets", "chelsea.png")

SEED_SCRIPT = r'''
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image
from torchvision import transforms
sys.path.insert(0, sys.argv[3])
from seed_models import AlexNet
ckpt, out, photo = sys.argv[1], sys.argv[2], sys.argv[4]
weights = torch.load(ckpt)
for k, v in weights.items():
    if "num_batches_tracked" in k:
        continue
    w = v.numpy().reshape(-1)
    print(k, w.mean(), w.std(ddof=1), w.min(), w.max())
    plt.figure()
    plt.hist(w, bins=50)
    plt.title(k)
    plt.savefig(f"{out}/hist_{k}.png")
    plt.close()
model = AlexNet(num_classes=5)
model.load_state_dict(weights)
model.eval()
t = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
x = torch.unsqueeze(t(Image.open(photo).convert("RGB")), 0)
with torch.no_grad():
    for j, fm in enumerate(model.seed_outputs(x)):
        im = np.transpose(np.squeeze(fm.numpy()), [1, 2, 0])
        plt.figure()
        for i in range(12):
            plt.subplot(3, 4, i + 1)
            plt.imshow(im[:, :, i])
        plt.savefig(f"{out}/fm_{j}.png")
        plt.close()
    print(torch.softmax(model(x)[0], 0))
'''


def best(cmd, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnscope", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    work = os.path.join(a.work, "report")
    os.makedirs(work, exist_ok=True)
    ckpt = os.path.join(work, "alexnet_seed.pth")
    if not os.path.exists(ckpt):
        subprocess.run([a.cnnscope, "init", "alexnet_seed", "-o", ckpt, "--num-classes", "5"],
                       check=True, stdout=subprocess.DEVNULL)
    seed = os.path.join(work, "seed_report.py")
    with open(seed, "w") as f:
        f.write(SEED_SCRIPT)
    py = best([sys.executable, seed, ckpt, work, ORACLE, PHOTO], a.repeat)
    cs = best([a.cnnscope, "report", ckpt, "--image", PHOTO, "-o", os.path.join(work, "r.html")],
              a.repeat)
    print(f"report, seed AlexNet + 1 photo (best of {a.repeat}):")
    print(f"  python (seed's analyze_kernel_weight + analyze_feature_map, matplotlib): {py:.2f} s")
    print(f"  cnnscope report (one HTML page, more content):                         {cs:.2f} s")
    print(f"  ratio python/cnnscope: {py / cs:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
