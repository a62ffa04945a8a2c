"""Benchmark: forward of an exported torchvision ResNet50 (random init, batch 1,
224x224, eval, no grad), at one thread by default, cnnscope vs the reference runtimes in one run:
- model.pt2 (`torch.export.save` of `torch.export.export(model, (x,))`): cnnscope's
  `predict model.pt2 --repeat N` (stderr line "forward: X ms per image") against PyTorch running
  `ep.module()` with torch.set_num_threads(1);
- model.onnx (`torch.onnx.export(..., dynamo=True)`, the exporter's defaults): cnnscope's
  `predict model.onnx --repeat N` against onnxruntime's CPU session with intra_op_num_threads=1
  (and inter_op 1, its default graph optimizations; also timed without them, for context).
Best of --rounds loops of --runs forwards, each side after a warm-up. Prints ratio = reference /
cnnscope (above 1: cnnscope faster); the bar is cnnscope within 1.1x of both references'
time, i.e. ratio >= 0.91, or a reason. Leaves out: load time, taps, other networks, batches.
The exported files are kept in --work and reused by later runs.

Usage: bench_export.py --cnnscope BIN --work DIR [--runs 20] [--rounds 3] [--threads 1]
"""
import argparse
import logging
import os
import re
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_forward import python_ms  # noqa: E402

BAR = 1 / 1.1  # at most 1.1x the reference's time


def export(work, x):
    """resnet50.pt2 and resnet50.onnx in `work` (made once, seeded)."""
    pt2 = os.path.join(work, "bench_export_resnet50.pt2")
    onnx_path = os.path.join(work, "bench_export_resnet50.onnx")
    if os.path.exists(pt2) and os.path.exists(onnx_path):
        return pt2, onnx_path
    torch.manual_seed(0)
    model = torchvision.models.resnet50().eval()
    ep = torch.export.export(model, (x,))
    torch.export.save(ep, pt2[:-4] + ".tmp.pt2")
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    for stale in (onnx_path, onnx_path + ".data"):
        if os.path.exists(stale):
            os.remove(stale)
    torch.onnx.export(model, (x,), onnx_path, dynamo=True, verbose=False)
    os.replace(pt2[:-4] + ".tmp.pt2", pt2)  # last: its presence says both are complete
    return pt2, onnx_path


def ort_ms(onnx_path, x, runs, rounds, threads, optimize=True):
    """onnxruntime's ms per forward and logits; optimize=False turns its graph optimizations
    (fusions, the NCHWc layout) off, to show where a gap comes from."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: x.numpy()}
    sess.run(None, feed)  # warm-up
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(runs):
            sess.run(None, feed)
        best = min(best, (time.perf_counter() - start) / runs)
    return best * 1e3, sess.run(None, feed)[0]


def cnnscope_ms(args, path, npy, env):
    """(ms per image, logits) from `predict --repeat N`, or (None, cnnscope's error)."""
    import json
    r = subprocess.run([args.cnnscope, "predict", path, "--image", npy, "--json", "--repeat",
                        str(args.runs)], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        return None, r.stderr.strip()[-300:]
    ms = float(re.search(r"forward: ([0-9.]+) ms per image", r.stderr).group(1))
    return ms, np.asarray(json.loads(r.stdout)["logits"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cnnscope", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    npy = os.path.join(args.work, "bench_export_input.npy")
    np.save(npy, x[0].numpy())
    pt2, onnx_path = export(args.work, x)

    module = torch.export.load(pt2).module()
    with torch.no_grad():
        want = module(x)[0].numpy()
    rows = [("resnet50.pt2", "ep.module()", python_ms(module, x, args.runs, args.rounds),
             *cnnscope_ms(args, pt2, npy, env))]
    ort_time, ort_logits = ort_ms(onnx_path, x, args.runs, args.rounds, args.threads)
    rows.append(("resnet50.onnx", "onnxruntime", ort_time, *cnnscope_ms(args, onnx_path, npy, env)))

    print(f"threads {args.threads}, batch 1, 224x224, best of {args.rounds} x {args.runs} runs")
    print(f"{'file':<14} {'reference':<12} {'ref ms':>8} {'cnnscope ms':>12} {'ratio':>6}  "
          f"{'max |logit diff|':>16}")
    failed = False
    for (name, ref, ref_ms, cs_ms, logits), ref_logits in zip(rows, (want, ort_logits[0])):
        if cs_ms is None:
            print(f"{name:<14} {ref:<12} {ref_ms:8.2f}  cnnscope failed: {logits}")
            failed = True
            continue
        diff = float(np.abs(logits - ref_logits).max())
        flag = "" if ref_ms / cs_ms >= BAR else "  (slower than the 1.1x goal)"
        print(f"{name:<14} {ref:<12} {ref_ms:8.2f} {cs_ms:12.2f} {ref_ms / cs_ms:6.2f}  "
              f"{diff:16.2e}{flag}")
    plain, _ = ort_ms(onnx_path, x, args.runs, args.rounds, args.threads, optimize=False)
    print(f"onnxruntime without its graph optimizations (ORT_DISABLE_ALL): {plain:.2f} ms")
    print(f"ratio = reference / cnnscope (above 1: cnnscope faster; goal {BAR:.2f})")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
