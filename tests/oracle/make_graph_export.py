"""Fixtures for tests/graph/test_export_hostile.py: a small torch.export program saved
with torch.export.save (graph_export_net.pt2, its input and logits in graph_export_net.npz), and
graph_export_view.pt2 (exported with batch 1 and x.view(x.size(0), -1), so a batch must run one image
at a time; its logits and block1's output for a batch of 2 in graph_export_view.npz), and
hostile archives made by editing that archive's records the way an attacker could:
  from_file.pt2   a node's target rewritten to torch.ops.aten.from_file.default (reads a file)
  custom_op.pt2   a node's target rewritten to torch.ops.mylib.evil.default (a custom namespace)
  outside.pt2     the weights config naming record '../../outside' (a path outside the archive)
  pickled.pt2     a weight marked use_pickle (loading it would unpickle)
  version.pt2     archive_version 7 (a version cnnscope does not understand)
  deep.pt2        model.json nested 100,000 lists deep
  cycle.pt2       the first node reads the last node's output (a cycle)
  expand_sum.pt2  an expand of the input to 2^44 elements, then a sum over it
  newline.pt2     a node reading a value named "v\nsecond line" (nothing makes it)
  type_error.pt2  a node's int list given as strings
  values.pt2      model.json padded with 8 million zeros
Written by Python's zipfile (stored records), as any editor of the archive would write them.
"""
import json
import os
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(2501)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.act = nn.ReLU()
        self.head = nn.Linear(4 * 8 * 8, 5)

    def forward(self, x):
        x = self.block1(x)
        x = self.act(x + 1.0)
        return self.head(torch.flatten(F.relu(x), 1))


model = Net().eval()
x = torch.randn(2, 1, 8, 8)
base = os.path.join(out, "graph_export_net.pt2")
torch.export.save(torch.export.export(model, (x,)), base)
with torch.no_grad():
    np.savez(os.path.join(out, "graph_export_net.npz"), input=x.numpy(), logits=model(x).numpy())


class ViewNet(Net):
    """flatten written as x.view(x.size(0), -1): exported with batch 1, the 1 is fixed in the graph."""

    def forward(self, x):
        x = self.block1(x)
        x = self.act(x + 1.0)
        return self.head(F.relu(x).view(x.size(0), -1))


view = ViewNet().eval()
one = torch.randn(1, 1, 8, 8)
torch.export.save(torch.export.export(view, (one,)), os.path.join(out, "graph_export_view.pt2"))
with torch.no_grad():
    taps = {}
    view.block1.register_forward_hook(lambda m, i, o: taps.__setitem__("block1", o.clone()))
    np.savez(os.path.join(out, "graph_export_view.npz"), input=x.numpy(),
             logits=view(x).numpy(), block1=taps["block1"].numpy())


def records(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def write(name, recs):
    with zipfile.ZipFile(os.path.join(out, f"graph_export_{name}.pt2"), "w",
                         zipfile.ZIP_STORED) as z:
        for filename, data in recs:
            z.writestr(filename, data)


def edit(name, suffix, change):
    recs = []
    for filename, data in records(base):
        if filename.endswith(suffix):
            data = change(data)
        recs.append((filename, data))
    write(name, recs)


def edit_program(name, change):
    def apply(data):
        program = json.loads(data)
        change(program)
        return json.dumps(program).encode()
    edit(name, "models/model.json", apply)


def nodes(program):
    return program["graph_module"]["graph"]["nodes"]


def set_target(target):
    def change(program):
        nodes(program)[0]["target"] = target
    return change


edit_program("from_file", set_target("torch.ops.aten.from_file.default"))
edit_program("custom_op", set_target("torch.ops.mylib.evil.default"))


def make_cycle(program):
    ns = nodes(program)
    last = ns[-1]["outputs"][0]["as_tensor"]["name"]
    ns[0]["inputs"][0]["arg"] = {"as_tensor": {"name": last}}


edit_program("cycle", make_cycle)


def weights_config(change):
    def apply(data):
        config = json.loads(data)
        first = next(iter(config["config"].values()))
        change(first)
        return json.dumps(config).encode()
    return apply


# Found by the red-team pass: an expand to 2^44 elements that a sum would read for hours, a value
# name holding a newline (a second line in the error), ints given as strings (a JSON type error),
# and 8 million JSON values (gigabytes once parsed) in a record stored in a few megabytes.
def expand_sum(program):
    ns = nodes(program)
    first = ns[0]
    x = first["inputs"][0]["arg"]["as_tensor"]["name"]
    expand = {"target": "torch.ops.aten.expand.default", "name": "expand", "metadata": {},
              "inputs": [{"name": "self", "arg": {"as_tensor": {"name": x}}, "kind": 1},
                         {"name": "size", "arg": {"as_ints": [1 << 22, 1 << 22, 8, 8]}, "kind": 1}],
              "outputs": [{"as_tensor": {"name": "huge"}}]}
    total = {"target": "torch.ops.aten.sum.default", "name": "sum", "metadata": {},
             "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "huge"}}, "kind": 1}],
             "outputs": [{"as_tensor": {"name": "huge_sum"}}]}
    ns[0:0] = [expand, total]


edit_program("expand_sum", expand_sum)


def newline_name(program):
    nodes(program)[0]["inputs"][0]["arg"] = {"as_tensor": {"name": "v\nsecond line"}}


edit_program("newline", newline_name)


def strings_for_ints(program):
    for node in nodes(program):
        for named in node["inputs"]:
            if "as_ints" in named["arg"]:
                named["arg"]["as_ints"] = ["one"] * len(named["arg"]["as_ints"])
                return


edit_program("type_error", strings_for_ints)
edit_program("values", lambda program: program.update(pad=[0] * (1 << 23)))

edit("outside", "model_weights_config.json",
     weights_config(lambda w: w.update(path_name="../../outside")))
edit("pickled", "model_weights_config.json", weights_config(lambda w: w.update(use_pickle=True)))
edit("version", "archive_version", lambda data: b"7")
edit("deep", "models/model.json", lambda data: b"[" * 100000 + b"]" * 100000)
