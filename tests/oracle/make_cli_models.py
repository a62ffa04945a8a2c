"""Fixtures for tests/cli/test_summary.py, test_predict.py, test_init.py: real torch.save checkpoints
of the seed's AlexNet (5 flower classes), torchvision's ResNet18 (float16 weights) and a 1/8-width
VGG11-BN, the seed's class_indices.json, an input .npy, and what PyTorch computes for them:
cli_models_expected.json (logits per model, named_modules() with output shapes and parameters).
"""
import collections
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models.vgg import VGG, cfgs, make_layers

sys.path.insert(0, os.path.dirname(__file__))
import seed_models  # noqa: E402

out = sys.argv[1]
torch.manual_seed(0)
gen = torch.Generator().manual_seed(2)
SIZE = 224


def save(obj, name):
    tmp = os.path.join(out, name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, os.path.join(out, name))


def tiny_vgg11_bn():
    m = VGG(make_layers([v if v == "M" else v // 8 for v in cfgs["A"]], batch_norm=True),
            num_classes=3)
    m.classifier[0] = nn.Linear(64 * 7 * 7, 64)
    m.classifier[3] = nn.Linear(64, 64)
    m.classifier[6] = nn.Linear(64, 3)
    return m


MODELS = collections.OrderedDict([
    ("seed_alexnet", (lambda: seed_models.AlexNet(num_classes=5, init_weights=True), False)),
    ("resnet18", (lambda: torchvision.models.resnet18(num_classes=10), True)),
    ("vgg11_bn", (tiny_vgg11_bn, False)),
])

x = torch.randn(3, SIZE, SIZE, generator=gen)
tmp = os.path.join(out, "cli_models_input.npy.tmp.npy")
np.save(tmp, x.numpy())
os.replace(tmp, os.path.join(out, "cli_models_input.npy"))

expected = {}
for name, (make, half) in MODELS.items():
    model = seed_models.randomize_bn(make(), gen).eval()
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())
    sd = model.state_dict()
    if half:
        sd = collections.OrderedDict((k, v.half() if v.is_floating_point() else v)
                                     for k, v in sd.items())
    save(sd, f"cli_models_{name}.pth")
    shapes, handles = {}, []
    for n, m in model.named_modules():
        if n:
            handles.append(m.register_forward_hook(
                lambda mod, i, o, n=n: shapes.__setitem__(n, list(o.shape))))
    with torch.no_grad():
        logits = model(x.unsqueeze(0))[0]
    for h in handles:
        h.remove()
    expected[name] = {
        "logits": logits.tolist(),
        "params": sum(p.numel() for p in model.parameters()),
        "layers": [{"name": n, "type": type(m).__name__, "output_shape": shapes[n],
                    "params": sum(p.numel() for p in m.parameters())}
                   for n, m in model.named_modules() if n],
    }

with open(os.path.join(out, "cli_models_class_indices.json.tmp"), "w") as f:
    json.dump({"0": "daisy", "1": "dandelion", "2": "roses", "3": "sunflowers", "4": "tulips"}, f,
              indent=4)
os.replace(os.path.join(out, "cli_models_class_indices.json.tmp"),
           os.path.join(out, "cli_models_class_indices.json"))
with open(os.path.join(out, "cli_models_expected.json.tmp"), "w") as f:
    json.dump(expected, f)
os.replace(os.path.join(out, "cli_models_expected.json.tmp"),
           os.path.join(out, "cli_models_expected.json"))
