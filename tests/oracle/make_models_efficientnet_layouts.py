"""Fixtures for tests/models/test_efficientnet_layouts.cpp and efficientnet_layouts_cli.py:
EfficientNet under timm's names (timm 1.0.31) and the seed series' (seed_layouts_efficientnet.py).

Full parity for timm's efficientnet_b0 and tf_efficientnet_b0 (TensorFlow's SAME padding, BN eps
1e-3) and the seed series' efficientnet_b0 (BN eps 1e-3), each with num_classes 7, random weights
(stored as float16, used rounded) and non-trivial BN statistics:
models_efflayout_NAME.safetensors (the state_dict), models_efflayout_NAME.expected.safetensors (a
96x80 input, so that SAME padding pads unevenly, the logits and the cloned outputs of the taps
caught by forward hooks) and an entry in models_efflayout_manifest.json (the arch to name, the
file's named_modules() and every module's output shape by hook: null for one that never runs).

Detection and init of every layout arch: models_efflayout_shapes.json, the state_dict names and
shapes of each with num_classes 17, built on the meta device (no weights, no init).
"""
import collections
import json
import os
import sys

import timm
import torch

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import half_rounded, run_with_hooks, save_safetensors  # noqa: E402
import seed_layouts_efficientnet as seed  # noqa: E402
import seed_models  # noqa: E402

out = sys.argv[1]
torch.manual_seed(0)
gen = torch.Generator().manual_seed(27)
INPUT = (1, 3, 96, 80)

# name: (the arch cnnscope names it, builder, taps compared by value)
PARITY = collections.OrderedDict([
    ("timm_efficientnet_b0", (
        "timm/efficientnet_b0", lambda: timm.create_model("efficientnet_b0", num_classes=7),
        ["bn1", "blocks.0.0.bn1", "blocks.0.0.se.gate", "blocks.1.0.bn2", "blocks.1.1.drop_path",
         "blocks.1.1", "blocks.3", "blocks.5.2.bn3", "bn2", "global_pool.pool", "classifier"])),
    ("timm_tf_efficientnet_b0", (
        "timm/tf_efficientnet_b0",
        lambda: timm.create_model("tf_efficientnet_b0", num_classes=7),
        ["bn1", "conv_stem", "blocks.1.0.conv_dw", "blocks.1.0", "blocks.2.0.bn2", "blocks.3",
         "blocks.6.0", "bn2", "classifier"])),
    ("seed_efficientnet_b0", (
        "seed/efficientnet_b0", lambda: seed.EfficientNet("b0", 7),
        ["features.stem_conv", "features.1a.block.dwconv.2", "features.2b.dropout",
         "features.2b", "features.4c.block.se.ac2", "features.5a.block.project_conv",
         "features.top", "features", "avgpool", "classifier"])),
])

# Every layout arch (its key names and shapes), as timm or the seed's predict.py builds it.
SHAPES = collections.OrderedDict(
    [(f"timm/{n}", (lambda n=n: timm.create_model(n, num_classes=17)))
     for n in ("efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
               "tf_efficientnet_b0", "tf_efficientnetv2_s")]
    + [(f"seed/efficientnet_{b}", (lambda b=b: seed.EfficientNet(b, 17)))
       for b in seed.TEST9_SIZES]
    + [(f"seed/efficientnetv2_{s}", (lambda s=s: seed.EfficientNetV2(s, 17)))
       for s in seed.TEST11_SIZES])

manifest = collections.OrderedDict()
for name, (arch, build, taps) in PARITY.items():
    model = seed_models.randomize_bn(build(), gen)
    half_rounded(model)
    model.eval()
    sd = collections.OrderedDict(
        (k, v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items())
    save_safetensors(sd, os.path.join(out, f"models_efflayout_{name}.safetensors"))
    x = torch.randn(*INPUT, generator=gen)
    logits, got, shapes = run_with_hooks(model, taps, x)
    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    save_safetensors(expected, os.path.join(out, f"models_efflayout_{name}.expected.safetensors"))
    manifest[name] = {
        "arch": arch, "num_classes": 7,
        "keys": [[k, list(v.shape)] for k, v in model.state_dict().items()],
        "shapes": shapes,
    }
    del model

shapes = collections.OrderedDict()
with torch.device("meta"):
    for arch, build in SHAPES.items():
        shapes[arch] = [[k, list(v.shape)] for k, v in build().state_dict().items()]

for name, doc in (("models_efflayout_shapes.json", shapes),
                  ("models_efflayout_manifest.json", manifest)):
    tmp = os.path.join(out, name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, os.path.join(out, name))
