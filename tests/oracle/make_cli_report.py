"""Fixtures for tests/cli/test_report.py, under OUT_DIR/report/:
  alexnet.pth      the seed's AlexNet, 5 classes, its own init (torch.save)
  resnet18.pth     torchvision's ResNet18, 5 classes, random BN statistics
  unknown.pth      a small conv net that is in no zoo family (weights only)
  classes.json     the seed's class_indices.json
  broken.jpg       a JPEG cut off after its first bytes
  expected.json    what PyTorch predicts for assets/chelsea.png with each model's preset (softmax)
Usage: make_cli_report.py OUT_DIR  (each file written atomically)
"""
import collections
import json
import os
import sys

import torch
import torchvision
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import seed_models  # noqa: E402
from oracle_common import preset_transforms  # noqa: E402

PHOTO = os.path.join(os.path.dirname(__file__), "..", "..", "assets", "chelsea.png")
CLASSES = {"0": "daisy", "1": "dandelion", "2": "roses", "3": "sunflowers", "4": "tulips"}
PRESETS = preset_transforms()


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main(out_dir):
    out = os.path.join(out_dir, "report")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(3)
    models = {
        "alexnet": (seed_models.AlexNet(num_classes=5, init_weights=True), "alexnet"),
        "resnet18": (seed_models.randomize_bn(torchvision.models.resnet18(num_classes=5), gen),
                     "imagenet"),
    }
    photo = Image.open(PHOTO).convert("RGB")
    expected = {}
    for name, (model, preset) in models.items():
        model.eval()
        save(model.state_dict(), os.path.join(out, name + ".pth"))
        with torch.no_grad():
            probs = torch.softmax(model(PRESETS[preset](photo).unsqueeze(0))[0], 0)
        expected[name] = {"preset": preset, "probabilities": probs.double().tolist()}
    unknown = collections.OrderedDict()
    unknown["encoder.stem.weight"] = torch.randn(16, 3, 5, 5, generator=gen)
    unknown["encoder.stem.bias"] = torch.randn(16, generator=gen)
    unknown["head.proj.weight"] = torch.randn(10, 16, generator=gen)
    save(unknown, os.path.join(out, "unknown.pth"))
    write_atomic(os.path.join(out, "classes.json"), json.dumps(CLASSES).encode())
    write_atomic(os.path.join(out, "broken.jpg"), b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    write_atomic(os.path.join(out, "expected.json"), json.dumps(expected).encode())


if __name__ == "__main__":
    main(sys.argv[1])
