"""Checkpoint cases shared by make_checkpoint_pth.py and make_cli_checkpoints.py: real torch.save
files (zip, legacy, pickle protocols 2-5, training dicts, DataParallel prefix, every dtype, views)
with their expected contents as text, and hostile or broken files crafted byte by byte.

Expected-values text format, one tensor per line: `name dtype shape v0 v1 ...` (shape `-` for 0-d),
values as Python reprs of float64 (exact for every dtype used here).
"""
import collections
import io
import os
import pickle
import struct
import zipfile

import torch


def _atomic_write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _atomic_save(obj, path, **kwargs):
    # torch.save names the zip's top-level folder after the file's stem: keep the real name.
    stem, ext = os.path.splitext(path)
    tmp = stem + "_tmp" + ext
    torch.save(obj, tmp, **kwargs)
    os.replace(tmp, path)


def write_expected(sd, path):
    lines = []
    for k, v in sd.items():
        vals = v.double().flatten().tolist()
        shape = ",".join(map(str, v.shape)) or "-"
        lines.append(f"{k} {str(v.dtype)[6:]} {shape} {' '.join(repr(x) for x in vals)}\n")
    _atomic_write(path, "".join(lines).encode())


class SmallNet(torch.nn.Module):
    """Conv + BN + Linear: the layer kinds whose state the real models hold."""

    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                                            torch.nn.ReLU())
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))


def small_net():
    torch.manual_seed(0)
    net = SmallNet()
    with torch.no_grad():
        net.features[1].running_mean.uniform_(-1, 1)
        net.features[1].running_var.uniform_(0.5, 2)
        net.features[1].num_batches_tracked.fill_(5)
    return net


def dtype_views():
    """Every dtype, plus views that share one storage, a transposed tensor, 0-d and empty."""
    g = torch.Generator().manual_seed(1)
    base = torch.randn(4, 6, generator=g)
    sd = collections.OrderedDict()
    sd["f32"] = torch.randn(2, 3, generator=g)
    sd["f16"] = torch.randn(5, generator=g).half()
    sd["bf16"] = torch.randn(2, 2, generator=g).bfloat16()
    sd["f64"] = torch.randn(3, generator=g).double()
    sd["i64"] = torch.arange(-3, 3, dtype=torch.int64)
    sd["i32"] = torch.arange(4, dtype=torch.int32) * -7
    sd["i16"] = torch.arange(4, dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 255, 7], dtype=torch.uint8)
    sd["flag"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 4)
    sd["base"] = base
    sd["row_view"] = base[2]              # offset 12 into base's storage
    sd["col_view"] = base[:, 3]           # stride 6
    sd["transposed"] = base.t()           # strides (1, 6)
    sd["strided"] = base[1:, ::2]         # offset 6, strides (6, 2)
    return sd


def untyped_dtypes():
    """The dtypes torch 2.x saves with _rebuild_tensor_v3 over an UntypedStorage (no typed storage
    class): uint16/32/64 at their extremes (exact as float64), float8 e4m3fn/e5m2, a view."""
    g = torch.Generator().manual_seed(3)
    sd = collections.OrderedDict()
    sd["u16"] = torch.tensor([0, 1, 65535, 40000], dtype=torch.uint16)
    sd["u32"] = torch.tensor([0, 7, 2**32 - 1], dtype=torch.uint32)
    sd["u64"] = torch.tensor([0, 2**40 + 3, 2**63], dtype=torch.uint64)
    sd["f8_e4m3fn"] = (torch.randn(6, generator=g) * 4).to(torch.float8_e4m3fn)
    f8 = (torch.randn(3, 4, generator=g) * 100).to(torch.float8_e5m2)
    sd["f8_e5m2"] = f8
    sd["f8_e5m2_col"] = f8[:, 1]          # a view: stride 4 into the same untyped storage
    sd["f32"] = torch.randn(3, generator=g)  # a typed storage in the same file
    return sd


def requires_grad_tensors():
    """torch.save of tensors with requires_grad (leaf and Parameter) next to plain ones."""
    g = torch.Generator().manual_seed(4)
    sd = collections.OrderedDict()
    sd["leaf"] = torch.randn(2, 3, generator=g).requires_grad_()
    sd["param"] = torch.nn.Parameter(torch.randn(4, generator=g))
    sd["plain"] = torch.arange(3, dtype=torch.int64)
    return sd


def training_checkpoint():
    net = small_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.randn(2, 3, 8, 8)).sum().backward()
    opt.step()
    return {"epoch": 7, "arch": "smallnet", "state_dict": net.state_dict(),
            "optimizer": opt.state_dict(), "best_acc1": torch.tensor(71.5),
            "history": [0.5, 0.25], "config": {"lr": 0.1, "nested": {"depth": 2}}}


# --- hand-made pickles -------------------------------------------------------------------------

def _u(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _i(n):
    return b"J" + struct.pack("<i", n)


def _glob(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def tensor_pickle(numel, size, stride, offset=0, storage="FloatStorage"):
    """An OrderedDict {'w': tensor} pickled as torch.save does, with chosen numbers."""
    return (b"\x80\x02" + _glob("collections", "OrderedDict") + b")R(" + _u("w") +
            _glob("torch._utils", "_rebuild_tensor_v2") + b"((" + _u("storage") +
            _glob("torch", storage) + _u("0") + _u("cpu") + _i(numel) + b"tQ" + _i(offset) +
            b"(" + b"".join(_i(s) for s in size) + b"t(" + b"".join(_i(s) for s in stride) +
            b"t\x89" + _glob("collections", "OrderedDict") + b")Rtq\x00Ru.")


def zip_with_pickle(path, pkl, records=None, name="archive"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{name}/data.pkl", pkl)
        for k, v in (records or {}).items():
            z.writestr(f"{name}/data/{k}", v)
        z.writestr(f"{name}/version", "3\n")
    _atomic_write(path, buf.getvalue())


class _RunsShell:
    def __reduce__(self):
        import os as _os
        return (_os.system, ("touch /tmp/cnnscope-pwned",))


def hostile_cases(out):
    """Files that must be refused: name -> (path, words the one-line error must contain)."""
    cases = {}

    def add(name, data, *words):
        path = os.path.join(out, name)
        if data is not None:
            _atomic_write(path, data)
        cases[name] = (path, words)

    good = io.BytesIO()
    torch.save(small_net().state_dict(), good)
    good = good.getvalue()
    legacy = io.BytesIO()
    torch.save(small_net().state_dict(), legacy, _use_new_zipfile_serialization=False)
    legacy = legacy.getvalue()

    add("empty.pth", b"", "empty")
    add("truncated.pth", good[: len(good) // 2], "zip")
    add("truncated_legacy.pth", legacy[: len(legacy) - 100], "storage")
    add("random.pth", bytes((i * 197 + 13) % 256 for i in range(4096)), "not a recognized")
    add("text.pth", b"this is not a checkpoint\n" * 20, "not a recognized")
    # A pickle calling os.system through GLOBAL + REDUCE (made by pickle, never loaded here).
    os_system = pickle.dumps(_RunsShell(), protocol=2)
    zip_with_pickle(os.path.join(out, "os_system.pth"), os_system)
    cases["os_system.pth"] = (os.path.join(out, "os_system.pth"), ("system", "not allowed"))
    zip_with_pickle(os.path.join(out, "memo.pth"), b"\x80\x02h\x05.")
    cases["memo.pth"] = (os.path.join(out, "memo.pth"), ("memo index 5",))
    zip_with_pickle(os.path.join(out, "setitems_list.pth"), b"\x80\x02](" + _u("a") + b"K\x01u.")
    cases["setitems_list.pth"] = (os.path.join(out, "setitems_list.pth"), ("not a dict",))
    zip_with_pickle(os.path.join(out, "extent.pth"), tensor_pickle(1000, [1000], [1]),
                    {"0": b"\0" * 24})
    cases["extent.pth"] = (os.path.join(out, "extent.pth"), ("holds 24 bytes",))
    zip_with_pickle(os.path.join(out, "view_extent.pth"), tensor_pickle(6, [4, 4], [4, 1]),
                    {"0": b"\0" * 24})
    cases["view_extent.pth"] = (os.path.join(out, "view_extent.pth"), ("reaches element 15",))
    zip_with_pickle(os.path.join(out, "huge.pth"), tensor_pickle(2**31 - 1, [2**31 - 1], [1]),
                    {"0": b"\0" * 24})
    cases["huge.pth"] = (os.path.join(out, "huge.pth"), ("holds 24 bytes",))
    zip_with_pickle(os.path.join(out, "unknown_opcode.pth"), b"\x80\x02\xff.")
    cases["unknown_opcode.pth"] = (os.path.join(out, "unknown_opcode.pth"), ("unknown opcode 0xff",))
    zip_with_pickle(os.path.join(out, "missing_record.pth"), tensor_pickle(6, [6], [1]))
    cases["missing_record.pth"] = (os.path.join(out, "missing_record.pth"), ("missing",))
    # data.pkl whose central-directory entry declares 2 GiB (found by fuzz_load: LibTorch would
    # allocate the declared size before reading).
    at = -1
    cd = good.find(b"PK\x01\x02")
    while cd >= 0:
        name_len = struct.unpack_from("<H", good, cd + 28)[0]
        if good[cd + 46:cd + 46 + name_len].endswith(b"/data.pkl"):
            at = cd
            break
        cd = good.find(b"PK\x01\x02", cd + 4)
    patched = bytearray(good)
    struct.pack_into("<I", patched, at + 24, 2**31 - 1)
    add("huge_record.pth", bytes(patched), "data.pkl", "declares 2147483647 bytes")
    return cases


def write_cases_list(cases, path):
    _atomic_write(path, "".join(f"{os.path.basename(p)}\t{'|'.join(w)}\n"
                                for p, w in cases.values()).encode())
