"""Fixtures for tests/models/test_sequential.cpp: whole-model pickles
(`torch.save(model)`) of nn.Sequential networks, which cnnscope rebuilds from the module tree.

Files: models_sequential_NAME.pth (the whole model), models_sequential_NAME.expected.safetensors
(input, logits and every module's output caught by forward hooks, cloned) and
models_sequential_manifest.json (num_classes, params, named_modules() with class names, leaf
reprs, every module's output shape). Also two models cnnscope must refuse with one line:
models_sequential_custom.pth (a user class whose forward is Python code) and
models_sequential_inner_custom.pth (a Sequential holding such a class).
"""
import collections
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import run_with_hooks, save_safetensors  # noqa: E402
import seed_models  # noqa: E402

out = sys.argv[1]
gen = torch.Generator().manual_seed(1414)
torch.manual_seed(14)


class Net(nn.Module):
    """A user's class: its forward is code, not in the pickle."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


def lenet():
    # In-place ReLUs right after tapped convolutions; MaxPool2d with ints; Softmax-free head.
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def zoo():
    # Every layer kind the rebuild knows, nested Sequentials, tuple and string sizes.
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 8, (3, 5), stride=(1, 2), padding=(1, 2), bias=False),
                      nn.BatchNorm2d(8, eps=1e-3, momentum=None), nn.LeakyReLU(0.2)),
        nn.Conv2d(8, 8, 3, padding="same", dilation=2, groups=2), nn.ELU(alpha=0.5),
        nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        nn.Sequential(nn.Conv2d(8, 12, 1), nn.BatchNorm2d(12), nn.GELU(approximate="tanh"),
                      nn.Conv2d(12, 12, 3, padding="valid"), nn.SiLU(), nn.Hardswish(),
                      nn.Dropout2d(0.1)),
        nn.MaxPool2d((2, 2), stride=1, ceil_mode=True),
        nn.Conv2d(12, 16, 3, padding=1), nn.ReLU6(), nn.Tanh(), nn.Identity(),
        nn.AdaptiveMaxPool2d((2, 3)), nn.Hardsigmoid(), nn.Sigmoid(),
        nn.Flatten(), nn.Linear(16 * 6, 7, bias=False), nn.LogSoftmax(dim=1))


def pooled():
    # A global-pool head and Softmax at the end, as small classifiers are often written.
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(start_dim=1), nn.Linear(32, 5), nn.Softmax(dim=1))


MODELS = collections.OrderedDict([("lenet", (lenet, 32, 10)), ("zoo", (zoo, 40, 7)),
                                  ("pooled", (pooled, 48, 5))])

manifest = collections.OrderedDict()
for name, (make, size, classes) in MODELS.items():
    model = seed_models.randomize_bn(make(), gen).eval()
    torch.save(model, os.path.join(out, f"models_sequential_{name}.pth"))
    x = torch.randn(2, 3, size, size, generator=gen)
    taps = [n for n, _ in model.named_modules() if n]
    logits, got, shapes = run_with_hooks(model, taps, x)
    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    save_safetensors(expected, os.path.join(out, f"models_sequential_{name}.expected.safetensors"))
    manifest[name] = {
        "num_classes": classes,
        "params": sum(p.numel() for p in model.parameters()),
        "modules": [[n, type(m).__name__] for n, m in model.named_modules() if n],
        "reprs": {n: repr(m) for n, m in model.named_modules() if n and not list(m.children())},
        "shapes": shapes,
    }

torch.save(Net(), os.path.join(out, "models_sequential_custom.pth"))
torch.save(nn.Sequential(nn.Conv2d(3, 3, 1), Net()),
           os.path.join(out, "models_sequential_inner_custom.pth"))

tmp = os.path.join(out, "models_sequential_manifest.json.tmp")
with open(tmp, "w") as f:
    json.dump(manifest, f, indent=1)
os.replace(tmp, os.path.join(out, "models_sequential_manifest.json"))
