"""End-to-end `cnnscope convert`: the .pth it writes is read back by Python's torch.load as an
OrderedDict equal to the original (names, dtypes, shapes, values), the .safetensors holds the same
values with safetensors dtype codes (BF16 kept); bad input leaves no output file behind."""
import collections
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import torch

BIN = os.environ.get("CNNSCOPE_BIN", "build/cnnscope")
FIX = os.environ.get("CNNSCOPE_FIXTURES", "build/fixtures")
CODES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
         "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
         "U8": torch.uint8, "BOOL": torch.bool}


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n], object_pairs_hook=collections.OrderedDict)
    data = raw[8 + n:]
    out = collections.OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=torch.uint8) if e > b else \
            torch.zeros(0, dtype=torch.uint8)
        out[name] = t.view(CODES[info["dtype"]]).reshape(info["shape"])
    return out


class Convert(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def assert_same(self, got, want):
        self.assertEqual(list(got.keys()), list(want.keys()))
        for k in want:
            self.assertEqual(got[k].dtype, want[k].dtype, k)
            self.assertEqual(got[k].shape, want[k].shape, k)
            self.assertTrue(torch.equal(got[k], want[k]), k)

    def test_pth_reads_back_in_torch_load(self):
        for src, pick in (("ckpt_dtypes.pth", lambda x: x), ("ckpt_legacy.pth", lambda x: x),
                          ("ckpt_training.pth", lambda x: x["state_dict"])):
            out = os.path.join(self.dir, "out.pth")
            r = run("convert", os.path.join(FIX, src), out)
            self.assertEqual(r.returncode, 0, r.stderr)
            got = torch.load(out)
            self.assertIsInstance(got, collections.OrderedDict)
            self.assert_same(got, pick(torch.load(os.path.join(FIX, src))))

    def test_safetensors_keeps_dtypes(self):
        out = os.path.join(self.dir, "out.safetensors")
        r = run("convert", os.path.join(FIX, "ckpt_dtypes.pth"), out)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = read_safetensors(out)
        self.assert_same(got, torch.load(os.path.join(FIX, "ckpt_dtypes.pth")))
        with open(out, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            self.assertEqual(n % 8, 0)
            self.assertEqual(json.loads(f.read(n))["bf16"]["dtype"], "BF16")

    def test_bad_input_leaves_no_file(self):
        hostile = os.path.join(FIX, "ckpt_hostile")
        for name in ("truncated.pth", "os_system.pth", "extent.pth", "random.pth"):
            out = os.path.join(self.dir, "out.pth")
            r = run("convert", os.path.join(hostile, name), out)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
            self.assertEqual(os.listdir(self.dir), [])
        r = run("convert", os.path.join(FIX, "ckpt_dtypes.pth"), os.path.join(self.dir, "x.txt"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown output format", r.stderr)
        self.assertEqual(os.listdir(self.dir), [])

    def test_refuses_to_overwrite_its_input(self):
        src = os.path.join(self.dir, "in.pth")
        with open(os.path.join(FIX, "ckpt_dtypes.pth"), "rb") as f:
            original = f.read()
        with open(src, "wb") as f:
            f.write(original)
        r = run("convert", src, src)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refusing to overwrite an input", r.stderr)
        with open(src, "rb") as f:
            self.assertEqual(f.read(), original)
        self.assertEqual(os.listdir(self.dir), ["in.pth"])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]])
