"""Benchmark: the two LibTorch builds of cnnscope side by side, Debian's libtorch-dev
(`make build TORCH=debian`) and the pip wheel's (`make build TORCH=wheel`), in one run:
process start-up (`cnnscope --help`, hyperfine, mean of --startup-runs), `features` of one photo
end to end (3 AlexNet figures, process start to last file, best of --repeat), and forward time per
model at equal threads (bench_forward's models and `predict --repeat`, best of --rounds,
alternating the builds). Also checks that both builds compute the same logits (within 1e-4 of the
largest) and reports how many shared libraries each loads.

Usage: bench_libtorch.py --cnnscope BIN --work DIR [--other BIN] [--threads N]
`--other` defaults to the other build folder of this checkout (build-wheel/ or build-debian/ next
to BIN's folder, or build/); without a second build it says so and exits 0.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "oracle"))
import bench_forward  # noqa: E402
import sample_photos  # noqa: E402
import seed_models  # noqa: E402


def libtorch_of(binary):
    """'wheel' or 'debian', from the libtorch_cpu.so the binary loads (ldd)."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    line = next((x for x in out.splitlines() if "libtorch_cpu" in x), "")
    return "wheel" if "site-packages" in line else "debian"


def shared_libraries(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return sum(1 for x in out.splitlines() if "=>" in x)


def other_build(binary):
    root = os.path.dirname(os.path.dirname(os.path.abspath(binary)))
    mine = os.path.realpath(binary)
    for d in ("build-wheel", "build-debian", "build"):
        cand = os.path.join(root, d, "cnnscope")
        if os.path.exists(cand) and os.path.realpath(cand) != mine:
            return cand
    return None


def startup_ms(binary, runs):
    if shutil.which("hyperfine"):
        with open(os.devnull, "w") as null:
            out = os.path.join(os.path.dirname(os.path.abspath(binary)), ".startup.json")
            subprocess.run(["hyperfine", "-N", "--warmup", "3", "--runs", str(runs),
                            "--export-json", out, f"{binary} --help"], check=True, stdout=null,
                           stderr=null)
            with open(out) as f:
                r = json.load(f)["results"][0]
            os.remove(out)
            return r["mean"] * 1e3, r["stddev"] * 1e3
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([binary, "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return float(np.mean(times)) * 1e3, float(np.std(times)) * 1e3


def features_ms(binary, ckpt, photo, out, repeat, env):
    best = float("inf")
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        r = subprocess.run([binary, "features", ckpt, "--cmap", "gray", "--out", out, "--image",
                            photo], capture_output=True, text=True, env=env)
        best = min(best, time.perf_counter() - t0)
        if r.returncode != 0:
            sys.exit(f"bench_libtorch: {binary} features failed: {r.stderr.strip()}")
    return best * 1e3


def logits(binary, ckpt, npy, env):
    r = subprocess.run([binary, "predict", ckpt, "--image", npy, "--json"], capture_output=True,
                       text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"bench_libtorch: {binary} predict failed: {r.stderr.strip()}")
    return np.array(json.loads(r.stdout)["logits"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cnnscope", required=True)
    p.add_argument("--other")
    p.add_argument("--work", required=True)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--startup-runs", type=int, default=30)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    other = args.other or other_build(args.cnnscope)
    if not other:
        print("bench_libtorch: skipped, only one build (make build TORCH=debian or TORCH=wheel)")
        return
    builds = {libtorch_of(b): b for b in (args.cnnscope, other)}
    if len(builds) != 2:
        sys.exit(f"bench_libtorch: {args.cnnscope} and {other} use the same LibTorch")
    os.makedirs(args.work, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    names = sorted(builds)  # debian, wheel
    print(f"threads {args.threads}; " +
          "; ".join(f"{n}: {builds[n]} ({shared_libraries(builds[n])} shared libraries)"
                    for n in names))

    print(f"{'':<34}" + "".join(f"{n:>12}" for n in names) + f"{'wheel/debian':>14}")
    start = {n: startup_ms(builds[n], args.startup_runs) for n in names}
    print(f"{'start-up, cnnscope --help (ms)':<34}" +
          "".join(f"{start[n][0]:8.1f}±{start[n][1]:<3.0f}" for n in names) +
          f"{start['wheel'][0] / start['debian'][0]:14.2f}")

    torch.manual_seed(0)
    ckpt = os.path.join(args.work, "bench_alexnet_seed.pth")
    if not os.path.exists(ckpt):
        torch.save(seed_models.AlexNet(num_classes=5, init_weights=True).state_dict(), ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
    photo = sample_photos.photos("grace_hopper.jpg")[0]
    feat = {}
    for _ in range(2):  # alternating, so a busy machine slows both alike
        for n in names:
            ms = features_ms(builds[n], ckpt, photo, os.path.join(args.work, f"features-{n}"),
                             (args.repeat + 1) // 2, env)
            feat[n] = min(feat.get(n, ms), ms)
    print(f"{'features, 1 photo, end to end (ms)':<34}" +
          "".join(f"{feat[n]:12.1f}" for n in names) + f"{feat['wheel'] / feat['debian']:14.2f}")

    x = torch.randn(1, 3, 224, 224)
    npy = os.path.join(args.work, "bench_forward_input.npy")
    np.save(npy, x[0].numpy())
    for label, name, make in bench_forward.MODELS:
        path = os.path.join(args.work, name)
        if not os.path.exists(path):
            torch.save(make().eval().state_dict(), path + ".tmp")
            os.replace(path + ".tmp", path)
        a, b = (logits(builds[n], path, npy, env) for n in names)
        diff = np.abs(a - b).max() / max(np.abs(a).max(), 1e-30)
        if diff > 1e-4:
            sys.exit(f"bench_libtorch: {label} logits differ between the builds ({diff:.1e})")
        ms = {n: float("inf") for n in names}
        for _ in range(args.rounds):
            for n in names:
                ms[n] = min(ms[n], bench_forward.cnnscope_ms(
                    argparse.Namespace(cnnscope=builds[n], runs=args.runs), path, npy, env))
        print(f"{'forward ' + label + ' (ms)':<34}" + "".join(f"{ms[n]:12.2f}" for n in names) +
              f"{ms['wheel'] / ms['debian']:14.2f}   logits agree to {diff:.0e}")


if __name__ == "__main__":
    main()
