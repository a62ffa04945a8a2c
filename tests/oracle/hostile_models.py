"""Hostile modules shared by the TorchScript oracle scripts (make_models_torchscript.py,
make_models_torchscript_red.py)."""
import torch
import torch.nn as nn


class HostileSetstate(nn.Module):
    """A classifier whose __setstate__, which torch.jit.load runs, saves a file at `path`."""

    def __init__(self, path):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.path = path

    def forward(self, x):
        return self.fc(x.mean((2, 3)))

    @torch.jit.export
    def __getstate__(self):
        return (self.training, 0)

    @torch.jit.export
    def __setstate__(self, state: tuple[bool, int]):
        torch.save(torch.zeros(1), self.path)
        self.training = state[0]
