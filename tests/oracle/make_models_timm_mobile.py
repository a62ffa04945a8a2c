"""Fixtures for tests/models/test_timm_mobile.cpp and test_timm_mobile_cli.py: timm's
mobilenetv2_100, mobilenetv3_large_100 and mobilenetv3_small_100 (PyPI timm, pinned in
scripts/oracle-requirements.txt) as timm.create_model builds them, under timm's own key names.

Each with num_classes 7, timm's random init, non-trivial BN statistics and affines
(seed_models.randomize_bn), weights rounded to float16 (stored so, small files):
models_timm_mobile_NAME.safetensors (the state_dict), models_timm_mobile_NAME.expected.safetensors
(a 96x96 input, the logits, the outputs of taps at several depths by forward hooks, under timm's
module names) and an entry in models_timm_mobile_manifest.json: arch ("timm/NAME"), family,
classes, params, the state_dict's names and shapes in order (for init) and the output shape of
every module that runs (forward hooks; a module that never runs, as drop_path without a skip, is
left out).
"""
import collections
import json
import os
import sys

import timm
import torch

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import half_rounded, run_with_hooks, save_safetensors  # noqa: E402
import seed_models  # noqa: E402

out = sys.argv[1]
torch.manual_seed(0)
gen = torch.Generator().manual_seed(2718)
SIZE = 96
NUM_CLASSES = 7

# timm name: (family, taps at several depths: BatchNormAct2d outputs (after the activation) and
# their drop (before it), blocks, stages, SE, the head)
MODELS = collections.OrderedDict([
    ("mobilenetv2_100", ("mobilenet_v2",
                         ["bn1", "bn1.drop", "blocks.0", "blocks.1.0.conv_pw", "blocks.1.0",
                          "blocks.2", "blocks.4.2.bn3", "blocks.4.1.bn2.drop", "bn2",
                          "global_pool", "classifier"])),
    ("mobilenetv3_large_100", ("mobilenet_v3",
                               ["bn1", "blocks.0", "blocks.1.0.bn2", "blocks.2.1.se",
                                "blocks.2.1.se.gate", "blocks.3.2.bn1", "blocks.4", "blocks.6",
                                "global_pool", "flatten", "classifier"])),
    ("mobilenetv3_small_100", ("mobilenet_v3",
                               ["bn1", "blocks.0.0.bn1", "blocks.0.0.se", "blocks.0",
                                "blocks.2.1.conv_dw", "blocks.3", "blocks.5.0.bn1", "flatten",
                                "classifier"])),
])

manifest = collections.OrderedDict()
for name, (family, taps) in MODELS.items():
    model = seed_models.randomize_bn(timm.create_model(name, num_classes=NUM_CLASSES), gen)
    half_rounded(model)
    model.eval()
    sd = collections.OrderedDict(
        (k, v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items())
    save_safetensors(sd, os.path.join(out, f"models_timm_mobile_{name}.safetensors"))
    x = torch.randn(1, 3, SIZE, SIZE, generator=gen)
    logits, got, shapes = run_with_hooks(model, taps, x)
    assert set(got) == set(taps), set(taps) - set(got)
    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    save_safetensors(expected,
                     os.path.join(out, f"models_timm_mobile_{name}.expected.safetensors"))
    manifest[name] = {
        "arch": "timm/" + name, "family": family, "num_classes": NUM_CLASSES,
        "params": sum(p.numel() for p in model.parameters()),
        "keys": [[k, list(v.shape)] for k, v in model.state_dict().items()],
        "shapes": {n: s for n, s in shapes.items() if s is not None},
    }

tmp = os.path.join(out, "models_timm_mobile_manifest.json.tmp")
with open(tmp, "w") as f:
    json.dump(manifest, f, indent=None)
os.replace(tmp, os.path.join(out, "models_timm_mobile_manifest.json"))
