"""End-to-end `cnnscope convert`: the .pth it writes is read back by Python's torch.load as an
OrderedDict equal to the original (names, dtypes, shapes, values), the .safetensors holds the same
values with safetensors dtype codes (BF16 kept); bad input leaves no output file behind."""
import collections
import json
import os
import struct
import sys
import tempfile
import unittest

import torch

from cli_common import fixture, read_safetensors, run  # noqa: E402


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
            r = run("convert", fixture(src), out)
            self.assertEqual(r.returncode, 0, r.stderr)
            got = torch.load(out)
            self.assertIsInstance(got, collections.OrderedDict)
            self.assert_same(got, pick(torch.load(fixture(src))))

    def test_safetensors_keeps_dtypes(self):
        out = os.path.join(self.dir, "out.safetensors")
        r = run("convert", fixture("ckpt_dtypes.pth"), out)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = read_safetensors(out)
        self.assert_same(got, torch.load(fixture("ckpt_dtypes.pth")))
        with open(out, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            self.assertEqual(n % 8, 0)
            self.assertEqual(json.loads(f.read(n))["bf16"]["dtype"], "BF16")

    def test_bad_input_leaves_no_file(self):
        hostile = fixture("ckpt_hostile")
        for name in ("truncated.pth", "os_system.pth", "extent.pth", "random.pth"):
            out = os.path.join(self.dir, "out.pth")
            r = run("convert", os.path.join(hostile, name), out)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
            self.assertEqual(os.listdir(self.dir), [])
        r = run("convert", fixture("ckpt_dtypes.pth"), os.path.join(self.dir, "x.txt"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown output format", r.stderr)
        self.assertEqual(os.listdir(self.dir), [])

    def test_refuses_to_overwrite_its_input(self):
        src = os.path.join(self.dir, "in.pth")
        with open(fixture("ckpt_dtypes.pth"), "rb") as f:
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
