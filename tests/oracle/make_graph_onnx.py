"""ONNX fixtures for tests/graph/test_onnx_graph.cpp, written into argv[1]:

- two small CNNs with random weights (Net: grayscale 28x28, Sequential blocks, batch norm,
  functional ReLU, a residual add, a module called twice, max/avg pooling, nearest and bilinear
  upsampling, flatten, a head; Ops: RGB 32x32, asymmetric/reflect padding, Clip, Split, Gather,
  Concat, ConvTranspose, Gelu, reductions, Slice with steps, Transpose, MatMul, Softmax) exported
  by torch.onnx.export with dynamo=True (default; Net also unoptimized with a dynamic batch) and
  with the legacy exporter (dynamo=False, opsets 11 and 17); beside each, its input and onnxruntime's
  output as .npy (graph_onnx_<name>.onnx, .input.npy, .expected.npy);
- one model with its initializers in an external data file beside it;
- hostile files made by editing the protobufs with the onnx Python API (graph_onnx_hostile/):
  a custom-domain op, an unknown op, external data at ../../outside, at an absolute path and
  through a symlink out of the folder, a truncated protobuf, a graph with a cycle, opset 9, and an
  initializer whose dims claim more data than it holds.
"""
import os
import shutil
import sys
import warnings

import numpy as np
import onnx
import onnxruntime
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import helper, numpy_helper

warnings.filterwarnings("ignore")
out = sys.argv[1]
os.makedirs(out, exist_ok=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.block2 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))
        self.act = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.swish = nn.Hardswish()
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.up2 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.head = nn.Linear(8 * 16 * 16, 10)

    def forward(self, x):
        x = self.block1(x)                   # [N, 8, 28, 28]
        y = self.act(self.block2(x) + x)     # the residual; `act`'s first call
        y = self.swish(self.pool(y))         # [N, 8, 14, 14]
        y = self.avg(y)                      # [N, 8, 8, 8]
        y = self.up(y) + self.up2(y)         # [N, 8, 16, 16]
        y = self.act(F.relu(y) - 0.25)       # `act`'s second call
        return self.head(torch.flatten(y, 1))


class Ops(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2)
        self.deconv = nn.ConvTranspose2d(9, 4, 3, stride=2, padding=1, output_padding=1)
        self.w = nn.Parameter(torch.randn(4, 6) * 0.5)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        x = F.pad(x, (1, 2, 0, 1))                 # asymmetric constant padding
        x = F.relu6(self.stem(x) * 3)              # [N, 8, 16, 16]
        a, b = torch.split(x, [5, 3], dim=1)
        a = F.leaky_relu(a, 0.1)
        b = torch.sigmoid(b) * F.gelu(b)
        c = x[:, 0].unsqueeze(1)                   # Gather + Unsqueeze
        x = torch.cat([a, b, c], 1)                # [N, 9, 16, 16]
        x = self.deconv(x)                         # [N, 4, 32, 32]
        x = F.hardsigmoid(x) + torch.tanh(x)
        x = x - x.mean((2, 3), keepdim=True)
        x = x / (x.pow(2).sum(1, keepdim=True) + 1e-3).sqrt()
        x = F.pad(x, (1, 1, 1, 1), mode="reflect")
        x = x[:, :, 1:-1:2, ::3]                   # Slice with steps
        x = x.permute(0, 2, 3, 1) @ self.w         # Transpose, MatMul
        x = F.adaptive_avg_pool2d(x.permute(0, 3, 1, 2), 1)
        return F.softmax(self.fc(torch.flatten(x, 1)), dim=1)


def randomize(model):
    """Random batch-norm statistics, so that the folded and unfolded graphs both matter."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return model.eval()


def export(model, x, path, **kwargs):
    tmp = path + ".tmp"
    torch.onnx.export(model, (x,), tmp, input_names=["x"], external_data=False, **kwargs)
    os.replace(tmp, path)


def expected(path, x):
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: x.numpy()})[0]


def write_case(name, model, x, **kwargs):
    path = os.path.join(out, f"graph_onnx_{name}.onnx")
    export(model, x, path, **kwargs)
    np.save(os.path.join(out, f"graph_onnx_{name}.input.npy"), x.numpy())
    y = expected(path, x)
    np.save(os.path.join(out, f"graph_onnx_{name}.expected.npy"), y)
    with torch.no_grad():
        eager = model(x).numpy()
    assert np.abs(y - eager).max() <= 1e-4 * max(1.0, np.abs(eager).max()), name
    return path


torch.manual_seed(0)
net = randomize(Net())
ops = Ops().eval()
x_net = torch.rand(2, 1, 28, 28)
x_ops = torch.rand(2, 3, 32, 32)
batch = torch.export.Dim("batch", min=1, max=64)
cases = {}
for name, model, x in [("net", net, x_net), ("ops", ops, x_ops)]:
    cases[f"{name}_dynamo"] = write_case(f"{name}_dynamo", model, x, dynamo=True)
    if name == "net":  # unoptimized Ops uses sequences (SplitToSequence), which are not run
        write_case(f"{name}_dynamo_raw", model, x, dynamo=True, optimize=False,
                   dynamic_shapes=({0: batch},))
    for opset in (11, 17):
        cases[f"{name}_legacy{opset}"] = write_case(
            f"{name}_legacy{opset}", model, x, dynamo=False, opset_version=opset,
            dynamic_axes={"x": {0: "batch"}})

# Initializers in a data file beside the model (the onnx API's external data layout).
external = os.path.join(out, "graph_onnx_external")
shutil.rmtree(external, ignore_errors=True)
os.makedirs(external)
model = onnx.load(cases["net_legacy17"])
onnx.save(model, os.path.join(external, "net.onnx"), save_as_external_data=True,
          all_tensors_to_one_file=True, location="net.data", size_threshold=0)

# Hostile files.
hostile = os.path.join(out, "graph_onnx_hostile")
shutil.rmtree(hostile, ignore_errors=True)
os.makedirs(hostile)


def save_hostile(model, name):
    with open(os.path.join(hostile, name), "wb") as f:
        f.write(model.SerializeToString())


def edited(case):
    return onnx.load(cases[case])


m = edited("net_legacy17")
m.graph.node[1].domain = "mylib"
m.graph.node[1].op_type = "Foo"
m.opset_import.append(helper.make_opsetid("mylib", 1))
save_hostile(m, "custom_domain.onnx")

m = edited("net_legacy17")
m.graph.node[1].op_type = "NotAnOp"
save_hostile(m, "unknown_op.onnx")


def external_at(location, name):
    m = edited("net_legacy17")
    t = m.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = onnx.TensorProto.EXTERNAL
    del t.external_data[:]
    for key, value in [("location", location), ("offset", "0"), ("length", "40")]:
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    save_hostile(m, name)


external_at("../../outside", "external_parent.onnx")
external_at("/etc/hostname", "external_absolute.onnx")
with open(os.path.join(out, "graph_onnx_outside.data"), "wb") as f:
    f.write(bytes(4096))
os.symlink(os.path.join("..", "graph_onnx_outside.data"), os.path.join(hostile, "link.data"))
external_at("link.data", "external_symlink.onnx")

with open(cases["net_legacy17"], "rb") as f:
    data = f.read()
with open(os.path.join(hostile, "truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])

m = edited("net_legacy17")
first, last = m.graph.node[0], m.graph.node[len(m.graph.node) - 1]
first.input[0] = last.output[0]  # the first node reads the last one's output
save_hostile(m, "cycle.onnx")

m = edited("net_legacy11")
m.opset_import[0].version = 9
save_hostile(m, "opset9.onnx")

m = edited("net_legacy17")
big = m.graph.initializer[0]
del big.dims[:]
big.dims.extend([1 << 20, 1 << 20])
save_hostile(m, "huge_dims.onnx")

# Found by the red-team pass: a Split naming no outputs (a division by zero in the kernel), an
# external-data location holding a newline (a second line in the error), a model of a million
# empty initializers (2 bytes each in the file, 250 MB once parsed), an Expand to 2^44 elements
# that a ReduceSum would read for hours.
m = edited("net_legacy17")
m.graph.node.append(helper.make_node("Split", [m.graph.input[0].name], [], name="split0", axis=0))
save_hostile(m, "split_no_outputs.onnx")
external_at("a\nb.data", "external_newline.onnx")
m = edited("net_legacy17")
for _ in range((1 << 20) + 1):
    m.graph.initializer.add()
save_hostile(m, "empty_initializers.onnx")
m = edited("net_legacy17")
x = m.graph.input[0].name
m.graph.initializer.append(helper.make_tensor("huge_shape", onnx.TensorProto.INT64, [4],
                                              [1 << 22, 1 << 22, 1, 1]))
m.graph.node.insert(0, helper.make_node("Expand", [x, "huge_shape"], ["huge"], name="expand"))
m.graph.node.insert(1, helper.make_node("ReduceSum", ["huge"], ["huge_sum"], name="sum",
                                        keepdims=0))
m.graph.output.append(helper.make_tensor_value_info("huge_sum", onnx.TensorProto.FLOAT, []))
save_hostile(m, "expand_huge.onnx")

# What each hostile file's refusal must name.
with open(os.path.join(hostile, "names.txt"), "w") as f:
    f.write("custom_domain.onnx mylib::Foo\n")
    f.write("unknown_op.onnx NotAnOp\n")
    f.write("external_parent.onnx ../../outside\n")
    f.write("external_absolute.onnx /etc/hostname\n")
    f.write("external_symlink.onnx link.data\n")
    f.write("truncated.onnx truncated.onnx\n")
    f.write("cycle.onnx cycle\n")
    f.write("opset9.onnx opset 9\n")
    f.write(f"huge_dims.onnx {edited('net_legacy17').graph.initializer[0].name}\n")
    f.write("split_no_outputs.onnx names no outputs\n")
    f.write("external_newline.onnx a\\x0ab.data\n")
    f.write("empty_initializers.onnx messages\n")
    f.write("expand_huge.onnx elements\n")
