"""Fixtures for tests/models/: every family and depth as torchvision / the seed build it, with random
weights (stored as float16 and used rounded, so files stay small) and non-trivial BN statistics.

For each model NAME: models_NAME.safetensors (the state_dict), models_NAME.expected.safetensors
(input, logits, the outputs of several taps caught by forward hooks, cloned as they were returned)
and an entry in models_manifest.json (expected arch, family, classes, named_modules() with class
names). VGGs use 1/8 widths and a 64-wide classifier (same layout), deep ResNets a 64x64 input.
Also models_archs.json: names and shapes of every canonical arch's state_dict (no init: fast).
"""
import collections
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision
from torchvision.models.vgg import VGG, cfgs, make_layers

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import save_safetensors  # noqa: E402
import seed_models  # noqa: E402

out = sys.argv[1]
torch.manual_seed(0)
gen = torch.Generator().manual_seed(1)
VGG_DEPTHS = {11: "A", 13: "B", 16: "D", 19: "E"}


def small_vgg(depth, bn, num_classes):
    cfg = [v if v == "M" else v // 8 for v in cfgs[VGG_DEPTHS[depth]]]
    m = VGG(make_layers(cfg, batch_norm=bn), num_classes=num_classes)
    m.classifier[0] = nn.Linear(64 * 7 * 7, 64)
    m.classifier[3] = nn.Linear(64, 64)
    m.classifier[6] = nn.Linear(64, num_classes)
    return m


def small_tv_alexnet(num_classes):
    m = torchvision.models.alexnet(num_classes=num_classes)
    m.classifier[1] = nn.Linear(256 * 6 * 6, 256)
    m.classifier[4] = nn.Linear(256, 256)
    m.classifier[6] = nn.Linear(256, num_classes)
    return m


RESNET_TAPS = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer1.0.relu", "layer2.0.conv2",
               "layer2.0.bn2", "layer2.0.downsample.0", "layer2.0.downsample", "layer3.1",
               "layer4", "avgpool", "fc"]
VGG_TAPS = ["features.0", "features.1", "features.2", "features.5", "features", "avgpool",
            "classifier.0", "classifier.1"]
ALEXNET_TAPS = ["features.0", "features.1", "features.3", "features.4", "features.7",
                "features.12", "features", "classifier.1", "classifier.2", "classifier"]

# name: (model, input size, expected arch, family, taps)
MODELS = collections.OrderedDict([
    ("seed_alexnet", (lambda: seed_models.AlexNet(num_classes=5), 224, "alexnet_seed", "alexnet",
                      ALEXNET_TAPS)),
    ("tv_alexnet", (lambda: small_tv_alexnet(10), 127, "alexnet", "alexnet",
                    ALEXNET_TAPS + ["avgpool"])),
    ("tv_resnet18", (lambda: torchvision.models.resnet18(num_classes=10), 64, "resnet18",
                     "resnet", RESNET_TAPS)),
    ("seed_resnet34", (lambda: seed_models.resnet34(num_classes=5), 64, "resnet34", "resnet",
                       RESNET_TAPS)),
    ("tv_resnet50", (lambda: torchvision.models.resnet50(num_classes=10), 64, "resnet50",
                     "resnet", RESNET_TAPS + ["layer1.0.conv3", "layer1.0.bn3"])),
    ("seed_resnet101", (lambda: seed_models.resnet101(num_classes=5), 64, "resnet101", "resnet",
                        RESNET_TAPS + ["layer3.22", "layer3.22.conv3"])),
    ("tv_resnet152", (lambda: torchvision.models.resnet152(num_classes=10), 64, "resnet152",
                      "resnet", RESNET_TAPS + ["layer2.7"])),
])
for depth in VGG_DEPTHS:
    for bn in (False, True):
        arch = f"vgg{depth}" + ("_bn" if bn else "")
        MODELS["tv_" + arch] = (lambda d=depth, b=bn: small_vgg(d, b, 7), 32, arch, "vgg", VGG_TAPS)


def half_rounded(model):
    """Rounds float weights to float16 so the stored file is small and both sides use equal values."""
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())


def caught(model, names, x):
    """Outputs of the named modules, via forward hooks (last call wins), cloned when returned."""
    got, handles = {}, []
    modules = dict(model.named_modules())
    for name in names:
        handles.append(modules[name].register_forward_hook(
            lambda m, i, o, name=name: got.__setitem__(name, o.detach().clone())))
    with torch.no_grad():
        logits = model(x)
    for h in handles:
        h.remove()
    return logits, got


manifest = collections.OrderedDict()
for name, (make, size, arch, family, taps) in MODELS.items():
    model = seed_models.randomize_bn(make(), gen)
    half_rounded(model)
    model.eval()
    sd = collections.OrderedDict(
        (k, v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items())
    save_safetensors(sd, os.path.join(out, f"models_{name}.safetensors"))
    x = torch.randn(1, 3, size, size, generator=gen)
    logits, got = caught(model, taps, x)
    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    if hasattr(model, "seed_outputs"):
        with torch.no_grad():
            for i, o in enumerate(model.seed_outputs(x.clone())):
                expected[f"seed.{i}"] = o
    save_safetensors(expected, os.path.join(out, f"models_{name}.expected.safetensors"))
    manifest[name] = {
        "arch": arch, "family": family, "num_classes": logits.shape[1],
        "params": sum(p.numel() for p in model.parameters()),
        "modules": [[n, type(m).__name__] for n, m in model.named_modules() if n],
        "reprs": {n: repr(m) for n, m in model.named_modules() if n and not list(m.children())},
    }
    del model

# Canonical archs: state_dict names and shapes, built without running any initializer.
def no_init(*args, **kwargs):
    return args[0] if args else None


for fn in ("kaiming_normal_", "kaiming_uniform_", "normal_", "constant_", "uniform_"):
    setattr(nn.init, fn, no_init)
for cls in (nn.Linear, nn.Conv2d, nn.BatchNorm2d):
    cls.reset_parameters = lambda self: None
makers = collections.OrderedDict([("alexnet_seed", lambda: seed_models.AlexNet(num_classes=1000))])
for arch in ["alexnet", "vgg16_bn", "resnet18", "resnet50",
             "resnet101"]:
    makers[arch] = getattr(torchvision.models, arch)
shapes = collections.OrderedDict()
for arch, make in makers.items():
    shapes[arch] = [[k, list(v.shape)] for k, v in make().state_dict().items()]
tmp = os.path.join(out, "models_archs.json.tmp")
with open(tmp, "w") as f:
    json.dump(shapes, f)
os.replace(tmp, os.path.join(out, "models_archs.json"))
tmp = os.path.join(out, "models_manifest.json.tmp")
with open(tmp, "w") as f:
    json.dump(manifest, f, indent=1)
os.replace(tmp, os.path.join(out, "models_manifest.json"))
