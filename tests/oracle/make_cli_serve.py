"""Fixtures for tests/cli/test_serve.py (`cnnscope serve`): two small models (the seed's AlexNet
with 5 classes, seeded init; a 1/8-width VGG11-BN with random BN statistics), an --images folder
(two real photos, a .npy input, a text file named like a photo) and what PyTorch computes for
each model and photo: logits and the default layers' forward-hook captures, as .npy files indexed
by serve/expected.json.

Usage: make_cli_serve.py OUT_DIR  (writes OUT_DIR/serve/..., each file atomically)
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import sample_photos  # noqa: E402
import seed_models  # noqa: E402
from oracle_common import preset_transforms, run_with_hooks, tiny_vgg11_bn  # noqa: E402

PRESETS = preset_transforms()

out = os.path.join(sys.argv[1], "serve")
images = os.path.join(out, "images")
os.makedirs(images, exist_ok=True)
torch.manual_seed(0)
gen = torch.Generator().manual_seed(19)


def atomic(name, write):
    path = os.path.join(out, name)
    tmp = path + ".tmp"
    write(tmp)
    os.replace(tmp, path)
    return name


alexnet = seed_models.AlexNet(num_classes=5, init_weights=True).eval()
vgg = seed_models.randomize_bn(tiny_vgg11_bn(num_classes=4), gen).eval()
models = [("alexnet.pth", alexnet, "alexnet", ["features.1", "features.4", "features.7"]),
          ("vgg.pth", vgg, "imagenet", ["features.2", "features.6", "features.10"])]

photos = sample_photos.photos("grace_hopper.jpg", "chelsea.png")
for p in photos:
    atomic(os.path.join("images", os.path.basename(p)), lambda t, p=p: shutil.copyfile(p, t))
atomic("images/input.npy",
       lambda t: np.save(open(t, "wb"), torch.randn(3, 224, 224, generator=gen).numpy()))
atomic("images/fake.jpg", lambda t: open(t, "w").write("this is not a picture\n"))
atomic("not_an_image.txt", lambda t: open(t, "w").write("plain text\n"))

expected = {"models": [], "photos": [os.path.basename(p) for p in photos]}
for file, model, preset, layers in models:
    atomic(file, lambda t, model=model: torch.save(model.state_dict(), t))
    entry = {"file": file, "preset": preset, "default_layers": layers, "images": {}}
    for p in photos:
        with Image.open(p) as im:
            x = PRESETS[preset](im.convert("RGB"))
        logits, taps, _ = run_with_hooks(model, layers, x.unsqueeze(0))
        stem = f"{file[:-4]}_{os.path.basename(p)}"
        case = {"logits": atomic(stem + "_logits.npy",
                                 lambda t, a=logits: np.save(open(t, "wb"), a[0].numpy()))}
        for layer in layers:
            case[layer] = atomic(f"{stem}_{layer}.npy",
                                 lambda t, a=taps[layer]: np.save(open(t, "wb"), a[0].numpy()))
        entry["images"][os.path.basename(p)] = case
    expected["models"].append(entry)
atomic("expected.json", lambda t: json.dump(expected, open(t, "w"), indent=1))
