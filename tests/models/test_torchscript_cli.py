"""End-to-end, TorchScript archives (fixtures: make_models_torchscript.py):
`summary --json` lists Python's named_modules() with class names and the parameter count,
`predict --json` gives the archive's logits (PyTorch's forward), `features --npy` a tapped module's
output as PyTorch's forward hook sees it (1e-4 of the largest magnitude), for scripted and traced
archives; hostile archives exit 1 with one line naming the op and the method, and the file their
forward would write never appears."""
import json
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import assert_forward_close, fixture, read_safetensors, run  # noqa: E402


def manifest():
    with open(fixture("models_ts_manifest.json")) as f:
        return json.load(f)


class Archives(unittest.TestCase):
    def test_summary_predict_features_equal_pytorch(self):
        for name, tap in (("custom", "block.conv2"), ("mobilenet_v2", "features.2.conv.0.2")):
            want = manifest()[name]
            expected = read_safetensors(fixture(f"models_ts_{name}.expected.safetensors"))
            size = expected["input"].shape[-1]
            for how in ("script", "trace"):
                archive = fixture(f"models_ts_{name}_{how}.pt")
                with self.subTest(name=name, how=how), tempfile.TemporaryDirectory() as tmp:
                    r = run("summary", archive, "--json", "--input-size", str(size))
                    self.assertEqual(r.returncode, 0, r.stderr)
                    doc = json.loads(r.stdout)
                    self.assertEqual(doc["family"], "torchscript")
                    self.assertEqual(doc["num_classes"], want["num_classes"])
                    self.assertEqual(doc["params"], want["params"])
                    self.assertEqual([[m["name"], m["type"]] for m in doc["layers"]],
                                     want["modules"])

                    x = os.path.join(tmp, "x.npy")
                    np.save(x, expected["input"][0].numpy())
                    r = run("predict", archive, "--image", x, "--json")
                    self.assertEqual(r.returncode, 0, r.stderr)
                    assert_forward_close(self, json.loads(r.stdout)["logits"],
                                         expected["logits"][0].numpy(), "logits")

                    out = os.path.join(tmp, "features")
                    r = run("features", archive, "--image", x, "--layers", tap, "--npy", "-o", out)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    got = np.load(os.path.join(out, tap + ".npy"))
                    assert_forward_close(self, got, expected["tap." + tap][0].numpy(), tap)


class Hostile(unittest.TestCase):
    def test_refused_by_op_nothing_written(self):
        written = fixture("models_ts_hostile_written.pt")
        for name, what in (("save", "op aten::save in HostileSave.forward"),
                           ("read", "op aten::from_file in HostileRead.forward"),
                           ("helper", "op aten::save in Helper.normalize"),
                           ("print", "op prim::Print in HostilePrint.forward"),
                           ("setstate", "__setstate__, which loading would run")):
            with self.subTest(name):
                if os.path.exists(written):
                    os.remove(written)
                archive = fixture(f"models_ts_hostile_{name}.pt")
                r = run("summary", archive, "--input-size", "8")
                self.assertEqual(r.returncode, 1)
                self.assertEqual(r.stdout, "")
                lines = r.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertTrue(lines[0].startswith(f"cnnscope: error: {archive}: refused"),
                                lines[0])
                self.assertIn(what, lines[0])
                self.assertNotIn("hello from the archive", r.stdout + r.stderr)
                self.assertFalse(os.path.exists(written))


if __name__ == "__main__":
    unittest.main()
