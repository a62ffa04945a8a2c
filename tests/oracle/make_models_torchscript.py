"""Fixtures for tests/models/test_torchscript.cpp: TorchScript archives, scripted
and traced, that cnnscope loads with LibTorch after checking their ops, and hostile archives it
must refuse without running them.

Files: models_ts_NAME_{script,trace}.pt, models_ts_NAME.expected.safetensors (input, logits and
the outputs of the modules in the manifest's taps, caught by forward hooks on the Python module,
cloned; a module called twice keeps its last output) and models_ts_manifest.json (num_classes,
params, named_modules() with class names, taps). NAME: custom (a residual add, functional ReLUs,
an in-place add after a tapped conv, a ReLU module called twice), alexnet_seed (the seed's
AlexNet), mobilenet_v2 (torchvision, random init, 96x96).
Hostile: models_ts_hostile_save.pt (forward calls torch.save into
models_ts_hostile_written.pt), models_ts_hostile_read.pt (torch.from_file), models_ts_hostile_helper.pt
(forward calls a harmless-looking method that calls torch.save), models_ts_hostile_print.pt
(print), models_ts_hostile_setstate.pt (a __setstate__ that saves a file).
"""
import collections
import json
import os
import sys
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import run_with_hooks, save_safetensors  # noqa: E402
import seed_models  # noqa: E402
from hostile_models import HostileSetstate  # noqa: E402

warnings.filterwarnings("ignore")
out = sys.argv[1]
gen = torch.Generator().manual_seed(1401)
torch.manual_seed(141)
WRITTEN = os.path.join(out, "models_ts_hostile_written.pt")  # must never appear
READ = os.path.join(out, "models_ts_manifest.json")


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.conv2(y)
        y += x  # in place, right after the tapped conv2
        return F.relu(y)


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.act = nn.ReLU(inplace=True)  # called twice
        self.block = Block(8)
        self.head = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 6)

    def forward(self, x):
        x = self.act(self.stem(x))
        x = self.block(x)
        x = self.act(self.head(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def alexnet_seed():
    return seed_models.AlexNet(num_classes=5, init_weights=True)


def mobilenet_v2():
    return torchvision.models.mobilenet_v2(num_classes=10)


MODELS = collections.OrderedDict([
    ("custom", (Custom, 32, ["stem", "act", "block", "block.conv1", "block.bn1", "block.conv2",
                             "head", "head.0", "pool", "fc"])),
    ("alexnet_seed", (alexnet_seed, 224, ["features.0", "features.1", "features.3", "features.6",
                                          "features", "classifier.6"])),
    ("mobilenet_v2", (mobilenet_v2, 96, ["features.0", "features.0.0", "features.2.conv.0.2",
                                         "features.7", "features.18", "classifier.1"])),
])

manifest = collections.OrderedDict()
for name, (make, size, taps) in MODELS.items():
    model = seed_models.randomize_bn(make(), gen).eval()
    x = torch.randn(2, 3, size, size, generator=gen)
    logits, got, _ = run_with_hooks(model, taps, x)
    torch.jit.script(model).save(os.path.join(out, f"models_ts_{name}_script.pt"))
    with torch.no_grad():
        torch.jit.trace(model, x).save(os.path.join(out, f"models_ts_{name}_trace.pt"))
    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    save_safetensors(expected, os.path.join(out, f"models_ts_{name}.expected.safetensors"))
    manifest[name] = {
        "num_classes": logits.shape[1],
        "params": sum(p.numel() for p in model.parameters()),
        "modules": [[n, type(m).__name__] for n, m in model.named_modules() if n],
        "taps": taps,
    }


class HostileSave(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.path = WRITTEN

    def forward(self, x):
        torch.save(x, self.path)
        return self.fc(x.mean((2, 3)))


class HostileRead(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.path = READ

    def forward(self, x):
        y = torch.from_file(self.path, False, 4)
        return self.fc(x.mean((2, 3))) + y.sum()


class Helper(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.path = WRITTEN

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        torch.save(x, self.path)
        return x

    def forward(self, x):
        return self.fc(self.normalize(x).mean((2, 3)))


class HostileHelper(nn.Module):
    def __init__(self):
        super().__init__()
        self.helper = Helper()

    def forward(self, x):
        return self.helper(x)


class HostilePrint(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.path = WRITTEN

    def forward(self, x):
        print("hello from the archive")
        return self.fc(x.mean((2, 3)))


def hostile(model, name):
    torch.jit.script(model).save(os.path.join(out, f"models_ts_hostile_{name}.pt"))


tmp = os.path.join(out, "models_ts_manifest.json.tmp")
with open(tmp, "w") as f:
    json.dump(manifest, f, indent=1)
os.replace(tmp, os.path.join(out, "models_ts_manifest.json"))
for model, name in [(HostileSave(), "save"), (HostileRead(), "read"), (HostileHelper(), "helper"),
                    (HostilePrint(), "print"), (HostileSetstate(WRITTEN), "setstate")]:
    hostile(model, name)
if os.path.exists(WRITTEN):
    os.remove(WRITTEN)
