"""Fixtures for tests/checkpoint/test_wild.*: the checkpoint kinds users have that are not a plain
state_dict, made by the oracle's PyTorch: whole-model pickles (nn.Sequential and a class defined
here, zip and legacy), TorchScript from torch.jit.script and torch.jit.trace, quantized state_dicts
(torch.ao.quantization, per-tensor and per-channel; hand-quantized quint8/qint32), training
checkpoints with numpy values, a single tensor, lists and tuples of tensors. Each file gets
`<file>.json`: what torch.load(weights_only=False) (or torch.jit.load(f).state_dict()) reads back:
content, tensors (name, dtype, shape, values as float64, quantization), the module tree (path,
class, torch.nn hyper-parameters as reprs) and the numpy values as reprs. Also the hostile
pickles that must stay refused (wild_hostile.txt: file, words its error must contain)."""
import collections
import json
import os
import pickle
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import checkpoint_cases as cc  # noqa: E402

warnings.filterwarnings("ignore")
out = os.path.join(sys.argv[1], "wild")
os.makedirs(out, exist_ok=True)
CASES = []


class Net(nn.Module):
    """A user's own class: nested Sequential, ModuleList, a conv without bias (None parameter),
    a non-persistent buffer, a None buffer, a function kept as an attribute."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 3, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(3), nn.ReLU(inplace=True))
        self.blocks = nn.ModuleList([nn.Conv2d(3, 3, 1, groups=3), nn.MaxPool2d(2, ceil_mode=True)])
        self.head = nn.Linear(3, 2)
        self.register_buffer("scale", torch.tensor([0.5, 2.0]))
        self.register_buffer("cache", torch.ones(2), persistent=False)
        self.register_buffer("unused", None)
        self.act = torch.nn.functional.relu

    def forward(self, x):
        x = self.blocks[1](self.blocks[0](self.stem(x)))
        return self.head(x.mean((2, 3))) * self.scale


class ScriptNet(nn.Module):
    """Net without the function attribute, so that torch.jit.script takes it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.bn = nn.BatchNorm2d(2)
        self.seq = nn.Sequential(nn.ReLU(), nn.Conv2d(2, 2, 1, bias=False))
        self.fc = nn.Linear(2, 3)
        self.register_buffer("offset", torch.tensor([1.0, -1.0, 0.5]))

    def forward(self, x):
        return self.fc(self.seq(self.bn(self.conv(x))).mean((2, 3))) + self.offset


def randomized(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.uniform_(0.5, 1.5) if "var" in str(t.shape) else t.normal_()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_var.uniform_(0.5, 2)
            m.num_batches_tracked.fill_(3)
    return model.eval()


def tensor_entry(name, t):
    entry = {"name": name, "shape": list(t.shape)}
    if t.is_quantized:
        entry["dtype"] = str(t.dtype)[6:]
        entry["values"] = t.dequantize().double().flatten().tolist()
        if t.qscheme() == torch.per_tensor_affine:
            entry["quantization"] = {"scheme": "per_tensor_affine", "scale": t.q_scale(),
                                     "zero_point": t.q_zero_point()}
        else:
            entry["quantization"] = {"scheme": "per_channel_affine", "axis": t.q_per_channel_axis(),
                                     "scales": t.q_per_channel_scales().tolist(),
                                     "zero_points": t.q_per_channel_zero_points().tolist()}
    else:
        entry["dtype"] = str(t.dtype)[6:]
        entry["values"] = t.detach().double().flatten().tolist()
    return entry


def state_entries(sd):
    entries = []
    for k, v in sd.items():
        if isinstance(v, torch.Tensor):
            entries.append(tensor_entry(k, v))
        elif isinstance(v, tuple) and k.endswith("_packed_params"):
            entries += [tensor_entry(f"{k}.{i}", t) for i, t in enumerate(v)
                        if isinstance(t, torch.Tensor)]
    return entries


def plain(v, depth=0):
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    return isinstance(v, (tuple, list)) and depth <= 2 and all(plain(x, depth + 1) for x in v)


def eager_modules(model):
    mods = []
    for path, m in model.named_modules():
        cls = f"{type(m).__module__}.{type(m).__qualname__}"
        hp = None
        if cls.startswith("torch.nn."):
            hp = {k: repr(v) for k, v in vars(m).items()
                  if not k.startswith("_") and k != "training" and plain(v)}
        mods.append({"path": path, "class": cls, "hparams": hp if hp is not None else {}})
    return mods


def script_modules(module, eager=None):
    """TorchScript: classes without __torch__. and mangling; hyper-parameters those of the eager
    module for torch.jit.script (its Final constants and attributes), unchecked (None) for trace."""
    eager_by_path = {m["path"]: m for m in eager_modules(eager)} if eager is not None else {}
    mods = []
    for path, m in module.named_modules():
        name = m._c._type().qualified_name()
        parts = [p for p in name.split(".") if not p.startswith("___torch_mangle_")]
        cls = ".".join(parts[1:] if parts[0] == "__torch__" else parts)
        hp = eager_by_path[path]["hparams"] if path in eager_by_path else None
        mods.append({"path": path, "class": cls, "hparams": hp})
    return mods


def write_case(name, content, tensors, modules=None, values=None):
    doc = {"content": content, "tensors": tensors, "modules": modules or [],
           "values": values or {}}
    cc._atomic_write(os.path.join(out, name + ".json"), json.dumps(doc).encode())
    CASES.append(name)


def save_and_load(name, obj, **kwargs):
    path = os.path.join(out, name)
    cc._atomic_save(obj, path, **kwargs)
    return torch.load(path, weights_only=False)


# Whole models: nn.Sequential and Net, zip and legacy.
seq = randomized(nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(),
                               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3)), 1)
net = randomized(Net(), 2)
for stem, model in (("model_sequential", seq), ("model_custom", net)):
    for suffix, kwargs in (("", {}), ("_legacy", {"_use_new_zipfile_serialization": False})):
        loaded = save_and_load(stem + suffix + ".pth", model, **kwargs)
        write_case(stem + suffix + ".pth", "model", state_entries(loaded.state_dict()),
                   eager_modules(loaded))

# A training checkpoint holding the whole model, numpy values beside it.
train = {"model": net, "epoch": 4, "loss": np.float64(0.2345), "acc": np.float32(0.1),
         "half": np.float16(0.1), "steps": np.int64(-7), "small": np.uint8(200),
         "ok": np.bool_(True), "dtype": np.dtype("float32"),
         "history": np.array([0.5, 0.25, 0.125]), "grid": np.arange(6, dtype=np.int16).reshape(2, 3),
         "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "zero_d": np.array(2.5),
         "volume": np.zeros((2, 1, 3, 2), dtype=np.float32)}
loaded = save_and_load("training_model.pth", train)
values = {k: repr(v) for k, v in loaded.items() if isinstance(v, (np.generic, np.dtype))}
values.update({k: f"array({v.tolist()!r}, dtype={v.dtype})" for k, v in loaded.items()
               if isinstance(v, np.ndarray) and v.ndim <= 3})
# Over 3 dimensions, by shape only (8 items per dimension would print 8^ndim numbers).
values.update({k: f"array(shape={list(v.shape)!r}, dtype={v.dtype})" for k, v in loaded.items()
               if isinstance(v, np.ndarray) and v.ndim > 3})
write_case("training_model.pth", "model", state_entries(loaded["model"].state_dict()),
           eager_modules(loaded["model"]), values)
# numpy values next to a plain state_dict (numpy 2's numpy._core module names).
loaded = save_and_load("training_numpy.pth", {"state_dict": seq.state_dict(),
                                              "best_loss": np.float64(1e-05),
                                              "lr": np.float32(3e-4), "seed": np.int32(42)})
write_case("training_numpy.pth", "state_dict", state_entries(loaded["state_dict"]), [],
           {k: repr(v) for k, v in loaded.items() if isinstance(v, np.generic)})

# TorchScript: script and trace.
snet = randomized(ScriptNet(), 3)
for name, module in (("script.pt", torch.jit.script(snet)),
                     ("trace.pt", torch.jit.trace(snet, torch.randn(1, 1, 5, 5)))):
    path = os.path.join(out, name)
    torch.jit.save(module, path + ".tmp")
    os.replace(path + ".tmp", path)
    back = torch.jit.load(path)
    write_case(name, "torchscript", state_entries(back.state_dict()),
               script_modules(back, snet if name == "script.pt" else None))


# Quantized state_dicts from torch.ao.quantization: per-channel (fbgemm) and per-tensor.
class Quantizable(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.conv = nn.Conv2d(1, 3, 3)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(3, 2)
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.fc(self.relu(self.conv(self.quant(x))).mean((2, 3))))


torch.backends.quantized.engine = "fbgemm"
for name, qconfig in (("quantized_per_channel.pth",
                       torch.ao.quantization.get_default_qconfig("fbgemm")),
                      ("quantized_per_tensor.pth", torch.ao.quantization.default_qconfig)):
    torch.manual_seed(5)
    m = Quantizable().eval()
    m.qconfig = qconfig
    torch.ao.quantization.prepare(m, inplace=True)
    m(torch.randn(8, 1, 6, 6))
    torch.ao.quantization.convert(m, inplace=True)
    loaded = save_and_load(name, m.state_dict())
    write_case(name, "state_dict", state_entries(loaded))
g = torch.Generator().manual_seed(6)
hand = collections.OrderedDict()
hand["u8"] = torch.quantize_per_tensor(torch.randn(2, 5, generator=g), 0.05, 128, torch.quint8)
hand["i32"] = torch.quantize_per_tensor(torch.randn(4, generator=g), 0.001, -3, torch.qint32)
hand["axis1"] = torch.quantize_per_channel(torch.randn(2, 3, generator=g),
                                           torch.tensor([0.1, 0.02, 0.3], dtype=torch.double),
                                           torch.tensor([0, 2, -1]), 1, torch.qint8)
hand["plain"] = torch.arange(3.0)
for name, kwargs in (("quantized_hand.pth", {}),
                     ("quantized_hand_legacy.pth", {"_use_new_zipfile_serialization": False})):
    write_case(name, "state_dict", state_entries(save_and_load(name, hand, **kwargs)))

# A single tensor, a list and a tuple of tensors.
t = torch.randn(2, 3, generator=g)
write_case("tensor.pth", "tensor", [tensor_entry("0", save_and_load("tensor.pth", t))])
write_case("tensor_legacy.pth", "tensor",
           [tensor_entry("0", save_and_load("tensor_legacy.pth", t,
                                            _use_new_zipfile_serialization=False))])
for name, obj in (("tensor_list.pth", [t, torch.arange(4), t[1]]),
                  ("tensor_tuple.pth", (torch.ones(1, dtype=torch.float16), t.t()))):
    loaded = save_and_load(name, obj)
    write_case(name, "tensors", [tensor_entry(str(i), x) for i, x in enumerate(loaded)])

cc._atomic_write(os.path.join(out, "cases.txt"), "".join(c + "\n" for c in CASES).encode())


# Hostile pickles: still refused by name, whatever else is now read.
class _Eval:
    def __reduce__(self):
        return (eval, ("1+1",))


class _GetAttr:
    def __reduce__(self):
        return (getattr, (nn.Module, "load_state_dict"))


class _Load:
    def __reduce__(self):
        return (torch.load, ("/etc/passwd",))


class _CallsClass:
    def __reduce__(self):
        return (Net, ())


hostile = {"eval.pth": (_Eval(), ("builtins.eval", "not allowed")),
           "getattr.pth": (_GetAttr(), ("builtins.getattr", "not allowed")),
           "torch_load.pth": (_Load(), ("torch.serialization.load", "not allowed")),
           "calls_class.pth": ({"m": _CallsClass()}, ("__main__.Net", "does not call"))}
lines = []
for name, (obj, words) in hostile.items():
    cc.zip_with_pickle(os.path.join(out, name), pickle.dumps(obj, protocol=2))
    lines.append(f"{name}\t{'|'.join(words)}\n")
cc._atomic_write(os.path.join(out, "wild_hostile.txt"), "".join(lines).encode())
