"""Fixtures for tests/cli/test_features.py: the seed's AlexNet (torch.save .pth) and ResNet34
(safetensors, random BN statistics), a 1/8-width VGG11-BN, a real photo, a random .npy input and
what PyTorch computes for them: the seed's own edited-forward outputs (seed_models.seed_outputs,
in-place ReLU aliasing included) and forward-hook captures, as .npy files under features/, indexed by
features/expected.json (default and `all` layers per model, golden file per case).

Usage: make_cli_features.py OUT_DIR  (writes OUT_DIR/features/..., each file atomically)
"""
import collections
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from torchvision.models.vgg import VGG, cfgs, make_layers

sys.path.insert(0, os.path.dirname(__file__))
import seed_models  # noqa: E402
from oracle_common import preset_transforms, save_safetensors  # noqa: E402
import sample_photos  # noqa: E402

# real photos from the oracle venv: matplotlib's sample data, scikit-image's data
PHOTOS = sample_photos.photos("grace_hopper.jpg", "chelsea.png", "coffee.png")
PRESETS = preset_transforms()

out = os.path.join(sys.argv[1], "features")
os.makedirs(os.path.join(out, "images"), exist_ok=True)
torch.manual_seed(0)
gen = torch.Generator().manual_seed(5)


def target(name):
    return os.path.join(out, name)


def save_npy(name, array):
    tmp = target(name) + ".tmp.npy"
    np.save(tmp, np.ascontiguousarray(array, dtype=np.float32))
    os.replace(tmp, target(name))
    return name


def save_pth(model, name):
    tmp = target(name) + ".tmp"
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, target(name))
    return name


def tiny_vgg11_bn():
    m = VGG(make_layers([v if v == "M" else v // 8 for v in cfgs["A"]], batch_norm=True),
            num_classes=3)
    m.classifier[0] = nn.Linear(64 * 7 * 7, 64)
    m.classifier[3] = nn.Linear(64, 64)
    m.classifier[6] = nn.Linear(64, 3)
    return m


def hooked(model, x, names):
    """Forward-hook captures (cloned: a later in-place ReLU must not change them), batch squeezed."""
    modules = dict(model.named_modules())
    got, handles = {}, []
    for n in names:
        handles.append(modules[n].register_forward_hook(
            lambda m, i, o, n=n: got.__setitem__(n, o.detach().clone())))
    with torch.no_grad():
        model(x.unsqueeze(0))
    for h in handles:
        h.remove()
    return {n: got[n][0].numpy() for n in names}


def relus_after_convs(model):
    names, after_conv = [], False
    for name, m in model.features.named_children():
        if isinstance(m, nn.Conv2d):
            after_conv = True
        elif isinstance(m, nn.ReLU) and after_conv:
            names.append(f"features.{name}")
            after_conv = False
    return names


photos = PHOTOS
if not photos:
    sys.exit("make_cli_features: no sample photo found (matplotlib in the oracle venv)")
photo = target("images/" + os.path.basename(photos[0]))
shutil.copyfile(photos[0], photo + ".tmp")
os.replace(photo + ".tmp", photo)
second = target("images/second.png")  # a second photo, or a made image when only one is installed
img2 = Image.open(photos[1]).convert("RGB") if len(photos) > 1 else \
    Image.fromarray((np.random.default_rng(1).random((180, 240, 3)) * 255).astype(np.uint8))
img2.save(second + ".tmp", format="PNG")
os.replace(second + ".tmp", second)
random_input = torch.randn(3, 224, 224, generator=gen)
save_npy("images/random.npy", random_input.numpy())
pil = Image.open(photo).convert("RGB")

expected = {"photo": os.path.relpath(photo, out), "second": os.path.relpath(second, out),
            "random": "images/random.npy", "models": {}, "cases": []}


def case(model_name, image, preset, layer, array):
    file = save_npy(f"golden_{model_name}_{image}_{preset}_{layer}.npy", array)
    expected["cases"].append({"model": model_name, "image": image, "preset": preset,
                              "layer": layer, "golden": file})


# The seed's AlexNet: the seed's own pictures (edited forward) on the photo via both presets,
# every `all` layer by hooks on random input.
alexnet = seed_models.AlexNet(num_classes=5, init_weights=True).eval()
alexnet_all = relus_after_convs(alexnet)
expected["models"]["alexnet"] = {"file": save_pth(alexnet, "alexnet.pth"),
                                 "default": ["features.1", "features.4", "features.7"],
                                 "all": alexnet_all}
for preset in ("alexnet", "imagenet"):
    with torch.no_grad():
        seed = alexnet.seed_outputs(PRESETS[preset](pil).unsqueeze(0))
    for layer, t in zip(["features.1", "features.4", "features.7"], seed):  # aliased: ReLU outputs
        case("alexnet", "photo", preset, layer, t[0].numpy())
for layer, a in hooked(alexnet, random_input, alexnet_all + ["features.0"]).items():
    case("alexnet", "random", "none", layer, a)

# The seed's ResNet34 with non-trivial BN: conv1 (raw, before BN) and layer1 as the seed shows them,
# and taps inside blocks by hooks.
resnet = seed_models.randomize_bn(seed_models.resnet34(num_classes=5), gen).eval()
resnet_all = ["conv1"] + [n for n, m in resnet.named_modules()
                          if isinstance(m, seed_models.BasicBlock)]
save_safetensors(collections.OrderedDict(resnet.state_dict()), target("resnet34.safetensors"))
expected["models"]["resnet34"] = {"file": "resnet34.safetensors", "default": ["conv1", "layer1"],
                                  "all": resnet_all}
with torch.no_grad():
    seed = resnet.seed_outputs(PRESETS["imagenet"](pil).unsqueeze(0))
for layer, t in zip(["conv1", "layer1"], seed):
    case("resnet34", "photo", "imagenet", layer, t[0].numpy())
for layer, a in hooked(resnet, random_input, ["layer1.0.conv2", "layer2.0.downsample.1",
                                              "layer3"]).items():
    case("resnet34", "random", "none", layer, a)

# VGG: the defaults are the ReLUs after its first three convolutions.
vgg = seed_models.randomize_bn(tiny_vgg11_bn(), gen).eval()
vgg_default = relus_after_convs(vgg)[:3]
expected["models"]["vgg11_bn"] = {"file": save_pth(vgg, "vgg11_bn.pth"), "default": vgg_default,
                                  "all": relus_after_convs(vgg)}
small = torch.randn(3, 64, 64, generator=gen)
save_npy("images/small.npy", small.numpy())
for layer, a in hooked(vgg, small, vgg_default).items():
    case("vgg11_bn", "small", "none", layer, a)

tmp = target("expected.json") + ".tmp"
with open(tmp, "w") as f:
    json.dump(expected, f, indent=1)
os.replace(tmp, target("expected.json"))
