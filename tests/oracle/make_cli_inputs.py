"""Fixtures for the one-channel and small-input tests (tests/cli/test_inputs.py), under
OUT_DIR/inputs/:
  mnist.pt       pytorch/examples' MNIST Net (1x28x28), TorchScript (torch.jit.script)
  mnist.pth      the same net's state_dict
  tiny.pt        a custom nn.Sequential (Conv2d 1->4 k3, ReLU, Dropout, Identity, QuantStub,
                 Flatten, Linear 2704->3), TorchScript: one channel, 28x28 only
  tiny_whole.pth the same Sequential pickled whole (torch.save(model))
  pair.pt        TorchScript of a net with a module `two` that returns a tuple (no single tensor)
  digits/        three 28x28 gray PNGs and one 40x40 (a batch break)
  short.json     classes {"0": "zero", "1": "one"} (fewer than the nets' classes)
  short.txt      the same, one per line
  expected.json  PyTorch's log-probabilities of mnist.pt for digits/*.png as the mnist preset
                 makes them (Resize(28), CenterCrop(28), Grayscale, ToTensor, Normalize)
Usage: make_cli_inputs.py OUT_DIR  (each file written atomically)
"""
import json
import os
import sys
from typing import Tuple

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from tutorial_models import MnistNet  # noqa: E402


def atomic(path, write):
    tmp = path + ".tmp"
    write(tmp)
    os.replace(tmp, path)


def tiny():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Dropout(0.1), nn.Identity(),
                         torch.ao.quantization.QuantStub(), nn.Flatten(), nn.Linear(4 * 26 * 26, 3))


class Two(nn.Module):
    def forward(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
        return x, x * 2


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.two = Two()
        self.fc = nn.Linear(4 * 26 * 26, 3)

    def forward(self, x):
        a, b = self.two(self.conv(x))
        return self.fc((a + b).flatten(1))


def mnist_input(path):
    from torchvision import transforms
    t = transforms.Compose([transforms.Resize(28), transforms.CenterCrop(28),
                            transforms.Grayscale(), transforms.ToTensor(),
                            transforms.Normalize((0.1307,), (0.3081,))])
    return t(Image.open(path).convert("RGB"))


def main(out_dir):
    out = os.path.join(out_dir, "inputs")
    os.makedirs(os.path.join(out, "digits"), exist_ok=True)
    torch.manual_seed(0)
    mnist = MnistNet().eval()
    atomic(os.path.join(out, "mnist.pt"), lambda p: torch.jit.script(mnist).save(p))
    atomic(os.path.join(out, "mnist.pth"), lambda p: torch.save(mnist.state_dict(), p))
    small = tiny().eval()
    atomic(os.path.join(out, "tiny.pt"), lambda p: torch.jit.script(small).save(p))
    atomic(os.path.join(out, "tiny_whole.pth"), lambda p: torch.save(small, p))
    pair = Pair().eval()
    atomic(os.path.join(out, "pair.pt"), lambda p: torch.jit.script(pair).save(p))
    rng = np.random.default_rng(0)
    names = ["a.png", "b.png", "c.png", "d.png"]
    sides = [28, 28, 28, 40]
    for name, side in zip(names, sides):
        pixels = rng.integers(0, 256, (side, side), dtype=np.uint8)
        atomic(os.path.join(out, "digits", name),
               lambda p: Image.fromarray(pixels, "L").save(p, format="PNG"))
    atomic(os.path.join(out, "short.json"),
           lambda p: open(p, "w").write(json.dumps({"0": "zero", "1": "one"})))
    atomic(os.path.join(out, "short.txt"), lambda p: open(p, "w").write("zero\none\n"))
    expected = {}
    with torch.no_grad():
        for name in names:
            x = mnist_input(os.path.join(out, "digits", name)).unsqueeze(0)  # [1, 1, 28, 28]
            expected[name] = mnist(x)[0].double().tolist()
    atomic(os.path.join(out, "expected.json"),
           lambda p: open(p, "w").write(json.dumps(expected)))


if __name__ == "__main__":
    main(sys.argv[1])
