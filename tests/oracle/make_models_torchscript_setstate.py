"""Fixture for tests/models/test_torchscript_setstate.cpp: a TorchScript archive whose
__getstate__ returns a dict of tensors (so the state_dict reader accepts it) and whose
__setstate__, which torch::jit::load would run, saves a file (models_ts_setstate_written.pt,
removed here; it must never appear when cnnscope opens the archive)."""
import os
import sys
import warnings
from typing import Dict

import torch
import torch.nn as nn

warnings.filterwarnings("ignore")
out = sys.argv[1]
WRITTEN = os.path.join(out, "models_ts_setstate_written.pt")


class TensorState(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.ones(2, 3)
        self.path = WRITTEN

    def forward(self, x):
        return x.mean((2, 3)) @ self.w.t()

    @torch.jit.export
    def __getstate__(self) -> Dict[str, torch.Tensor]:
        return {"w": self.w}

    @torch.jit.export
    def __setstate__(self, state: Dict[str, torch.Tensor]):
        torch.save(state["w"], self.path)
        self.w = state["w"]
        self.training = False


torch.jit.script(TensorState()).save(os.path.join(out, "models_ts_setstate_tensors.pt"))
if os.path.exists(WRITTEN):
    os.remove(WRITTEN)
