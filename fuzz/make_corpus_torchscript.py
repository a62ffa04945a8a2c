"""Seeds for fuzz/fuzz_torchscript.cpp, written at run time into the folder given as argv[1]:
small scripted and traced CNNs (a conv, batch norm, ReLU, pooling, a residual add, a loop, a
tuple return, a submodule call), a few KB each."""
import os
import sys
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings("ignore")
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)) + x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.blocks = nn.Sequential(Block(), Block())
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        for _ in range(2):
            x = x * 0.5
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        y = self.fc(x.mean((2, 3)))
        return y, y.sum()


x = torch.rand(1, 3, 8, 8)
torch.jit.script(Net().eval()).save(os.path.join(out, "script_net.pt"))
torch.jit.trace(Net().eval(), x).save(os.path.join(out, "trace_net.pt"))
torch.jit.script(Pair().eval()).save(os.path.join(out, "script_pair.pt"))
