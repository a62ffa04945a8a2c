"""Fixtures for tests/checkpoint/test_safetensors.cpp: every dtype, a 0-d and an empty tensor."""
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import save_safetensors  # noqa: E402

out = sys.argv[1]
g = torch.Generator().manual_seed(0)
sd = collections.OrderedDict()
sd["conv.weight"] = torch.randn(4, 3, 3, 3, generator=g)
sd["half"] = torch.randn(5, generator=g).half()
sd["bf16"] = torch.randn(2, 3, generator=g).bfloat16()
sd["f64"] = torch.randn(3, generator=g).double()
sd["i64"] = torch.arange(-3, 3, dtype=torch.int64)
sd["i32"] = torch.arange(4, dtype=torch.int32)
sd["i16"] = torch.arange(4, dtype=torch.int16)
sd["i8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
sd["u8"] = torch.tensor([0, 255], dtype=torch.uint8)
sd["flag"] = torch.tensor([True, False])
sd["scalar"] = torch.tensor(3.5)
sd["empty"] = torch.zeros(0, 4)
save_safetensors(sd, os.path.join(out, "dtypes.safetensors"), {"source": "oracle"})
# The same values as text (shape '-' for 0-d) for the C++ test to compare exactly (float64 repr round-trips).
with open(os.path.join(out, "dtypes.safetensors.txt"), "w") as f:
    for k, v in sd.items():
        vals = v.double().flatten().tolist()
        f.write(f"{k} {str(v.dtype)[6:]} {','.join(map(str, v.shape)) or '-'} {' '.join(repr(x) for x in vals)}\n")
