"""Benchmark: the seed's analyze_feature_map.py for AlexNet, headless (matplotlib Agg, savefig
instead of show), against `cnnscope features` making the same three figures (features.1/4/7, the
first 12 channels, gray, 3x4) from the same photo and the same torch.save checkpoint, in one run,
end to end (process start to last file). Then batch mode: N photos in one call against the seed's
loop over the same photos in one Python process (model loaded once), as time per image.

usage: bench_features.py --cnnscope BIN --work DIR [--repeat N] [--batch N]
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "tests", "oracle")
sys.path.insert(0, ORACLE)
import sample_photos  # noqa: E402

PHOTO = sample_photos.photos("grace_hopper.jpg")[0]

# The seed's script (AlexNet, the Resize((224,224)) preset, the edited forward that returns the
# first three conv outputs, aliased by the in-place ReLU), with plt.show() replaced by savefig,
# looped over every image given.
SEED_SCRIPT = r'''
import sys, time
t0 = time.perf_counter()
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image
from torchvision import transforms
sys.path.insert(0, sys.argv[3])
from seed_models import AlexNet
t1 = time.perf_counter()
data_transform = transforms.Compose(
    [transforms.Resize((224, 224)),
     transforms.ToTensor(),
     transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
model = AlexNet(num_classes=5)
model.load_state_dict(torch.load(sys.argv[1]))
t2 = time.perf_counter()
for k, path in enumerate(sys.argv[4:]):
    img = Image.open(path)
    img = data_transform(img)
    img = torch.unsqueeze(img, dim=0)
    out_put = model.seed_outputs(img)
    for j, feature_map in enumerate(out_put):
        im = np.squeeze(feature_map.detach().numpy())
        im = np.transpose(im, [1, 2, 0])
        plt.figure()
        for i in range(12):
            ax = plt.subplot(3, 4, i + 1)
            plt.imshow(im[:, :, i], cmap='gray')
        plt.savefig(f"{sys.argv[2]}/{k}_{j}.png")
        plt.close()
t3 = time.perf_counter()
print(f"TIMES imports={t1 - t0:.3f} load={t2 - t1:.3f} work={t3 - t2:.3f}", file=sys.stderr)
'''


def make_checkpoint(path):
    if os.path.exists(path):
        return
    sys.path.insert(0, ORACLE)
    import torch
    from seed_models import AlexNet
    torch.manual_seed(0)
    model = AlexNet(num_classes=5, init_weights=True)
    torch.save(model.state_dict(), path + ".tmp")
    os.replace(path + ".tmp", path)


def cpu_children():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def timed(cmd):
    """(wall seconds, CPU seconds user+sys, result) of one run."""
    c, t = cpu_children(), time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - t, cpu_children() - c
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return elapsed, cpu, r


def best(n, cmd):
    """Best wall and best CPU time of n runs (CPU time is steadier on a busy machine)."""
    runs = [timed(cmd)[:2] for _ in range(n)]
    return min(w for w, _ in runs), min(c for _, c in runs)


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnscope", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16)
    a = ap.parse_args()
    work = os.path.join(a.work, "features")
    os.makedirs(work, exist_ok=True)
    ckpt = os.path.join(work, "AlexNet.pth")
    make_checkpoint(ckpt)
    script = os.path.join(work, "analyze_feature_map.py")
    with open(script, "w") as f:
        f.write(SEED_SCRIPT)
    photos = fresh(os.path.join(work, "photos"))
    for i in range(a.batch):
        shutil.copy(PHOTO, os.path.join(photos, f"photo{i:03d}.jpg"))
    first = os.path.join(photos, "photo000.jpg")
    py_out, cs_out = os.path.join(work, "py"), os.path.join(work, "cs")
    py = [sys.executable, script, ckpt, py_out, ORACLE]
    cs = [a.cnnscope, "features", ckpt, "--cmap", "gray", "--out", cs_out, "--image"]

    # one photo, three figures, end to end
    fresh(py_out)
    t_py, c_py = best(a.repeat, py + [first])
    t_cs, c_cs = best(a.repeat, cs + [first])
    print(f"one photo, 3 AlexNet figures, end to end: python {t_py * 1e3:.0f} ms, "
          f"cnnscope {t_cs * 1e3:.0f} ms, ratio {t_py / t_cs:.1f}x (wall)")
    print(f"  CPU time: python {c_py * 1e3:.0f} ms, cnnscope {c_cs * 1e3:.0f} ms, "
          f"ratio {c_py / c_cs:.1f}x")
    _, _, r = timed(py + [first])
    print(f"  python breakdown: {r.stderr.strip().split('TIMES ')[-1]} (s)")
    t_start, c_start = best(a.repeat, [a.cnnscope, "--version"])
    print(f"  cnnscope start-up alone (--version, loading LibTorch): {t_start * 1e3:.0f} ms wall, "
          f"{c_start * 1e3:.0f} ms CPU")

    # batch mode: time per image beyond the fixed start-up cost (difference of N and 1 image)
    images = sorted(os.path.join(photos, p) for p in os.listdir(photos))
    fresh(py_out)
    t_py_n, c_py_n = best(a.repeat, py + images)
    t_cs_n, c_cs_n = best(a.repeat, cs + [photos])
    print(f"batch of {len(images)} photos (3 figures each): python {t_py_n:.2f} s, "
          f"cnnscope {t_cs_n:.2f} s, ratio {t_py_n / t_cs_n:.1f}x (wall)")
    per = [(n - one) / (len(images) - 1) for n, one in
           ((t_py_n, t_py), (t_cs_n, t_cs), (c_py_n, c_py), (c_cs_n, c_cs))]
    print(f"  per extra image: python {per[0] * 1e3:.0f} ms, cnnscope {per[1] * 1e3:.0f} ms, "
          f"ratio {per[0] / max(per[1], 1e-9):.1f}x (wall); CPU {per[2] * 1e3:.0f} ms vs "
          f"{per[3] * 1e3:.0f} ms, ratio {per[2] / max(per[3], 1e-9):.1f}x")

if __name__ == "__main__":
    main()
