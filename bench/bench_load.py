"""Loading a ResNet101 state_dict (about 170 MB, made here with the seed's own class): cnnscope's
in-process load time (`cnnscope ls --time-load`: load_state_dict alone, then load plus reading
every value once) against torch.load (and torch.load plus the same read) in one run.
Both run warm (file in the page cache); the best of REPEATS runs is reported."""
import argparse
import os
import re
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "oracle"))
import seed_models  # noqa: E402

REPEATS = 5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnscope", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    path = os.path.join(args.work, "resnet101.pth")
    if not os.path.exists(path):
        torch.manual_seed(0)
        torch.save(seed_models.resnet101().state_dict(), path + ".tmp")
        os.replace(path + ".tmp", path)
    size_mb = os.path.getsize(path) / 2**20

    torch.set_num_threads(1)
    py_load, py_read = [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        sd = torch.load(path)
        t1 = time.perf_counter()
        s = sum(t.sum(dtype=torch.float64).item() for t in sd.values())
        t2 = time.perf_counter()
        py_load.append((t1 - t0) * 1e3)
        py_read.append((t2 - t0) * 1e3)
        del sd

    cs_load, cs_read = [], []
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for _ in range(REPEATS):
        r = subprocess.run([args.cnnscope, "ls", path, "--time-load"], capture_output=True,
                           text=True, env=env, check=True)
        m = re.search(r"load_ms ([\d.]+) load_and_read_ms ([\d.]+) tensors (\d+) sum (\S+)",
                      r.stderr)
        cs_load.append(float(m.group(1)))
        cs_read.append(float(m.group(2)))
        if abs(float(m.group(4)) - s) > 1e-9 * max(1.0, abs(s)):
            sys.exit(f"sums differ: cnnscope {m.group(4)}, torch {s}")

    print(f"ResNet101 state_dict, {size_mb:.1f} MB, {len(torch.load(path))} tensors, "
          f"best of {REPEATS}, 1 thread")
    print(f"  load only        cnnscope {min(cs_load):8.2f} ms   torch.load {min(py_load):8.2f} ms"
          f"   ratio {min(py_load) / min(cs_load):6.1f}x")
    print(f"  load + read all  cnnscope {min(cs_read):8.2f} ms   torch.load {min(py_read):8.2f} ms"
          f"   ratio {min(py_read) / min(cs_read):6.1f}x")


if __name__ == "__main__":
    main()
