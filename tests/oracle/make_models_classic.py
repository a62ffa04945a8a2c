"""Fixtures for tests/models/ (test_classic.cpp): ResNeXt, Wide ResNet, DenseNet, SqueezeNet,
GoogLeNet and Inception v3 as torchvision 0.29 builds them.

Full parity for the smallest model of each family, each with an unusual num_classes, random
weights stored as float16 (used rounded, so files stay small) and non-trivial BN statistics:
ResNeXt and Wide ResNet as torchvision's ResNet class with one Bottleneck per stage (groups 32 x
width 4; width 128), densenet121, squeezenet1_0/1_1, googlenet with its aux classifiers and
transform_input=True (torchvision's pretrained setting; its expected file also holds the logits
with transform_input=False), inception_v3 without aux classifiers, transform_input=True, on 80x80.
Files: models_classic_NAME.safetensors (the state_dict), models_classic_NAME.expected.safetensors
(input, logits, the taps' outputs caught by forward hooks) and models_classic_manifest.json (arch,
family, classes, params, named_modules() with class names, leaf reprs, every module's output shape:
null for a module that never runs, as the aux classifiers).

Detection of every builder: models_classic_shapes.json, the state_dict names and shapes of each
builder (GoogLeNet and Inception v3 with and without aux classifiers) with num_classes 17, built on
the meta device (no memory, no weights written).
"""
import collections
import json
import os
import sys

import torch
import torchvision
from torchvision.models.resnet import Bottleneck, ResNet

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import half_rounded, run_with_hooks, save_safetensors  # noqa: E402
import seed_models  # noqa: E402

out = sys.argv[1]
torch.manual_seed(0)
gen = torch.Generator().manual_seed(1313)

# name: (make model, expected arch, num_classes, family, input size, taps)
MODELS = collections.OrderedDict([
    ("resnext_tiny", (lambda n: ResNet(Bottleneck, [1, 1, 1, 1], num_classes=n, groups=32,
                                       width_per_group=4), "resnet", 6, "resnet", 64,
                      ["conv1", "layer1.0.conv2", "layer1.0", "layer3.0.conv2", "layer4", "fc"])),
    ("wide_resnet_tiny", (lambda n: ResNet(Bottleneck, [1, 1, 1, 1], num_classes=n,
                                           width_per_group=128), "resnet", 5, "resnet", 64,
                          ["layer1.0.conv2", "layer2.0", "layer4.0.bn3", "fc"])),
    ("densenet121", (lambda n: torchvision.models.densenet121(num_classes=n), "densenet121", 9,
                     "densenet", 64,
                     ["features.relu0", "features.denseblock1.denselayer1",
                      "features.denseblock1.denselayer2.conv1", "features.denseblock1",
                      "features.transition1", "features.transition1.pool", "features.denseblock4",
                      "features", "classifier"])),
    ("squeezenet1_0", (lambda n: torchvision.models.squeezenet1_0(num_classes=n),
                       "squeezenet1_0", 11, "squeezenet", 64,
                       ["features.1", "features.2", "features.3.squeeze_activation", "features.3",
                        "features.12", "classifier.1", "classifier"])),
    ("squeezenet1_1", (lambda n: torchvision.models.squeezenet1_1(num_classes=n),
                       "squeezenet1_1", 3, "squeezenet", 64,
                       ["features.0", "features.3", "features.6.expand3x3", "features.12",
                        "classifier.3"])),
    ("googlenet", (lambda n: torchvision.models.googlenet(num_classes=n, aux_logits=True,
                                                          transform_input=True, init_weights=True),
                   "googlenet", 7, "googlenet", 64,
                   ["conv1", "conv1.bn", "maxpool1", "inception3a", "inception3a.branch2",
                    "inception3a.branch4.0", "inception4c", "inception5b", "avgpool", "fc"])),
    ("inception_v3", (lambda n: torchvision.models.inception_v3(num_classes=n, aux_logits=False,
                                                                transform_input=True,
                                                                init_weights=True),
                      "inception_v3", 13, "inception", 80,
                      ["Conv2d_1a_3x3", "Conv2d_4a_3x3.bn", "Mixed_5b", "Mixed_5b.branch_pool",
                       "Mixed_6a", "Mixed_6b.branch7x7dbl_5", "Mixed_6e", "Mixed_7a", "Mixed_7c",
                       "Mixed_7c.branch3x3dbl_3b", "avgpool", "dropout", "fc"])),
])

BUILDERS = (["resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2",
             "wide_resnet101_2", "densenet121", "densenet161", "densenet169", "densenet201",
             "squeezenet1_0", "squeezenet1_1", "googlenet", "inception_v3"])

manifest = collections.OrderedDict()
for name, (make, arch, num_classes, family, size, taps) in MODELS.items():
    model = seed_models.randomize_bn(make(num_classes), gen)
    half_rounded(model)
    model.eval()
    sd = collections.OrderedDict(
        (k, v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items())
    save_safetensors(sd, os.path.join(out, f"models_classic_{name}.safetensors"))
    x = torch.randn(1, 3, size, size, generator=gen)
    logits, got, shapes = run_with_hooks(model, taps, x)
    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    if hasattr(model, "transform_input"):
        model.transform_input = False
        with torch.no_grad():
            expected["logits_no_transform"] = model(x)
    save_safetensors(expected, os.path.join(out, f"models_classic_{name}.expected.safetensors"))
    manifest[name] = {
        "arch": arch, "family": family, "num_classes": num_classes, "input_size": size,
        "params": sum(p.numel() for p in model.parameters()),
        "modules": [[n, type(m).__name__] for n, m in model.named_modules() if n],
        "reprs": {n: repr(m) for n, m in model.named_modules() if n and not list(m.children())},
        "shapes": shapes,
    }
    del model

shapes = collections.OrderedDict()
with torch.device("meta"):
    for builder in BUILDERS:
        for aux in ([True, False] if builder in ("googlenet", "inception_v3") else [None]):
            kwargs = {} if aux is None else {"aux_logits": aux, "init_weights": False}
            model = getattr(torchvision.models, builder)(num_classes=17, **kwargs)
            key = builder if aux in (None, True) else builder + "_noaux"
            shapes[key] = [[k, list(v.shape)] for k, v in model.state_dict().items()]
            del model

for name, doc in (("models_classic_shapes.json", shapes),
                  ("models_classic_manifest.json", manifest)):
    tmp = os.path.join(out, name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=None if name.endswith("shapes.json") else 1)
    os.replace(tmp, os.path.join(out, name))
