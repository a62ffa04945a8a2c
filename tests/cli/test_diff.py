"""End to end: `cnnscope diff` on a before/after pair (fixtures of make_cli_series.py) against
numpy's float64 figures computed here from torch.load: every JSON number within 1e-9 relative,
keys only in one file, shape mismatches, --sort change, --keys, the figures, and bad input."""
import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

import cli_common

FIX = cli_common.fixture("series")
REL = 1e-9


def numpy_diff(a, b):
    x = a.double().numpy().ravel()
    y = b.double().numpy().ravel()
    d = y - x
    la, lb, ld = np.linalg.norm(x), np.linalg.norm(y), np.linalg.norm(d)
    return {"l2_a": la, "l2_b": lb, "l2_diff": ld,
            "rel_change": ld / la if la > 0 else None,
            "cosine": float(np.dot(x, y) / (la * lb)) if la > 0 and lb > 0 else None,
            "max_abs_diff": float(np.abs(d).max()) if d.size else 0.0,
            "changed_fraction": float(np.mean(x != y)) if x.size else 0.0}


class Diff(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = torch.load(os.path.join(FIX, "a.pth"))
        cls.b = torch.load(os.path.join(FIX, "b.pth"))
        r = cli_common.run("diff", os.path.join(FIX, "a.pth"), os.path.join(FIX, "b.pth"), "--json")
        assert r.returncode == 0, r.stderr
        cls.doc = json.loads(r.stdout)

    def close(self, got, want, what):
        if want is None:
            self.assertIsNone(got, what)
        else:
            self.assertLessEqual(abs(got - want), REL * max(abs(want), 1e-300), what)

    def test_figures_equal_numpy(self):
        common = [k for k in self.a if k in self.b and self.a[k].shape == self.b[k].shape]
        self.assertEqual([t["name"] for t in self.doc["tensors"]], common)
        for t in self.doc["tensors"]:
            want = numpy_diff(self.a[t["name"]], self.b[t["name"]])
            self.assertEqual(t["shape"], list(self.a[t["name"]].shape))
            for field, value in want.items():
                self.close(t[field], value, t["name"] + " " + field)

    def test_undefined_and_counted(self):
        by = {t["name"]: t for t in self.doc["tensors"]}
        self.assertIsNone(by["conv.bias"]["rel_change"])    # A all zeros
        self.assertIsNone(by["conv.bias"]["cosine"])
        self.assertAlmostEqual(by["fc.weight"]["rel_change"], 0.5, places=6)  # float32 rounding of *1.5
        self.assertAlmostEqual(by["fc.weight"]["cosine"], 1.0, places=9)
        self.assertAlmostEqual(by["steps"]["changed_fraction"], 1 / 6, places=15)

    def test_keys_only_in_one_and_shapes(self):
        self.assertEqual(self.doc["only_in_a"], ["gone"])
        self.assertEqual(self.doc["only_in_b"], ["new"])
        self.assertEqual(self.doc["shape_mismatch"], [{"name": "reshaped", "a": [2, 3], "b": [3, 2]}])

    def test_sort_keys_table_and_plots(self):
        tmp = tempfile.mkdtemp(prefix="cnnscope-diff-")
        try:
            r = cli_common.run("diff", os.path.join(FIX, "a.pth"), os.path.join(FIX, "b.pth"),
                               "--json", "--sort", "change", "--keys", "conv.*,fc.*,half.*")
            self.assertEqual(r.returncode, 0, r.stderr)
            names = [t["name"] for t in json.loads(r.stdout)["tensors"]]
            self.assertEqual(names, ["fc.weight", "half.weight", "conv.weight", "conv.bias"])
            r = cli_common.run("diff", os.path.join(FIX, "a.pth"), os.path.join(FIX, "b.pth"),
                               "--plots", tmp)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("only in A: gone", r.stdout)
            self.assertIn("shape mismatch reshaped: [2, 3] vs [3, 2]", r.stdout)
            self.assertRegex(r.stdout, r"\nconv\n  weight +8\u00d73\u00d73\u00d73 ")
            for name in ["conv.png", "fc.png", "relative_change.png"]:
                px = cli_common.pixels(os.path.join(tmp, name))
                self.assertGreater(len(np.unique(px.reshape(-1, 3), axis=0)), 3, name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_bad_input_is_one_line(self):
        r = cli_common.run("diff", os.path.join(FIX, "a.pth"), os.path.join(FIX, "missing.pth"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertTrue(r.stderr.startswith("cnnscope: error: "), r.stderr)
        r = cli_common.run("diff", os.path.join(FIX, "a.pth"), os.path.join(FIX, "b.pth"),
                           "--keys", "convv.*")
        self.assertEqual(r.returncode, 1)
        self.assertIn("similar keys", r.stderr)


if __name__ == "__main__":
    unittest.main()
