"""Fixtures for tests/stats/: checkpoints and numpy's figures for each of their tensors.

Writes, into OUT_DIR:
  stats_alexnet.pth         the seed's AlexNet (num_classes=5, its own init), torch.save
  stats_resnet34.pth        the seed's ResNet34 (num_classes=5, non-trivial BN), torch.save
  stats_alexnet_fp16.pth    AlexNet's features in float16; stats_alexnet_bf16.pth the same in bfloat16
  stats_edge.safetensors    constant, one-element, NaN/Inf, empty, integer, edge-valued tensors
and for each FILE a FILE.expect.json: {key: {dtype, numel, finite, nan, posinf, neginf, mean, std,
min, max, l2, zero_fraction, p1, p50, p99, histograms: {bins: {edges, counts}}}} from the oracle's numpy (2.x).
Rule (docs/DESIGN.md): float32 tensors are histogrammed as float32 arrays, every other dtype as float64
values; NaN/Inf are left out of every figure (numpy would refuse them), empty -> numpy's (0, 1).
Where numpy 2 refuses a float32 array ("Too many bins for data range": a constant >= 2**23 or a
range of a few denormals, whose float32 edges cannot increase), the figure is numpy's histogram
of the values as float64, cnnscope's documented fallback (numpy 1.x widened in float64 itself).
"""
import collections
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import save_safetensors  # noqa: E402
from seed_models import AlexNet, randomize_bn, resnet34  # noqa: E402

BINS = (50, 7, 1)
PERCENTILES = (1, 50, 99)


def values64(t):
    if t.dtype == torch.bfloat16:
        t = t.float()
    return t.numpy().astype(np.float64).reshape(-1)


def figures(t):
    v = values64(t)
    finite = v[np.isfinite(v)]
    out = {"dtype": str(t.dtype)[len("torch."):], "numel": int(t.numel()), "finite": int(finite.size),
           "nan": int(np.isnan(v).sum()), "posinf": int(np.isposinf(v).sum()),
           "neginf": int(np.isneginf(v).sum())}
    if finite.size:
        p = np.percentile(finite, PERCENTILES)
        out.update(mean=float(finite.mean()), min=float(finite.min()), max=float(finite.max()),
                   l2=float(np.sqrt(np.sum(finite * finite))),
                   zero_fraction=float(np.mean(finite == 0)),
                   p1=float(p[0]), p50=float(p[1]), p99=float(p[2]))
        out["std"] = float(finite.std(ddof=1)) if finite.size > 1 else None
    if t.dtype == torch.float32:
        a = t.numpy().reshape(-1)
        data = a[np.isfinite(a)]
    elif t.dtype == torch.bool:
        data = v.astype(np.uint8)
    else:
        data = finite
    out["histograms"] = {}
    for bins in BINS:
        f32 = data.dtype == np.float32
        try:
            counts, edges = np.histogram(data, bins=bins)
        except ValueError:  # numpy 2 refuses float32 edges that do not increase: cnnscope's rule
            if not f32:
                raise
            f32 = False
            counts, edges = np.histogram(data.astype(np.float64), bins=bins)
        out["histograms"][str(bins)] = {"edges": [float(e) for e in edges],
                                        "counts": [int(c) for c in counts], "float32_edges": f32}
    return out


def write_json(obj, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def save_pth(sd, path):
    tmp = path + ".tmp"
    torch.save(sd, tmp)
    os.replace(tmp, path)


def expect(sd, path):
    write_json({k: figures(v) for k, v in sd.items()}, path + ".expect.json")


def edge_tensors(g):
    sd = collections.OrderedDict()
    sd["constant"] = torch.full((4, 5), 0.25)
    sd["zeros"] = torch.zeros(16)
    sd["big_constant"] = torch.full((3,), 1.0e8)
    sd["one"] = torch.tensor([3.5])
    sd["scalar"] = torch.tensor(-2.0)
    sd["two"] = torch.tensor([1.0, 2.0])
    sd["nan_inf"] = torch.tensor([1.0, float("nan"), -2.0, float("inf"), 0.0, float("-inf"), 4.0,
                                  float("nan")])
    sd["all_nan"] = torch.full((3,), float("nan"))
    sd["empty"] = torch.zeros(0, 3)
    sd["on_edges"] = torch.arange(0, 101, dtype=torch.float32) / 10  # many values on bin edges
    sd["ulp_steps"] = 1.0 + torch.arange(0, 64, dtype=torch.float32) * float(np.finfo(np.float32).eps)
    sd["offset"] = 1.0e4 + torch.randn(1000, generator=g) * 1e-3  # std needs two passes
    sd["denormal"] = torch.tensor([0.0, 1e-45, 2e-45, 5e-45], dtype=torch.float32)
    sd["wide"] = torch.tensor([-1.5e38, 0.0, 1.5e38])  # range near float32's largest
    sd["f64"] = torch.randn(300, generator=g, dtype=torch.float64) * 7.5
    sd["f16"] = (torch.randn(257, generator=g) * 3).half()
    sd["bf16"] = (torch.randn(257, generator=g) * 3).bfloat16()
    sd["f16_inf"] = torch.tensor([1.0, 70000.0, -1.0, 2.0]).half()  # 70000 overflows to inf
    sd["i64"] = torch.arange(-7, 30, dtype=torch.int64)
    sd["i64_constant"] = torch.full((5,), 3, dtype=torch.int64)
    sd["u8"] = torch.randint(0, 256, (500,), generator=g, dtype=torch.uint8)
    sd["flags"] = torch.tensor([True, False, True, True])
    sd["strided"] = torch.randn(6, 4, generator=g).t()  # saved contiguous; view tested in C++
    return sd


def main(out):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1234)
    alexnet = AlexNet(num_classes=5, init_weights=True)
    with torch.no_grad():  # biases are 0 after the seed's init: give some of them values
        alexnet.features[3].bias.copy_(torch.randn(128, generator=g) * 0.05)
    sd = alexnet.state_dict()
    save_pth(sd, os.path.join(out, "stats_alexnet.pth"))
    expect(sd, os.path.join(out, "stats_alexnet.pth"))

    features = collections.OrderedDict((k, v) for k, v in sd.items() if k.startswith("features"))
    for name, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
        low = collections.OrderedDict((k, v.to(dtype)) for k, v in features.items())
        path = os.path.join(out, f"stats_alexnet_{name}.pth")
        save_pth(low, path)
        expect(low, path)

    resnet = randomize_bn(resnet34(num_classes=5), g)
    sd = resnet.state_dict()
    path = os.path.join(out, "stats_resnet34.pth")
    save_pth(sd, path)
    expect(collections.OrderedDict((k, v) for k, v in sd.items()), path)

    edge = edge_tensors(g)
    path = os.path.join(out, "stats_edge.safetensors")
    save_safetensors(edge, path)
    expect(edge, path)


if __name__ == "__main__":
    main(sys.argv[1])
