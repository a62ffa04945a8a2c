"""Benchmark: `cnnscope serve` with the seed's AlexNet (5 classes) against one run of the seed's
analyze_feature_map.py (bench_features.py's headless copy: start Python, load, one photo, three
figures), in one run. Measured on loopback with Python's urllib:
- layer switch on a loaded image: features PNG of another layer of an image already run (a cache
  hit), p50/p99 over --switches requests (goal: p50 <= 30 ms);
- a new image's features: a photo never seen (re-encoded with one pixel changed, so its bytes and
  cache key are new) uploaded as the body, p50/p99 (goal: p50 <= 100 ms);
- load: --requests requests from --clients concurrent clients mixing features PNG/JSON of listed
  images, uploads' predictions and bad requests (404 name, 400 body): every answer checked (status
  and content), requests/s, p50/p99, the server's resident memory after warm-up and at the end.

usage: bench_serve.py --cnnscope BIN --work DIR [--switches 200] [--new 30] [--requests 2000]
                      [--clients 16] [--repeat 3]
"""
import argparse
import concurrent.futures
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_features  # noqa: E402

LAYERS = ["features.1", "features.4", "features.7", "features.9", "features.11"]


def request(url, body=None):
    req = urllib.request.Request(url, data=body)
    if body is not None:
        req.add_header("Content-Type", "application/octet-stream")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, data = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, data = e.code, e.read()
    return status, data, time.perf_counter() - start


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def pct(times, q):
    return np.percentile(np.asarray(times) * 1e3, q)


def variants(photo, n):
    """n JPEG encodings of `photo`, each with one pixel changed: new bytes, same picture."""
    with Image.open(photo) as im:
        base = np.asarray(im.convert("RGB")).astype(np.int64)
    out = []
    for i in range(n):
        a = base.copy()
        a[i % a.shape[0], 0] = (a[i % a.shape[0], 0] + 1 + i // a.shape[0]) % 256
        buf = io.BytesIO()
        Image.fromarray(a.astype(np.uint8)).save(buf, "JPEG", quality=95)
        out.append(buf.getvalue())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnscope", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--switches", type=int, default=200)
    ap.add_argument("--new", type=int, default=30)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    work = os.path.join(a.work, "serve")
    os.makedirs(work, exist_ok=True)
    ckpt = os.path.join(work, "AlexNet.pth")
    bench_features.make_checkpoint(ckpt)
    photos = os.path.join(work, "photos")
    shutil.rmtree(photos, ignore_errors=True)
    os.makedirs(photos)
    for i in range(4):
        shutil.copy(bench_features.PHOTO, os.path.join(photos, f"photo{i}.jpg"))

    # the Python side: one run of the seed's script, end to end
    script = os.path.join(work, "analyze_feature_map.py")
    with open(script, "w") as f:
        f.write(bench_features.SEED_SCRIPT)
    py_out = os.path.join(work, "py")
    os.makedirs(py_out, exist_ok=True)
    t_py, _ = bench_features.best(a.repeat, [sys.executable, script, ckpt, py_out,
                                            bench_features.ORACLE, bench_features.PHOTO])

    proc = subprocess.Popen([a.cnnscope, "serve", ckpt, "--images", photos, "--port", "0",
                             "--threads", str(a.clients)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        while url is None:
            line = proc.stdout.readline()
            if not line:
                sys.exit("bench_serve: serve ended: " + proc.stderr.read())
            m = re.search(r"serving on (http://\S+)", line)
            url = m.group(1) if m else None
        api = url + "api/models/0/"

        # layer switch on a loaded image (cache hits)
        request(api + f"features?image=photo0.jpg&layer={LAYERS[0]}&format=png", b"")
        switch = []
        for i in range(a.switches):
            status, data, t = request(
                api + f"features?image=photo0.jpg&layer={LAYERS[i % len(LAYERS)]}&format=png",
                b"")
            assert status == 200 and data[:4] == b"\x89PNG", status
            switch.append(t)

        # a new image's features (cache misses: new bytes each time)
        fresh = []
        for body in variants(bench_features.PHOTO, a.new):
            status, data, t = request(api + "features?layer=features.4&format=png", body)
            assert status == 200 and data[:4] == b"\x89PNG", status
            fresh.append(t)

        # load: mixed requests from concurrent clients, every answer checked
        upload = variants(bench_features.PHOTO, 1)[0]
        want_predict = json.loads(request(api + "predict", upload)[1])

        def one(k):
            kind = k % 5
            if kind in (0, 1):
                status, data, t = request(
                    api + f"features?image=photo{k % 4}.jpg&layer={LAYERS[k % 5]}"
                    f"&format={'png' if kind == 0 else 'json'}", b"")
                ok = status == 200 and (data[:4] == b"\x89PNG" if kind == 0 else
                                        json.loads(data)["layers"] == [LAYERS[k % 5]])
            elif kind == 2:
                status, data, t = request(api + "predict", upload)
                ok = status == 200 and json.loads(data) == want_predict
            elif kind == 3:
                status, data, t = request(api + "predict?image=../AlexNet.pth", b"")
                ok = status == 404 and "error" in json.loads(data)
            else:
                status, data, t = request(api + "predict", b"not an image")
                ok = status == 400 and "error" in json.loads(data)
            return ok, t, kind < 3

        with concurrent.futures.ThreadPoolExecutor(a.clients) as pool:
            list(pool.map(one, range(a.clients * 10)))  # warm-up
            rss_warm = rss_mib(proc.pid)
            start = time.perf_counter()
            results = list(pool.map(one, range(a.requests)))
            wall = time.perf_counter() - start
        rss_end = rss_mib(proc.pid)
        wrong = sum(1 for ok, _, _ in results if not ok)
        alive = request(url + "api/models")[0] == 200
        times = [t for _, t, _ in results]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)

    print(f"seed's script, one photo, 3 figures, end to end: {t_py * 1e3:.0f} ms (best of "
          f"{a.repeat})")
    print(f"layer switch on a loaded image (features PNG, cache hit): p50 {pct(switch, 50):.1f} "
          f"ms, p99 {pct(switch, 99):.1f} ms over {a.switches}; goal p50 <= 30 ms; "
          f"{t_py / np.median(switch):.0f}x faster than the script")
    print(f"a new image's features (upload, forward, PNG): p50 {pct(fresh, 50):.1f} ms, p99 "
          f"{pct(fresh, 99):.1f} ms over {a.new}; goal p50 <= 100 ms; "
          f"{t_py / np.median(fresh):.0f}x faster than the script")
    print(f"load: {a.requests} requests from {a.clients} clients (features PNG/JSON, predict "
          f"uploads, 404s, 400s): {a.requests / wall:.0f} requests/s, p50 {pct(times, 50):.1f} "
          f"ms, p99 {pct(times, 99):.1f} ms; wrong answers {wrong}; server alive {alive}; "
          f"RSS after warm-up {rss_warm:.0f} MiB, at the end {rss_end:.0f} MiB")
    if wrong or not alive:
        sys.exit(1)


if __name__ == "__main__":
    main()
