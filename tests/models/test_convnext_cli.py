"""End-to-end, ConvNeXt and RegNet under other key layouts: `cnnscope init timm/convnext_tiny`
(timm/regnety_008, seed/regnety_400mf) writes a file timm's model (the seed's, tests/oracle/
seed_layouts_convnext.py) loads with load_state_dict(strict=True); `summary` of it names the
arch and the layout and lists only the file's module names; `features --layers stages.1` taps a
timm stage by its timm name."""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import timm
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
from cli_common import run  # noqa: E402
import seed_layouts_convnext as seed  # noqa: E402

CLASSES = 7


class Layouts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.image = os.path.join(cls.tmp.name, "in.png")
        pixels = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(cls.image)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def init(self, arch):
        path = os.path.join(self.tmp.name, arch.replace("/", "_") + ".pth")
        r = run("init", arch, "--num-classes", str(CLASSES), "-o", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        return path

    def check(self, arch, layout, model):
        path = self.init(arch)
        model.load_state_dict(torch.load(path, weights_only=True), strict=True)
        r = run("summary", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(arch, r.stdout)
        self.assertIn(f"{layout}'s key names", r.stdout)
        r = run("summary", path, "--json", "--input-size", "64")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["arch"], arch)
        names = {n for n, _ in model.named_modules()}
        listed = [layer["name"] for layer in doc["layers"] if layer["name"]]
        self.assertTrue(listed)
        self.assertEqual([n for n in listed if n not in names], [])
        return path

    def test_timm_convnext(self):
        path = self.check("timm/convnext_tiny", "timm",
                          timm.create_model("convnext_tiny", num_classes=CLASSES))
        out = os.path.join(self.tmp.name, "features")
        r = run("features", path, "--image", self.image, "--layers", "stages.1", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(out, "stages.1.png")), os.listdir(out))

    def test_seed_regnet(self):
        self.check("seed/regnety_400mf", "seed", seed.SeedRegNet("regnety_400mf", CLASSES))

    def test_timm_regnet(self):
        self.check("timm/regnety_008", "timm",
                   timm.create_model("regnety_008", num_classes=CLASSES))


if __name__ == "__main__":
    unittest.main()
