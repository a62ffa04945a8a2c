"""End-to-end, for ResNeXt, Wide ResNet, DenseNet, SqueezeNet, GoogLeNet and Inception v3 (issue
13): `cnnscope summary --json` of make_models_classic.py's state_dicts lists Python's
named_modules() with class names, parameter counts and output shapes (null for the aux classifiers,
which never run in eval mode); `predict` gives torchvision's logits with transform_input on (the default) and
with `--transform-input off`; `cnnscope init` of each builder writes a .pth that torchvision's model
loads with load_state_dict(strict=True), the same for the same seed."""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import check_init_loads, fixture, read_safetensors, run  # noqa: E402


def manifest():
    with open(fixture("models_classic_manifest.json")) as f:
        return json.load(f)


class Summary(unittest.TestCase):
    def test_every_layer_as_python_sees_it(self):
        for name, want in manifest().items():
            with self.subTest(name):
                r = run("summary", fixture(f"models_classic_{name}.safetensors"), "--json",
                        "--input-size", str(want["input_size"]))
                self.assertEqual(r.returncode, 0, r.stderr)
                doc = json.loads(r.stdout)
                for k in ("arch", "family", "num_classes", "params"):
                    self.assertEqual(doc[k], want[k], k)
                got = [[layer["name"], layer["type"], layer["output_shape"]]
                       for layer in doc["layers"]]
                self.assertEqual(got, [[n, t, want["shapes"][n]] for n, t in want["modules"]])


class TransformInput(unittest.TestCase):
    def test_off_matches_torchvision_without_it(self):
        for name in ("googlenet", "inception_v3"):
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                expected = read_safetensors(fixture(f"models_classic_{name}.expected.safetensors"))
                x = os.path.join(tmp, "x.npy")
                np.save(x, np.asarray(expected["input"], dtype=np.float32))
                want = expected["logits_no_transform"][0]
                r = run("predict", fixture(f"models_classic_{name}.safetensors"), "--image", x,
                        "--transform-input", "off", "--topk", "3", "--json")
                self.assertEqual(r.returncode, 0, r.stderr)
                got = torch.tensor(json.loads(r.stdout)["logits"])
                scale = want.abs().max().item()
                self.assertLess((got - want).abs().max().item(), 1e-4 * scale)
                on = run("predict", fixture(f"models_classic_{name}.safetensors"), "--image", x,
                         "--json")
                got_on = torch.tensor(json.loads(on.stdout)["logits"])
                self.assertLess((got_on - expected["logits"][0]).abs().max().item(),
                                1e-4 * expected["logits"][0].abs().max().item())
                bad = run("summary", fixture(f"models_classic_{name}.safetensors"),
                          "--transform-input", "maybe")
                self.assertNotEqual(bad.returncode, 0)


class Init(unittest.TestCase):
    ARCHS = ["resnext50_32x4d", "wide_resnet50_2", "densenet121", "squeezenet1_0",
             "squeezenet1_1", "googlenet", "inception_v3"]

    def test_loads_strictly_into_torchvision_and_is_deterministic(self):
        for arch in self.ARCHS:
            with self.subTest(arch):
                kwargs = ({"aux_logits": False, "init_weights": False}
                          if arch in ("googlenet", "inception_v3") else {})
                check_init_loads(self, arch, 80 if arch == "inception_v3" else 64, kwargs)

if __name__ == "__main__":
    unittest.main()
