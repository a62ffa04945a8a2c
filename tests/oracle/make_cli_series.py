"""Fixtures for tests/cli/test_diff.py and test_evolve.py, written with torch.save (PyPI torch):
  series/a.pth, series/b.pth    a before/after pair: B perturbs some tensors by known amounts,
                                drops one key, adds one, changes one shape; A holds an all-zero
                                tensor (relative change undefined), a bfloat16 and an int tensor
  series/run/epoch_N.pth        a short real training run of a small CNN (SGD on random data),
                                training checkpoints {"epoch", "model", "optimizer"}, N = 0, 1, 2,
                                5, 10, 12 (natural order differs from plain string order)
  series/plain/*.pth            three state_dicts named so that only their names give the order
  series/odd/*.pth              a series where a key disappears and a shape changes midway
The tests compute numpy's float64 figures themselves from these files (torch.load in the test).
"""
import collections
import os
import sys

import torch
from torch import nn


def save(obj, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(16, 4)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def pair(out):
    g = torch.Generator().manual_seed(3)
    a = collections.OrderedDict()
    a["conv.weight"] = torch.randn(8, 3, 3, 3, generator=g)
    a["conv.bias"] = torch.zeros(8)
    a["bn.running_mean"] = torch.randn(8, generator=g)
    a["bn.num_batches_tracked"] = torch.tensor(5)
    a["fc.weight"] = torch.randn(4, 16, generator=g)
    a["half.weight"] = torch.randn(32, generator=g).bfloat16()
    a["steps"] = torch.arange(6)
    a["gone"] = torch.ones(2)
    a["reshaped"] = torch.ones(2, 3)
    b = collections.OrderedDict((k, v.clone()) for k, v in a.items())
    b["conv.weight"] += 0.01 * torch.randn(8, 3, 3, 3, generator=g)
    b["conv.bias"][0] = 0.5  # from all zeros: relative change undefined
    b["bn.running_mean"][:3] = 0.0
    b["bn.num_batches_tracked"] = torch.tensor(9)
    b["fc.weight"] *= 1.5
    b["half.weight"] = (b["half.weight"].float() * 0.5).bfloat16()
    b["steps"][2] = 7
    del b["gone"]
    b["reshaped"] = torch.ones(3, 2)
    b["new"] = torch.zeros(1)
    save(a, os.path.join(out, "a.pth"))
    save(b, os.path.join(out, "b.pth"))


def run(out):
    torch.manual_seed(0)
    model = SmallNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(16, 3, 16, 16)
    y = torch.randint(0, 4, (16,))
    saved = {0, 1, 2, 5, 10, 12}
    for epoch in range(13):
        if epoch in saved:
            save({"epoch": epoch, "model": model.state_dict(), "optimizer": opt.state_dict()},
                 os.path.join(out, "run", f"epoch_{epoch}.pth"))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    for i, name in enumerate(["snap_9.pth", "snap_10.pth", "snap_100.pth"]):
        sd = collections.OrderedDict(w=torch.full((3, 3), float(i)) + torch.arange(9.).view(3, 3))
        save(sd, os.path.join(out, "plain", name))
    g = torch.Generator().manual_seed(5)
    base = collections.OrderedDict(w=torch.randn(4, 4, generator=g), v=torch.randn(5, generator=g))
    save(base, os.path.join(out, "odd", "s1.pth"))
    save(collections.OrderedDict(w=base["w"] * 2), os.path.join(out, "odd", "s2.pth"))
    save(collections.OrderedDict(w=torch.randn(2, 8, generator=g), v=base["v"] + 1),
         os.path.join(out, "odd", "s3.pth"))


def main(out):
    out = os.path.join(out, "series")
    pair(out)
    run(out)


if __name__ == "__main__":
    main(sys.argv[1])
