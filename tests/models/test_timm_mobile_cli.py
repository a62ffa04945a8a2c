"""End-to-end, for timm's MobileNets under timm's names (make_models_timm_mobile.py's
state_dicts): `summary` names the layout arch it recognized and lists timm's module names,
`features --layers` takes a timm stage (`blocks.2`) and writes its activations as timm's forward
hooks see them, and `init timm/NAME` writes a .pth that timm.create_model loads with
load_state_dict(strict=True)."""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import timm
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import assert_forward_close, fixture, read_safetensors, run  # noqa: E402

SIZE = 96  # make_models_timm_mobile.py's input
NAMES = ("mobilenetv2_100", "mobilenetv3_large_100", "mobilenetv3_small_100")


def state_dict(name):
    return fixture(f"models_timm_mobile_{name}.safetensors")


def timm_model(name):
    """timm's network with the fixture's weights, in eval mode."""
    model = timm.create_model(name, num_classes=7)
    sd = read_safetensors(state_dict(name))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()})
    return model.eval()


class Summary(unittest.TestCase):
    def test_names_the_layout_arch_and_timms_modules(self):
        name = "mobilenetv3_small_100"
        r = run("summary", state_dict(name), "--json", "--input-size", str(SIZE))
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["arch"], "timm/" + name)
        self.assertEqual(doc["num_classes"], 7)
        names = [layer["name"] for layer in doc["layers"]]
        modules = dict(timm_model(name).named_modules())
        self.assertIn("blocks.2", names)
        self.assertIn("blocks.0.0.se.gate", names)
        self.assertEqual([n for n in names if n not in modules], [])
        r = run("summary", state_dict(name), "--input-size", str(SIZE))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"timm/{name} (timm's key names)", r.stdout)


class Features(unittest.TestCase):
    def test_a_timm_stage_as_timm_sees_it(self):
        x = torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(5))
        for name in ("mobilenetv2_100", "mobilenetv3_small_100"):
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                model = timm_model(name)
                got = {}
                model.get_submodule("blocks.2").register_forward_hook(
                    lambda m, i, o: got.__setitem__("blocks.2", o.detach().clone()))
                with torch.no_grad():
                    model(x)
                image = os.path.join(tmp, "x.npy")
                np.save(image, x[0].numpy())
                r = run("features", state_dict(name), "--image", image, "--layers", "blocks.2",
                        "--npy", "-o", os.path.join(tmp, "out"))
                self.assertEqual(r.returncode, 0, r.stderr)
                assert_forward_close(self, np.load(os.path.join(tmp, "out", "blocks.2.npy")),
                                     got["blocks.2"][0].numpy(), name)


class Init(unittest.TestCase):
    def test_loads_strictly_into_timm_and_is_deterministic(self):
        for name in NAMES:
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                paths = [os.path.join(tmp, f"{i}.pth") for i in range(3)]
                for path, seed in zip(paths, ("1", "1", "2")):
                    r = run("init", "timm/" + name, "--num-classes", "7", "--seed", seed, "-o",
                            path)
                    self.assertEqual(r.returncode, 0, r.stderr)
                a, b, c = (torch.load(p, weights_only=True) for p in paths)
                model = timm.create_model(name, num_classes=7)
                model.load_state_dict(a, strict=True)
                self.assertEqual(list(a.keys()), list(model.state_dict().keys()))
                self.assertTrue(all(torch.equal(a[k], b[k]) for k in a))
                self.assertFalse(all(torch.equal(a[k], c[k]) for k in a))


if __name__ == "__main__":
    unittest.main()
