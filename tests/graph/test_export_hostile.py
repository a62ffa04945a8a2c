"""End-to-end, torch.export programs (fixtures: tests/oracle/make_graph_export.py): the
saved program runs with PyTorch's logits and taps its modules by path; every hostile archive made
by editing its records (an op that reads files, a custom namespace op, a weight record outside
the archive, a pickled weight, an unknown archive version, JSON nested 100,000 deep, a cycle) is
refused in one line naming what is wrong, nothing is written, and `ls` and `summary` agree; so is
what a red-team pass found (an expand to 2^44 elements summed, a newline in a value name, JSON type
errors, 8 million JSON values)."""
import json
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import assert_forward_close, assert_one_line_error, fixture, run  # noqa: E402


class Program(unittest.TestCase):
    def test_logits_and_taps(self):
        data = np.load(fixture("graph_export_net.npz"))
        with tempfile.TemporaryDirectory() as tmp:
            x = os.path.join(tmp, "x.npy")
            np.save(x, data["input"][0])
            r = run("predict", fixture("graph_export_net.pt2"), "--image", x, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            assert_forward_close(self, json.loads(r.stdout)["logits"], data["logits"][0], "logits")
            r = run("summary", fixture("graph_export_net.pt2"), "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            doc = json.loads(r.stdout)
            self.assertEqual([m["name"] for m in doc["layers"]],
                             ["block1", "block1.0", "block1.1", "block1.2", "act", "head"])
            self.assertEqual(doc["num_classes"], 5)
            r = run("ls", fixture("graph_export_net.pt2"), "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("block1.0.weight", r.stdout)


    def test_batch_fixed_at_one_runs_image_by_image(self):
        data = np.load(fixture("graph_export_view.npz"))
        with tempfile.TemporaryDirectory() as tmp:
            images = []
            for i in range(2):
                images += ["--image", os.path.join(tmp, f"x{i}.npy")]
                np.save(images[-1], data["input"][i])
            out = os.path.join(tmp, "features")
            r = run("features", fixture("graph_export_view.pt2"), *images, "--batch", "2",
                    "--layers", "block1", "--npy", "-o", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            for i in range(2):
                got = np.load(os.path.join(out, f"x{i}", "block1.npy"))
                assert_forward_close(self, got, data["block1"][i], f"block1 of image {i}")


class Hostile(unittest.TestCase):
    def test_refused_in_one_line(self):
        cases = (("from_file", "aten::from_file"), ("custom_op", "mylib::evil"),
                 ("outside", "../../outside"), ("pickled", "pickle"), ("version", "version 7"),
                 ("deep", "nests deeper"), ("cycle", "before any node makes it"),
                 ("expand_sum", "elements"), ("newline", "v\\x0asecond line"),
                 ("type_error", "malformed"), ("values", "JSON values"))
        for name, what in cases:
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                archive = fixture(f"graph_export_{name}.pt2")
                out = os.path.join(tmp, "features")
                x = os.path.join(tmp, "x.npy")
                np.save(x, np.zeros((1, 8, 8), np.float32))
                r = run("features", archive, "--image", x, "-o", out)
                line = assert_one_line_error(self, r, archive)
                self.assertIn(what, line)
                self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
