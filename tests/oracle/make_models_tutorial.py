"""Fixtures for tests/models/ (test_tutorial.cpp): the tutorial nets of tutorial_models.py (the
blitz CNN, the seed's LeNet, pytorch/examples' MNIST Net (both revisions), akamaster's CIFAR
ResNets), written from their public definitions.

Random init (the classes' own), float16-rounded weights, non-trivial BN statistics. Files:
models_tutorial_NAME.safetensors (state_dict), models_tutorial_NAME.expected.safetensors (input,
logits = forward's output, the taps' outputs caught by forward hooks) and
models_tutorial_manifest.json (arch, family, classes, params, named_modules() with class names,
leaf reprs, every module's output shape), as make_models_classic.py writes them. Also
models_tutorial_shapes.json: the state_dict names and shapes of every --arch's class but
ResNet-1202.
"""
import collections
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import half_rounded, run_with_hooks, save_safetensors  # noqa: E402
import seed_models  # noqa: E402
from tutorial_models import (ARCHS, BlitzNet, CifarResNet, LeNet, MnistNet,  # noqa: E402
                             MnistNet2018)


out = sys.argv[1]
torch.manual_seed(0)
gen = torch.Generator().manual_seed(1414)

# name: (make model, expected arch, family, num_classes, input [C, H, W], taps)
MODELS = collections.OrderedDict([
    ("lenet_blitz", (lambda n: BlitzNet(n), "lenet_blitz", "lenet", 10, [3, 32, 32],
                     ["conv1", "pool", "conv2", "fc1", "fc3"])),
    ("lenet_seed", (lambda n: LeNet(n), "lenet_seed", "lenet", 7, [3, 32, 32],
                    ["conv1", "pool1", "conv2", "pool2", "fc2"])),
    ("mnist_net", (lambda n: MnistNet(n), "mnist_net", "mnist_net", 10, [1, 28, 28],
                   ["conv1", "conv2", "dropout1", "fc1", "fc2"])),
    ("mnist_net_2018", (lambda n: MnistNet2018(n), "mnist_net_2018", "mnist_net", 7, [1, 28, 28],
                        ["conv1", "conv2", "fc1", "fc2"])),
    ("resnet20_cifar", (lambda n: CifarResNet(3, n), "resnet20_cifar", "cifar_resnet", 10,
                        [3, 32, 32],
                        ["conv1", "bn1", "layer1.0.bn2", "layer1.2", "layer2.0.shortcut",
                         "layer2.0", "layer3.2.conv2", "layer3", "linear"])),
    ("resnet20_cifar_option_b", (lambda n: CifarResNet(3, n, option="B"), "resnet20_cifar",
                                 "cifar_resnet", 6, [3, 32, 32],
                                 ["layer2.0.shortcut.0", "layer2.0.shortcut", "layer3.0",
                                  "linear"])),
])

manifest = collections.OrderedDict()
for name, (make, arch, family, num_classes, shape, taps) in MODELS.items():
    model = seed_models.randomize_bn(make(num_classes), gen)
    half_rounded(model)
    model.eval()
    sd = collections.OrderedDict(
        (k, v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items())
    save_safetensors(sd, os.path.join(out, f"models_tutorial_{name}.safetensors"))
    x = torch.randn([2] + shape, generator=gen)
    logits, got, shapes = run_with_hooks(model, taps, x)
    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    save_safetensors(expected, os.path.join(out, f"models_tutorial_{name}.expected.safetensors"))
    manifest[name] = {
        "arch": arch, "family": family, "num_classes": num_classes, "input": shape,
        "params": sum(p.numel() for p in model.parameters()),
        "modules": [[n, type(m).__name__] for n, m in model.named_modules() if n],
        "reprs": {n: repr(m) for n, m in model.named_modules() if n and not list(m.children())},
        "shapes": shapes,
    }

shapes = collections.OrderedDict()
for arch, make in ARCHS.items():
    if arch == "resnet1202_cifar":
        continue
    with torch.device("meta"):
        model = make(17)
    shapes[arch] = [[k, list(v.shape)] for k, v in model.state_dict().items()]

for name, doc in (("models_tutorial_shapes.json", shapes),
                  ("models_tutorial_manifest.json", manifest)):
    tmp = os.path.join(out, name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=None if name.endswith("shapes.json") else 1)
    os.replace(tmp, os.path.join(out, name))
