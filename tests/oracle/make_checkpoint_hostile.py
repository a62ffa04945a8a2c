"""Fixtures for tests/checkpoint/test_hostile_files.py (red team): small files that describe huge
or ill-formed things, made by the oracle's PyTorch into <fixtures>/hostile/:
- shared_lists.pth: a training checkpoint whose "shared" entry is 40 levels of lists, each level
  the same list twice (torch.save's pickle memo keeps it under 2 KB; 2^40 leaves if expanded);
- shared_modules.pth: torch.save(model) of 40 levels of nn.Sequential(m, m) (state_dict() would
  have 2^40 keys); shared_small.pth: 3 such levels over a Linear, whose state_dict torch lists;
- expanded.pth: {"big": [4, 2^26] over 4 stored floats (stride (1, 0)), "small": the same 4 values
  expanded to [4, 1000]}; torch.save keeps both as their 16-byte storage plus sizes/strides;
- bool.pth: a bool tensor of 16 whose stored bytes were edited in place to 0..255 values (the
  record's offset and alignment unchanged); torch.load reads every nonzero byte as True;
- blitz.pth: the blitz CNN's state_dict (for --classes tests);
- medium.pth: a state_dict of 4 float tensors, 8 MB (for truncation tests).
"""
import os
import sys
import zipfile

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from tutorial_models import BlitzNet  # noqa: E402

out = os.path.join(sys.argv[1], "hostile")
os.makedirs(out, exist_ok=True)
LEVELS = 40

shared = []
for _ in range(LEVELS):
    shared = [shared, shared]
torch.save({"state_dict": {"w": torch.arange(3.0)}, "shared": shared},
           os.path.join(out, "shared_lists.pth"))


def shared_model(levels):
    m = nn.Linear(2, 2)
    for _ in range(levels):
        m = nn.Sequential(m, m)
    return m


torch.save(shared_model(LEVELS), os.path.join(out, "shared_modules.pth"))
torch.save(shared_model(3), os.path.join(out, "shared_small.pth"))

base = torch.tensor([[1.5], [-2.0], [0.0], [4.25]])
torch.save({"big": base.expand(4, 2 ** 26), "small": base.expand(4, 1000)},
           os.path.join(out, "expanded.pth"))

bool_path = os.path.join(out, "bool.pth")
torch.save({"b": torch.zeros(16, dtype=torch.bool)}, bool_path)
with zipfile.ZipFile(bool_path) as z:
    info = next(i for i in z.infolist() if i.filename.endswith("/data/0"))
with open(bool_path, "r+b") as f:
    f.seek(info.header_offset + 26)
    name_len = int.from_bytes(f.read(2), "little")
    extra_len = int.from_bytes(f.read(2), "little")
    f.seek(info.header_offset + 30 + name_len + extra_len)
    f.write(bytes([0, 1, 2, 3, 0, 5, 0, 0, 0x80, 0xFF, 0, 0x10, 0, 0, 0, 7]))

torch.manual_seed(0)
torch.save(BlitzNet().state_dict(), os.path.join(out, "blitz.pth"))
torch.save({f"layer{i}.weight": torch.randn(512, 1024) for i in range(4)},
           os.path.join(out, "medium.pth"))
