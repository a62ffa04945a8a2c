"""Benchmark: `cnnscope spectra` on torchvision resnet50 (random init, seed 0) vs weightwatcher
0.7.7's WeightWatcher(model).analyze() with its defaults on the same network, in one run: the
same 54 layers (checked) and alphas within 1e-6; best of --rounds, alternating. Two peers:
analyze() alone in this warm Python (its imports and the model already loaded), and the script a
user runs (a fresh Python: import torch, torchvision and weightwatcher, load the checkpoint,
analyze()) — the same start-to-finish as `cnnscope spectra CKPT`, which includes its own start-up.

Usage: bench_spectra.py --cnnscope BIN --work DIR [--rounds 3] [--arch resnet50]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torchvision


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cnnscope", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--arch", default="resnet50")
    args = p.parse_args()
    import weightwatcher as ww
    os.makedirs(args.work, exist_ok=True)
    torch.manual_seed(0)
    model = getattr(torchvision.models, args.arch)()
    ckpt = os.path.join(args.work, "bench_spectra_%s.pth" % args.arch)
    if not os.path.exists(ckpt):
        torch.save(model.state_dict(), ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
    script = ("import sys, torch, torchvision, weightwatcher as ww\n"
              f"m = torchvision.models.{args.arch}()\n"
              "m.load_state_dict(torch.load(sys.argv[1]))\n"
              "ww.WeightWatcher(model=m).analyze()\n")
    py = fresh = cs = float("inf")
    for _ in range(args.rounds):  # alternating, so a busy machine slows both alike
        start = time.perf_counter()
        details = ww.WeightWatcher(model=model).analyze()
        py = min(py, time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", script, ckpt], check=True, capture_output=True)
        fresh = min(fresh, time.perf_counter() - start)
        start = time.perf_counter()
        r = subprocess.run([args.cnnscope, "spectra", ckpt, "--json"], capture_output=True,
                           text=True)
        cs = min(cs, time.perf_counter() - start)
        if r.returncode != 0:
            sys.exit("bench_spectra: cnnscope spectra failed: " + r.stderr.strip())
    mine = {layer["name"]: layer["alpha"] for layer in json.loads(r.stdout)["layers"]}
    theirs = dict(zip(details["longname"], details["alpha"]))
    if sorted(mine) != sorted(theirs):
        sys.exit("bench_spectra: the layers differ from WeightWatcher's")
    worst = max(abs(mine[k] - theirs[k]) / abs(theirs[k]) for k in theirs)
    if worst > 1e-6:
        sys.exit(f"bench_spectra: alpha differs from WeightWatcher's by {worst:.1e}")
    print(f"{args.arch}: {len(mine)} layers, alpha within {worst:.1e} of WeightWatcher's, "
          f"threads {torch.get_num_threads()}")
    print(f"weightwatcher analyze(), warm        {py:7.2f} s")
    print(f"python script (imports, load, analyze) {fresh:5.2f} s")
    print(f"cnnscope spectra                     {cs:7.2f} s   {py / cs:.2f}x analyze() alone, "
          f"{fresh / cs:.2f}x the script")


if __name__ == "__main__":
    main()
