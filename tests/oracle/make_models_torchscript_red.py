"""Fixtures for tests/models/test_torchscript_red_cli.py: the red team's TorchScript
archives, made with today's PyTorch and, where torch.jit.script would not write them, by editing
the code/ text of a saved archive (records rewritten uncompressed, as torch.jit.save stores them).

models_ts_red_NAME.pt, NAME:
  tap       a submodule that defines cnnscope_tap (the method name cnnscope once added for taps),
            exported, writing models_ts_red_written.pt and reading /etc/passwd; forward is benign
  setstate  __setstate__ that writes models_ts_red_written.pt, spelled `def __setstate__ (`
  cast      forward casts a small module to a bigger module class (unchecked_cast) and reads a
            slot the small one lacks
  loop      forward never ends (`while i >= 0: i += 1`)
  zeros     forward asks for torch.zeros of 2**50 elements
  empty     forward returns torch.empty (uninitialised memory)
  warn      forward calls warnings.warn with terminal escape codes
  setattr   forward changes its own attribute
  syntax    code/ that does not compile
  nesting   brackets nested 100 deep
  chain     one sum of CHAIN terms (an expression CHAIN levels deep: deeper than a default
            8 MiB stack holds for LibTorch's recursive compiler)
  longline  a statement over 64 KiB
  listmul   [0] * 2**40
  any       a value of type List[Any]
  classattr a class attribute without a type (`__bufoers__ = []`, a fuzzer's find)
  shared    LEVELS levels, each holding the level below twice (a DAG of 2**LEVELS paths)
models_ts_red_expected.json: the logits of `tap`, `warn` and `chain` for models_ts_red_input.npy, and the
named_modules() of `shared` (the root left out).
"""
import json
import os
import sys
import warnings
import zipfile

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from hostile_models import HostileSetstate  # noqa: E402

warnings.filterwarnings("ignore")
out = sys.argv[1]
WRITTEN = os.path.join(out, "models_ts_red_written.pt")  # must never appear
torch.manual_seed(24)
LEVELS = 10  # torch.jit.script itself walks every path: 2**10 here
CHAIN = 15000  # terms of one sum: 60 KB of code, an expression 15000 levels deep


def path(name):
    return os.path.join(out, f"models_ts_red_{name}.pt")


def rewrite(name, edit):
    """Applies edit(record_name, text) -> text to every code/*.py record of the archive."""
    src = path(name)
    tmp = src + ".tmp"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if "/code/" in info.filename and info.filename.endswith(".py"):
                data = edit(info.filename, data.decode()).encode()
            zout.writestr(info.filename, data)
    os.replace(tmp, src)


def replace_forward(body, cls):
    """An edit that replaces class `cls`'s forward with `body` (lines of code, 4 spaces in)."""
    def edit(record, text):
        if not record.endswith("code/__torch__.py"):
            return text
        start = text.index(f"  def forward(self: __torch__.{cls},")
        ends = [i for i in (text.find("\n  def ", start + 1), text.find("\nclass ", start + 1))
                if i >= 0]
        end = min(ends) if ends else len(text)
        signature = text[start:text.index(":\n", text.index("->", start)) + 2]
        return text[:start] + signature + "".join("    " + line + "\n" for line in body) + \
            text[end:]
    return edit


class Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.path = WRITTEN

    def forward(self, x):
        return self.conv(x)

    @torch.jit.export
    def cnnscope_tap(self, x: torch.Tensor) -> torch.Tensor:
        torch.save(x, self.path)
        return torch.from_file("/etc/passwd", shared=False, size=64, dtype=torch.uint8).float()


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = Inner()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.ones(1)

    def forward(self, x):
        return x + self.a


class Big(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.ones(1)
        self.b = torch.ones(1)
        self.c = torch.ones(1)
        self.d = torch.ones(1)

    def forward(self, x):
        return x + self.a + self.b + self.c + self.d


class CastModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.small = Small()
        self.big = Big()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(self.big(self.small(x)).mean((2, 3)))


class Plain(nn.Module):
    """A tiny classifier whose forward the edits replace."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.count = 0

    def forward(self, x):
        return self.fc(x.mean((2, 3)))


class WarnModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        warnings.warn("\x1b[31mred from the archive\x1b[0m")
        return self.fc(x.mean((2, 3)))


class Level(nn.Module):
    def __init__(self, below):
        super().__init__()
        self.a = below
        self.b = below

    def forward(self, x):
        return self.a(x)


def shared_model(levels):
    m = nn.Linear(3, 2)
    for _ in range(levels):
        m = Level(m)
    return m


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.top = shared_model(LEVELS)

    def forward(self, x):
        return self.top(x.mean((2, 3)))


def save(model, name):
    model.eval()
    torch.jit.script(model).save(path(name))


x = torch.rand(1, 3, 8, 8)
np.save(os.path.join(out, "models_ts_red_input.npy"), x[0].numpy())
expected = {}
for model, name in ((Model(), "tap"), (WarnModel(), "warn")):
    save(model, name)
    with torch.no_grad():
        expected[name] = model.eval()(x)[0].tolist()

save(HostileSetstate(WRITTEN), "setstate")
rewrite("setstate", lambda record, text: text.replace("def __setstate__(", "def __setstate__ ("))

save(CastModel(), "cast")


# CastModel.forward: the small module cast to Big, then Big's slot d read.
rewrite("cast", replace_forward(["small = self.small", "big = unchecked_cast(__torch__.Big, small)",
                                 "d = big.d", "fc = self.fc",
                                 "return (fc).forward(torch.add(torch.mean(x, [2, 3]), d), )"],
                                "CastModel"))

for name, body in (
        ("loop", ["i = 0", "while i >= 0:", "  i = i + 1", "fc = self.fc",
                  "return (fc).forward(torch.mean(x, [2, 3]), )"]),
        ("zeros", ["big = torch.zeros([1125899906842624])",
                   "fc = self.fc", "return (fc).forward(torch.add(torch.mean(x, [2, 3]), "
                   "torch.sum(big)), )"]),
        ("empty", ["e = torch.empty([1, 2])", "return e"]),
        ("setattr", ["self.count = self.count + 1", "fc = self.fc",
                     "return (fc).forward(torch.mean(x, [2, 3]), )"]),
        ("syntax", ["return ((("]),
        ("nesting", ["y = " + "(" * 100 + "torch.mean(x, [2, 3])" + ")" * 100, "fc = self.fc",
                     "return (fc).forward(y, )"]),
        ("chain", ["y = torch.mean(x, [2, 3])", "z = " + " + ".join(["y"] * CHAIN),
                   "fc = self.fc", "return (fc).forward(z, )"]),
        ("longline", ["y = torch.mean(x, [2, 3])", "z = " + " + ".join(["y"] * 20000),
                      "fc = self.fc", "return (fc).forward(z, )"]),
        ("listmul", ["n = [0] * 1099511627776", "fc = self.fc",
                     "return (fc).forward(torch.add(torch.mean(x, [2, 3]), len(n)), )"]),
        ("any", ["a = annotate(List[Any], [])", "fc = self.fc",
                 "return (fc).forward(torch.add(torch.mean(x, [2, 3]), len(a)), )"])):
    model = Plain()
    save(model, name)
    rewrite(name, replace_forward(body, "Plain"))
    if name == "chain":
        with torch.no_grad():
            y = torch.mean(x, (2, 3))
            z = y
            for _ in range(CHAIN - 1):  # the graph's order of additions
                z = z + y
            expected[name] = model.fc(z)[0].tolist()

# What fuzz_torchscript found: an unannotated class attribute crashes LibTorch 1.13's compiler.
save(Plain(), "classattr")
rewrite("classattr", lambda record, text: text.replace("__buffers__ = []", "__bufoers__ = []", 1)
        if record.endswith("code/__torch__.py") else text)
save(Shared(), "shared")
expected["shared_modules"] = [n for n, _ in torch.jit.script(Shared()).named_modules()][1:]

tmp = os.path.join(out, "models_ts_red_expected.json.tmp")
with open(tmp, "w") as f:
    json.dump(expected, f)
os.replace(tmp, os.path.join(out, "models_ts_red_expected.json"))
if os.path.exists(WRITTEN):
    os.remove(WRITTEN)
