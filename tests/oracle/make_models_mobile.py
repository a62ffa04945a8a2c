"""Fixtures for tests/models/ (test_mobile.cpp): MobileNet v2/v3, MNASNet, ShuffleNet v2,
EfficientNet b/v2, RegNet X/Y and ConvNeXt as torchvision 0.29 builds them.

Full parity, for the smallest variant of each family (and the block kinds only a bigger one has:
mobilenet_v3_large, efficientnet_v2_s's FusedMBConv, regnet_x's blocks without SE), each with an
unusual num_classes and random weights (stored as float16 and used rounded, so files stay small),
non-trivial BN statistics, LayerNorm affines and ConvNeXt layer scales (torchvision's 1e-6 would
hide the blocks): models_mobile_NAME.safetensors (the state_dict),
models_mobile_NAME.expected.safetensors (a 64x64 input, logits, the outputs of the taps caught by
forward hooks, cloned when returned) and an entry in models_mobile_manifest.json (arch, family,
classes, params, named_modules() with class names, leaf reprs, every module's output shape by
hook: null for a module that never runs, as ShuffleNet's empty branch1).

Detection of every builder: models_mobile_shapes.json, the state_dict names and shapes of each
builder with num_classes 17, built without running any initializer (fast; no weights written: the
C++ test expands zero-dim tensors to these shapes).
"""
import collections
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision
from torchvision.models.convnext import CNBlock

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import half_rounded, run_with_hooks, save_safetensors  # noqa: E402
import seed_models  # noqa: E402

out = sys.argv[1]
torch.manual_seed(0)
gen = torch.Generator().manual_seed(13)
SIZE = 64

# name: (builder, num_classes, expected family, taps)
MODELS = collections.OrderedDict([
    ("mobilenet_v2", ("mobilenet_v2", 7, "mobilenet_v2",
                      ["features.0", "features.0.2", "features.1.conv", "features.3",
                       "features.3.conv.1.0", "features.18", "classifier.1"])),
    ("mobilenet_v3_small", ("mobilenet_v3_small", 9, "mobilenet_v3",
                            ["features.0", "features.1.block.0", "features.1.block.1",
                             "features.1.block.1.scale_activation", "features.5", "features.12",
                             "avgpool", "classifier.1", "classifier"])),
    ("mobilenet_v3_large", ("mobilenet_v3_large", 11, "mobilenet_v3",
                            ["features.0", "features.3", "features.4.block.2", "features.16",
                             "classifier.0"])),
    ("mnasnet0_5", ("mnasnet0_5", 13, "mnasnet",
                    ["layers.2", "layers.8.0", "layers.8.1", "layers.8.1.layers.3", "layers.13",
                     "layers.16", "classifier"])),
    ("shufflenet_v2_x0_5", ("shufflenet_v2_x0_5", 6, "shufflenet",
                            ["conv1", "maxpool", "stage2.0.branch1", "stage2.0",
                             "stage2.1.branch2", "stage2.1", "stage4", "conv5", "fc"])),
    ("efficientnet_b0", ("efficientnet_b0", 5, "efficientnet",
                         ["features.0", "features.1.0.block.1", "features.2.1",
                          "features.2.1.stochastic_depth", "features.4.0.block.2.fc1",
                          "features.8", "avgpool", "classifier"])),
    ("efficientnet_v2_s", ("efficientnet_v2_s", 4, "efficientnet",
                           ["features.1.0", "features.1.0.block.0", "features.2.0",
                            "features.2.0.block.1", "features.4.1", "features.7", "classifier"])),
    ("regnet_y_400mf", ("regnet_y_400mf", 12, "regnet",
                        ["stem", "trunk_output.block1.block1-0.proj",
                         "trunk_output.block1.block1-0.f.se", "trunk_output.block1.block1-0.f.b",
                         "trunk_output.block2.block2-1", "trunk_output.block2.block2-1.activation",
                         "trunk_output", "avgpool", "fc"])),
    ("regnet_x_400mf", ("regnet_x_400mf", 3, "regnet",
                        ["stem", "trunk_output.block1.block1-0", "trunk_output.block1.block1-0.f.c",
                         "trunk_output.block3.block3-2", "fc"])),
    ("convnext_tiny", ("convnext_tiny", 8, "convnext",
                       ["features.0", "features.0.1", "features.1.0.block.1",
                        "features.1.0.block.2", "features.1.0.block.4", "features.1.0",
                        "features.2", "features.7", "avgpool", "classifier.0", "classifier.1",
                        "classifier"])),
])

BUILDERS = (["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"]
            + [f"mnasnet{a}" for a in ("0_5", "0_75", "1_0", "1_3")]
            + [f"shufflenet_v2_x{a}" for a in ("0_5", "1_0", "1_5", "2_0")]
            + [f"efficientnet_b{i}" for i in range(8)]
            + [f"efficientnet_v2_{s}" for s in "sml"]
            + [f"regnet_y_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf",
                                         "32gf", "128gf")]
            + [f"regnet_x_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf",
                                         "32gf")]
            + [f"convnext_{s}" for s in ("tiny", "small", "base", "large")])


def randomize(model):
    """BN statistics (seed_models.randomize_bn), LayerNorm affines and layer scales made
    non-trivial, so eval-mode parity means something."""
    seed_models.randomize_bn(model, gen)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
            if isinstance(m, CNBlock):
                m.layer_scale.copy_(torch.rand(m.layer_scale.shape, generator=gen) + 0.5)
    return model


manifest = collections.OrderedDict()
for name, (builder, num_classes, family, taps) in MODELS.items():
    model = randomize(getattr(torchvision.models, builder)(num_classes=num_classes))
    half_rounded(model)
    model.eval()
    sd = collections.OrderedDict(
        (k, v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items())
    save_safetensors(sd, os.path.join(out, f"models_mobile_{name}.safetensors"))
    x = torch.randn(1, 3, SIZE, SIZE, generator=gen)
    logits, got, shapes = run_with_hooks(model, taps, x)
    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    save_safetensors(expected, os.path.join(out, f"models_mobile_{name}.expected.safetensors"))
    manifest[name] = {
        "arch": builder, "family": family, "num_classes": num_classes,
        "params": sum(p.numel() for p in model.parameters()),
        "modules": [[n, type(m).__name__] for n, m in model.named_modules() if n],
        "reprs": {n: repr(m) for n, m in model.named_modules() if n and not list(m.children())},
        "shapes": {n: shapes.get(n) for n, m in model.named_modules() if n},
    }
    del model


# Every builder's state_dict names and shapes, built without running any initializer.
def no_init(*args, **kwargs):
    return args[0] if args else None


for fn in ("kaiming_normal_", "kaiming_uniform_", "normal_", "constant_", "uniform_",
           "trunc_normal_", "ones_", "zeros_"):
    setattr(nn.init, fn, no_init)
for cls in (nn.Linear, nn.Conv2d, nn.BatchNorm2d, nn.LayerNorm):
    cls.reset_parameters = lambda self: None
shapes = collections.OrderedDict()
for builder in BUILDERS:
    model = getattr(torchvision.models, builder)(num_classes=17)
    shapes[builder] = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    del model

for name, doc in (("models_mobile_shapes.json", shapes),
                  ("models_mobile_manifest.json", manifest)):
    tmp = os.path.join(out, name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=None if name.endswith("shapes.json") else 1)
    os.replace(tmp, os.path.join(out, name))
