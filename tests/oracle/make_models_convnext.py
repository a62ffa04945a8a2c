"""Fixtures for tests/models/test_convnext.cpp: ConvNeXt and RegNet under timm's key layout
(timm, pinned in scripts/oracle-requirements.txt) and the seed series' (seed_layouts_convnext.py:
ConvNeXt/model.py, the official release's layout, and Test10_regnet/model.py).

Parity, without storing weights: each parity model gets the weights of `recipe` (a formula of
the key's index in the state_dict and of the element's index, with non-trivial BN statistics,
LayerNorm affines and layer scales), which test_convnext.cpp computes the same way from the key
names and shapes; num_classes 7, a 64x64 input. models_convnext_NAME.expected.safetensors holds
the input, the logits and the outputs of the taps (forward hooks, cloned), under the file's
module names. models_convnext_manifest.json: for each parity model its arch, layout, keys
[[name, shape], ...], taps and every module's output shape (forward hooks); under "shapes" the keys and shapes of the sizes below (built on
the meta device: no weights), for detection from keys and shapes alone.
"""
import collections
import json
import math
import os
import sys

import timm
import torch

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import run_with_hooks, save_safetensors  # noqa: E402
import seed_layouts_convnext as seed  # noqa: E402

out = sys.argv[1]
CLASSES = 7
SIZE = 64
HASH_ELEMENT, HASH_KEY, HASH_MOD = 2654435761, 2246822519, 2 ** 32


def recipe(name, shape, k):
    """The weights of key number `k` (state_dict order) named `name`: u in [-0.5, 0.5) from an
    integer hash of (element, k), then scaled by the key's kind. test_convnext.cpp's recipe()."""
    n = math.prod(shape)
    h = (torch.arange(1, n + 1, dtype=torch.int64) * HASH_ELEMENT + (k + 1) * HASH_KEY) % HASH_MOD
    u = h.double() / HASH_MOD - 0.5
    last = name.rsplit(".", 1)[-1]
    if len(shape) >= 2:  # conv and linear weights: variance 1 / fan_in
        scale, offset = 2.0 * math.sqrt(3.0 * shape[0] / n), 0.0
    elif last == "running_var":
        scale, offset = 1.0, 1.0
    elif last in ("gamma", "layer_scale"):
        scale, offset = 1.0, 1.0
    elif last == "weight":  # BN and LayerNorm
        scale, offset = 0.4, 1.0
    else:  # biases, running means
        scale, offset = 0.2, 0.0
    return (u * scale + offset).float().reshape(shape)


def with_recipe(model):
    sd = model.state_dict()
    filled = collections.OrderedDict()
    for k, (name, t) in enumerate(sd.items()):
        filled[name] = t if not t.is_floating_point() else recipe(name, list(t.shape), k)
    model.load_state_dict(filled, strict=True)
    return model.eval()


# name: (arch, layout, builder, taps at several depths, under the file's names)
PARITY = collections.OrderedDict([
    ("timm_convnext_tiny", ("timm/convnext_tiny", "timm",
                            lambda: timm.create_model("convnext_tiny", num_classes=CLASSES),
                            ["stem", "stem.1", "stages.0.blocks.1.conv_dw",
                             "stages.0.blocks.1.norm", "stages.0.blocks.1.mlp.act", "stages.0.blocks.1.mlp.fc2",
                             "stages.0.blocks.1.drop_path", "stages.1.downsample", "stages.1",
                             "stages.2.blocks.8", "stages.3", "head.global_pool",
                             "head.norm", "head.flatten", "head.fc", "head"])),
    ("seed_convnext_tiny", ("seed/convnext_tiny", "seed",
                            lambda: seed.official_convnext("convnext_tiny", CLASSES),
                            ["downsample_layers.0", "downsample_layers.0.1", "stages.0.1.dwconv",
                             "stages.0.1.norm", "stages.0.1.pwconv1", "stages.0.1.act",
                             "stages.0.1.pwconv2", "stages.0.1.drop_path", "stages.0.1",
                             "downsample_layers.2", "stages.2", "stages.3.2", "norm", "head"])),
    ("timm_regnetx_008", ("timm/regnetx_008", "timm",
                          lambda: timm.create_model("regnetx_008", num_classes=CLASSES),
                          ["stem", "stem.conv", "stem.bn.act", "s1.b1.conv1", "s1.b1.conv1.bn.act",
                           "s1.b1.downsample", "s2.b2.conv3.bn", "s2.b2.conv3", "s2.b2.act3",
                           "s2.b2", "s3", "s4.b5", "head.global_pool.pool",
                           "head.fc"])),
    ("timm_regnety_008", ("timm/regnety_008", "timm",
                          lambda: timm.create_model("regnety_008", num_classes=CLASSES),
                          ["s1.b1.conv2", "s1.b1.se.fc1", "s1.b1.se.act", "s1.b1.se.gate",
                           "s1.b1.se", "s2.b3", "s4.b2", "head.fc"])),
    ("seed_regnety_400mf", ("seed/regnety_400mf", "seed",
                            lambda: seed.SeedRegNet("regnety_400mf", CLASSES),
                            ["stem", "stem.act", "s1.b1.conv1.act", "s1.b1.se.ac1", "s1.b1.se.ac2",
                             "s1.b1.se", "s1.b1.conv3.bn", "s2.b2.ac3", "s3.b4", "s4",
                             "head.pool", "head.fc"])),
    ("seed_regnetx_400mf", ("seed/regnetx_400mf", "seed",
                            lambda: seed.SeedRegNet("regnetx_400mf", CLASSES),
                            ["stem.bn", "s1.b1", "s3.b7.conv3", "s4.b1.downsample", "s4.b12",
                             "head.fc"])),
])

# Detection: the sizes of each layout up to ~40M parameters (building the bigger ones in the
# C++ test costs more time than CI has for it; their keys differ only in counts and widths), among
# them the variants with pycls's widths of torchvision's sizes, two of the seed's sizes torchvision
# does not build, and every size both layouts name.
SHAPES = collections.OrderedDict(
    [(f"timm/{n}", lambda n=n: timm.create_model(n, num_classes=CLASSES))
     for n in ("convnext_tiny", "convnext_small", "regnetx_008", "regnety_008", "regnety_016",
               "regnety_032")]
    + [(f"seed/{n}", lambda n=n: seed.official_convnext(n, CLASSES))
       for n in ("convnext_tiny", "convnext_small")]
    + [(f"seed/{n}", lambda n=n: seed.SeedRegNet(n, CLASSES))
       for n in ("regnetx_200mf", "regnetx_400mf", "regnetx_800mf", "regnetx_1.6gf",
                 "regnety_400mf", "regnety_600mf", "regnety_800mf", "regnety_1.6gf",
                 "regnety_3.2gf", "regnety_8.0gf")])


def keys_of(model):
    return [[k, list(v.shape)] for k, v in model.state_dict().items()]


manifest = {"parity": collections.OrderedDict(), "shapes": collections.OrderedDict()}
x = torch.rand(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(27)) * 4 - 2
for name, (arch, layout, build, taps) in PARITY.items():
    torch.manual_seed(0)
    model = with_recipe(build())
    names = {n for n, _ in model.named_modules()}
    missing = [t for t in taps if t not in names]
    assert not missing, (name, missing)
    logits, got, shapes = run_with_hooks(model, taps, x)
    assert logits.shape == (1, CLASSES) and torch.isfinite(logits).all(), name
    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    save_safetensors(expected, os.path.join(out, f"models_convnext_{name}.expected.safetensors"))
    manifest["parity"][name] = {"arch": arch, "layout": layout, "num_classes": CLASSES,
                                "keys": keys_of(model), "taps": taps, "shapes": shapes}
    del model

with torch.device("meta"):
    for arch, build in SHAPES.items():
        manifest["shapes"][arch] = keys_of(build())

tmp = os.path.join(out, "models_convnext_manifest.json.tmp")
with open(tmp, "w") as f:
    json.dump(manifest, f)
os.replace(tmp, os.path.join(out, "models_convnext_manifest.json"))
