"""End-to-end, for EfficientNet under timm's and the seed series' names
(make_models_efficientnet_layouts.py's state_dicts): `summary` names the layout arch it
recognized, `features --layers` takes the file's own module names (timm's `blocks.3`, the seed's
`features.2b`) and writes their activations as PyTorch's forward hooks see them, `init` of a
layout arch writes a .pth its own class loads strictly, and timm's efficientnet_b0 keys, which
tf_efficientnet_b0 has too, are refused in one line naming both."""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import timm
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import (assert_forward_close, assert_one_line_error, fixture,  # noqa: E402
                        read_safetensors, run)
import seed_layouts_efficientnet as seed  # noqa: E402  (tests/oracle, on sys.path)

SIZE = 64


def state_dict(name):
    return fixture(f"models_efflayout_{name}.safetensors")


class Summary(unittest.TestCase):
    def test_names_the_layout_arch(self):
        for name, args, arch in (
                ("seed_efficientnet_b0", [], "seed/efficientnet_b0"),
                ("timm_tf_efficientnet_b0", ["--arch", "timm/tf_efficientnet_b0"],
                 "timm/tf_efficientnet_b0")):
            with self.subTest(name):
                r = run("summary", state_dict(name), "--json", "--input-size", str(SIZE), *args)
                self.assertEqual(r.returncode, 0, r.stderr)
                doc = json.loads(r.stdout)
                self.assertEqual(doc["arch"], arch)
                self.assertEqual(doc["default_preset"], arch)
                names = [layer["name"] for layer in doc["layers"]]
                self.assertIn("features.top" if name.startswith("seed") else "blocks.3", names)
                r = run("summary", state_dict(name), "--input-size", str(SIZE), *args)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(arch, r.stdout)


class Features(unittest.TestCase):
    def test_a_file_module_name_as_pytorch_sees_it(self):
        x = torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(3))
        for name, layer, args in (
                ("timm_efficientnet_b0", "blocks.3", ["--arch", "timm/efficientnet_b0"]),
                ("seed_efficientnet_b0", "features.2b", [])):
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                image = os.path.join(tmp, "x.npy")
                np.save(image, x.numpy())
                r = run("features", state_dict(name), "--image", image, "--layers", layer,
                        "--npy", "-o", os.path.join(tmp, "out"), *args)
                self.assertEqual(r.returncode, 0, r.stderr)
                got = np.load(os.path.join(tmp, "out", f"{layer}.npy"))
                assert_forward_close(self, got, expected_tap(name, layer, x), layer)


def oracle_model(name, num_classes=7):
    """The oracle's class of fixture `name` (timm's or the seed's efficientnet_b0)."""
    if name.startswith("seed"):
        return seed.EfficientNet("b0", num_classes)
    return timm.create_model(name[len("timm_"):], num_classes=num_classes)


def expected_tap(name, layer, x):
    """`layer`'s output in PyTorch for the oracle's model `name` loaded from its fixture."""
    model = oracle_model(name)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in read_safetensors(state_dict(name)).items()})
    got = {}
    model.get_submodule(layer).register_forward_hook(
        lambda m, i, o: got.setdefault("out", o.detach().clone()))
    with torch.no_grad():
        model.eval()(x)
    return got["out"][0].numpy()


class Init(unittest.TestCase):
    def test_loads_strictly_into_the_oracle_class(self):
        for name, arch in (("seed_efficientnet_b0", "seed/efficientnet_b0"),
                           ("timm_tf_efficientnet_b0", "timm/tf_efficientnet_b0")):
            with self.subTest(arch), tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "init.pth")
                r = run("init", arch, "--num-classes", "7", "--seed", "1", "-o", path)
                self.assertEqual(r.returncode, 0, r.stderr)
                sd = torch.load(path, weights_only=True)
                model = oracle_model(name)
                model.load_state_dict(sd, strict=True)
                self.assertEqual(list(sd.keys()), list(model.state_dict().keys()))


class Ambiguous(unittest.TestCase):
    def test_timm_b0_keys_name_both_candidates(self):
        r = run("summary", state_dict("timm_efficientnet_b0"))
        assert_one_line_error(self, r, "timm/efficientnet_b0", "timm/tf_efficientnet_b0",
                              "--arch")


if __name__ == "__main__":
    unittest.main()
