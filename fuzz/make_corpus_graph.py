"""Seeds for fuzz/fuzz_onnx.cpp and fuzz/fuzz_pt2.cpp, written at run time into the folder given as
argv[1]: a tiny grayscale CNN (conv, batch norm, ReLU, max pooling, nearest upsampling, a residual
add, flatten, a linear head), for argv[2] == "onnx" exported by torch.onnx.export with the dynamo
exporter and the legacy one (opsets 11 and 17), for "pt2" by torch.export.export and
torch.export.save; a few KB each."""
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


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.head = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        x = self.block(x)                   # [N, 4, 8, 8]
        x = self.up(self.pool(x)) + x       # [N, 4, 8, 8]
        x = F.avg_pool2d(F.relu(x), 2)      # [N, 4, 4, 4]
        return self.head(torch.flatten(x, 1))


model = Net().eval()
x = torch.rand(1, 1, 8, 8)
if sys.argv[2] == "pt2":
    torch.export.save(torch.export.export(model, (x,)), os.path.join(out, "net.pt2"))
    sys.exit(0)
torch.onnx.export(model, (x,), os.path.join(out, "dynamo.onnx"), dynamo=True, external_data=False)
for opset in (11, 17):
    torch.onnx.export(model, (x,), os.path.join(out, f"legacy{opset}.onnx"), dynamo=False,
                      opset_version=opset)
