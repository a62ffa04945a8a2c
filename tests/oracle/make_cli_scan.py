"""Fixtures for tests/cli/test_scan.py: a 1/8-width VGG11-BN (random BN statistics; a few BN biases
pushed far negative or positive, so some ReLU channels never fire and some always do), 36 small
generated images in three class folders plus one unreadable file, and what PyTorch computes for
them: forward hooks over every image (torchvision's ImageNet transforms), and per chosen layer and
channel the count, mean, std (ddof=1), min, max, positive fraction, dead/always_on in float64, the
top-k images by spatial maximum with the first (row-major) position of that maximum (numpy argmax),
the input patch under each top unit by the gradient-support method, per class each
channel's mean, and for a BatchNorm layer its running mean/var against the mean/var (ddof=1)
observed at its input (a hook's input). Written as scan/expected.json.

Usage: make_cli_scan.py OUT_DIR  (writes OUT_DIR/scan/..., each file atomically)
"""
import copy
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.dirname(__file__))
import seed_models  # noqa: E402
from oracle_common import tiny_vgg11_bn  # noqa: E402

LAYERS = ["features.0", "features.2", "features.5", "features.6", "features.13"]
TOPK = 5
CLASSES = ["birds", "cats", "dogs"]
PER_CLASS = 12

out = os.path.join(sys.argv[1], "scan")
images_dir = os.path.join(out, "images")
for c in CLASSES:
    os.makedirs(os.path.join(images_dir, c), exist_ok=True)
torch.manual_seed(0)
gen = torch.Generator().manual_seed(18)
rng = np.random.default_rng(18)


def atomic(path, write):
    tmp = path + ".tmp"
    write(tmp)
    os.replace(tmp, path)


model = seed_models.randomize_bn(tiny_vgg11_bn(), gen).eval()
with torch.no_grad():
    model.features[1].bias[:2] = -50.0  # channels 0, 1 of features.2: never fire
    model.features[1].bias[2] = 50.0    # channel 2 of features.2: always on
    model.features[5].bias[3] = -50.0
atomic(os.path.join(out, "vgg11_bn.pth"), lambda p: torch.save(model.state_dict(), p))

# images: smooth random blobs of varied sizes, some class-tinted, PNG and JPEG
paths = []
for ci, c in enumerate(CLASSES):
    for i in range(PER_CLASS):
        h, w = int(rng.integers(40, 90)), int(rng.integers(40, 90))
        base = rng.random((h // 4 + 2, w // 4 + 2, 3))
        base[..., ci] += 0.5
        img = Image.fromarray(np.clip(base * 170, 0, 255).astype(np.uint8)).resize((w, h))
        ext = "png" if i % 3 else "jpg"
        path = os.path.join(images_dir, c, "img%02d.%s" % (i, ext))
        atomic(path, lambda p, img=img, ext=ext: img.save(p, format="PNG" if ext == "png" else
                                                         "JPEG", quality=90))
        paths.append(path)
broken = os.path.join(images_dir, "cats", "broken.png")
atomic(broken, lambda p: open(p, "wb").write(b"\x89PNG\r\n\x1a\nnot really a png"))

paths.sort()
rel = [os.path.relpath(p, images_dir) for p in paths]
tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
x = torch.stack([tf(Image.open(p).convert("RGB")) for p in paths])  # [N, 3, 224, 224]

modules = dict(model.named_modules())
got, handles = {}, []
bn_inputs = {}
for n in LAYERS:
    handles.append(modules[n].register_forward_hook(
        lambda m, i, o, n=n: got.__setitem__(n, o.detach().clone())))
    if isinstance(modules[n], nn.BatchNorm2d):
        handles.append(modules[n].register_forward_hook(
            lambda m, i, o, n=n: bn_inputs.__setitem__(n, i[0].detach().double().clone())))
with torch.no_grad():
    model(x)
for h in handles:
    h.remove()

# the full sorted list cnnscope sees includes the broken file (skipped, but it holds an index)
listed = sorted(paths + [broken])
index_of = {p: listed.index(p) for p in paths}

# receptive fields by the gradient-support method: all-ones convolutions, identity BatchNorm and
# average instead of max pooling, so every input pixel under a unit gets a positive gradient
probe = copy.deepcopy(model).double()
with torch.no_grad():
    for i, m in enumerate(probe.features):
        if isinstance(m, nn.Conv2d):
            m.weight.fill_(1.0)
            m.bias.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            m.running_mean.zero_()
            m.running_var.fill_(1.0)
            m.weight.fill_(1.0)
            m.bias.zero_()
        elif isinstance(m, nn.MaxPool2d):
            probe.features[i] = nn.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode)
support_cache = {}


def gradient_support(layer, y, x):
    """[y0, x0, y1, x1) of the input pixels whose gradient on unit (y, x) of `layer` is nonzero."""
    key = (layer, y, x)
    if key not in support_cache:
        upto = probe.features[:int(layer.split(".")[1]) + 1]
        inp = torch.ones(1, 3, 224, 224, dtype=torch.float64, requires_grad=True)
        upto(inp)[0, 0, y, x].backward()
        ys, xs = np.nonzero(inp.grad[0].abs().sum(0).numpy())
        support_cache[key] = [int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1]
    return support_cache[key]


layers = []
for n in LAYERS:
    a = got[n].double().numpy()  # [N, C, H, W]
    channels = []
    for c in range(a.shape[1]):
        v = a[:, c].reshape(-1)
        flat = got[n][:, c].reshape(len(paths), -1).numpy()  # float32 [N, H*W]
        pos = flat.argmax(axis=1)  # first maximum
        best = sorted(range(len(paths)), key=lambda i: (-float(flat[i, pos[i]]), index_of[paths[i]]))
        top = [{"image": rel[i], "image_index": index_of[paths[i]], "value": float(flat[i, pos[i]]),
                "y": int(pos[i] // a.shape[3]), "x": int(pos[i] % a.shape[3])} for i in best[:TOPK]]
        for hit in top:
            hit["patch"] = gradient_support(n, hit["y"], hit["x"])
        channels.append({"count": int(v.size), "mean": float(v.mean()), "std": float(v.std(ddof=1)),
                         "min": float(v.min()), "max": float(v.max()),
                         "positive_fraction": float((v > 0).mean()),
                         "dead": bool(v.max() <= 0 or v.var() == 0), "always_on": bool(v.min() > 0),
                         "top": top})
    entry = {"name": n, "shape": list(a.shape[1:]), "channels": channels, "batchnorm": None}
    if n in bn_inputs:
        bn = modules[n]
        x_in = bn_inputs[n].transpose(0, 1).reshape(a.shape[1], -1)  # [C, N*H*W]
        mean, var = x_in.mean(1), x_in.var(1, unbiased=True)
        rm, rv = bn.running_mean.double(), bn.running_var.double()
        entry["batchnorm"] = {"eps": bn.eps, "running_mean": rm.tolist(), "running_var": rv.tolist(),
                              "observed_mean": mean.tolist(), "observed_var": var.tolist(),
                              "mean_shift": ((mean - rm) / (rv + bn.eps).sqrt()).tolist(),
                              "var_ratio": (var / (rv + bn.eps)).tolist()}
    layers.append(entry)

classes = {}
for c in CLASSES:
    members = [i for i, r in enumerate(rel) if r.startswith(c + "/")]
    classes[c] = {"images": len(members),
                  "mean": {n: got[n][members].double().mean(dim=(0, 2, 3)).tolist()
                           for n in LAYERS}}

expected = {"checkpoint": "vgg11_bn.pth", "images": "images", "layers_arg": ",".join(LAYERS),
            "topk": TOPK, "listed": len(listed), "scanned": len(paths),
            "skipped": [os.path.relpath(broken, images_dir)], "layers": layers, "classes": classes}
atomic(os.path.join(out, "expected.json"), lambda p: open(p, "w").write(json.dumps(expected)))
