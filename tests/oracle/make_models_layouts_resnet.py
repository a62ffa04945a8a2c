"""Fixtures for tests/models/test_layouts_resnet.cpp: timm's (PyPI timm, pinned) ResNet, DenseNet and
Inception v3 and the seed series' GoogLeNet (seed_layouts_googlenet.py) under their own key and
module names.

Full parity for the variants that compute differently (timm resnet50d's deep stem and avg-pool
downsampling, seresnext50_32x4d's SE modules, the seed's GoogLeNet with its aux heads as a training
checkpoint holds them) and for one arch of each layout whose keys are torchvision's (timm resnet18,
densenet121, inception_v3: reached with `arch`, tapped under timm's names): random weights (stored
as float16 and used rounded), an unusual num_classes, non-trivial BN statistics.
models_layouts_NAME.safetensors (the state_dict), models_layouts_NAME.expected.safetensors (input,
logits, taps at several depths by forward hooks, cloned when returned) and an entry in
models_layouts_manifest.json (expected arch, family, layout, the `arch` setting to use ("" for
detection), classes, named_modules()).

Detection and init: models_layouts_keys.json, state_dict names and shapes of every layout arch
(num_classes 7; built on the meta device), with the arch detection gives.
"""
import collections
import json
import os
import sys

import timm
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import half_rounded, run_with_hooks, save_safetensors  # noqa: E402
import seed_layouts_googlenet  # noqa: E402
import seed_models  # noqa: E402

out = sys.argv[1]
torch.manual_seed(0)
gen = torch.Generator().manual_seed(27)
CLASSES = 7


def timm_model(name):
    return lambda: timm.create_model(name, pretrained=False, num_classes=CLASSES)


# name: (model, input size, expected arch, family, `arch` setting ("": detected), taps)
MODELS = collections.OrderedDict([
    ("timm_resnet50d", (timm_model("resnet50d"), 64, "timm/resnet50d", "resnet", "",
                        ["conv1.0", "conv1.2", "conv1", "act1", "maxpool", "layer1.0.act3",
                         "layer1.0.downsample.0", "layer1.0.downsample", "layer2.0.downsample.0",
                         "layer2.0.downsample", "layer2.1", "layer4", "global_pool.pool",
                         "fc"])),
    ("timm_seresnext50_32x4d", (timm_model("seresnext50_32x4d"), 64, "timm/seresnext50_32x4d",
                                "resnet", "",
                                ["act1", "layer1.0.bn3", "layer1.0.se.fc1", "layer1.0.se.act",
                                 "layer1.0.se.gate", "layer1.0.se", "layer1.0", "layer3.2.se",
                                 "layer4", "fc"])),
    ("timm_resnet18", (timm_model("resnet18"), 64, "timm/resnet18", "resnet", "timm/resnet18",
                       ["conv1", "act1", "layer1.0.act2", "layer2.0.downsample", "layer3",
                        "global_pool.pool", "fc"])),
    ("timm_densenet121", (timm_model("densenet121"), 64, "timm/densenet121", "densenet",
                          "timm/densenet121",
                          ["features.norm0", "features.pool0",
                           "features.denseblock1.denselayer1.norm1",
                           "features.denseblock1.denselayer2", "features.denseblock2",
                           "features.transition2.norm", "features.transition2",
                           "features.denseblock4", "classifier"])),
    ("timm_inception_v3", (timm_model("inception_v3"), 80, "timm/inception_v3", "inception",
                           "timm/inception_v3",
                           ["Conv2d_1a_3x3", "Conv2d_1a_3x3.bn", "Pool1", "Mixed_5b",
                            "Mixed_5b.branch5x5_2.bn", "Mixed_6a", "Mixed_7c", "global_pool.pool",
                            "head_drop", "fc"])),
    ("seed_googlenet", (lambda: seed_layouts_googlenet.GoogLeNet(CLASSES, aux_logits=True,
                                                                 init_weights=True),
                        224, "seed/googlenet", "googlenet", "",
                        ["conv1", "conv3.relu", "inception3a",
                         "inception3a.branch3.1.conv", "inception3a.branch4.0", "inception4e",
                         "maxpool4", "inception5b", "avgpool", "fc"])),
])

# Detection of every layout arch: (key names' source, arch detection gives).
LAYOUT_ARCHS = collections.OrderedDict(
    [(f"timm/{a}", (timm_model(a), a)) for a in
     ("resnet18", "resnet34", "resnet50", "resnet101", "resnext50_32x4d", "wide_resnet50_2",
      "densenet121", "inception_v3")]
    + [("timm/resnet50d", (timm_model("resnet50d"), "timm/resnet50d")),
       ("timm/seresnext50_32x4d", (timm_model("seresnext50_32x4d"), "timm/seresnext50_32x4d")),
       # As the seed's train.py builds it (and init makes it): with the aux heads.
       ("seed/googlenet", (lambda: seed_layouts_googlenet.GoogLeNet(CLASSES, aux_logits=True),
                           "seed/googlenet"))])


def randomized(model):
    """Non-trivial BN statistics and affines, and biases (the seed's init zeroes them)."""
    seed_models.randomize_bn(model, gen)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.05)
    return model


manifest = collections.OrderedDict()
for name, (make, size, arch, family, arch_setting, taps) in MODELS.items():
    model = randomized(make())
    half_rounded(model)
    model.eval()
    sd = collections.OrderedDict(
        (k, v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items())
    save_safetensors(sd, os.path.join(out, f"models_layouts_{name}.safetensors"))
    x = torch.randn(1, 3, size, size, generator=gen)
    logits, got, _ = run_with_hooks(model, taps, x)
    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    save_safetensors(expected, os.path.join(out, f"models_layouts_{name}.expected.safetensors"))
    manifest[name] = {
        "arch": arch, "family": family, "layout": arch.split("/")[0], "arch_setting": arch_setting,
        "num_classes": CLASSES, "params": sum(p.numel() for p in model.parameters()),
        "modules": [n for n, _ in model.named_modules() if n],
    }
    del model


# Every layout arch's state_dict names and shapes, built on the meta device (no weights, fast).
keys = collections.OrderedDict()
for arch, (make, detected) in LAYOUT_ARCHS.items():
    with torch.device("meta"):
        model = make()
    keys[arch] = {"detected": detected,
                  "keys": [[k, list(v.shape)] for k, v in model.state_dict().items()]}

for file, doc in (("models_layouts_keys.json", keys), ("models_layouts_manifest.json", manifest)):
    tmp = os.path.join(out, file + ".tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=None if file.endswith("keys.json") else 1)
    os.replace(tmp, os.path.join(out, file))
