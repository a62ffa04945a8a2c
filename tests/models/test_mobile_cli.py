"""End-to-end, for MobileNet v2/v3, MNASNet, ShuffleNet v2, EfficientNet, RegNet and ConvNeXt:
`cnnscope summary --json` of make_models_mobile.py's state_dicts lists Python's
named_modules() with their class names, parameter counts and output shapes (forward hooks; null
for a module that never runs), and `cnnscope init` of each family writes a .pth that PyTorch's
torchvision model loads with load_state_dict(strict=True), the same for the same seed."""
import json
import os
import sys
import tempfile
import unittest

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import fixture, run  # noqa: E402

SIZE = 64  # make_models_mobile.py's input


def manifest():
    with open(fixture("models_mobile_manifest.json")) as f:
        return json.load(f)


class Summary(unittest.TestCase):
    def test_every_layer_as_python_sees_it(self):
        for name, want in manifest().items():
            with self.subTest(name):
                r = run("summary", fixture(f"models_mobile_{name}.safetensors"), "--json",
                        "--input-size", str(SIZE))
                self.assertEqual(r.returncode, 0, r.stderr)
                doc = json.loads(r.stdout)
                self.assertEqual(doc["arch"], want["arch"])
                self.assertEqual(doc["family"], want["family"])
                self.assertEqual(doc["num_classes"], want["num_classes"])
                self.assertEqual(doc["params"], want["params"])
                got = [[layer["name"], layer["type"], layer["output_shape"]]
                       for layer in doc["layers"]]
                self.assertEqual(got, [[n, t, want["shapes"][n]] for n, t in want["modules"]])
                params = {layer["name"]: layer["params"] for layer in doc["layers"]}
                model = getattr(torchvision.models, want["arch"])(num_classes=want["num_classes"])
                for n, m in model.named_modules():
                    if n:
                        self.assertEqual(params[n], sum(p.numel() for p in m.parameters()), n)


class Init(unittest.TestCase):
    ARCHS = ["mobilenet_v2", "mobilenet_v3_small", "mnasnet0_5", "shufflenet_v2_x0_5",
             "efficientnet_b0", "regnet_y_400mf", "convnext_tiny"]

    def test_loads_strictly_into_torchvision_and_is_deterministic(self):
        with tempfile.TemporaryDirectory() as tmp:
            for arch in self.ARCHS:
                with self.subTest(arch):
                    paths = [os.path.join(tmp, f"{arch}_{i}.pth") for i in range(3)]
                    for path, seed in zip(paths, ("1", "1", "2")):
                        r = run("init", arch, "--num-classes", "7", "--seed", seed, "-o", path)
                        self.assertEqual(r.returncode, 0, r.stderr)
                    a, b, c = (torch.load(p, weights_only=True) for p in paths)
                    model = getattr(torchvision.models, arch)(num_classes=7)
                    model.load_state_dict(a, strict=True)
                    self.assertEqual(list(a.keys()), list(model.state_dict().keys()))
                    self.assertTrue(all(torch.equal(a[k], b[k]) for k in a))
                    self.assertFalse(all(torch.equal(a[k], c[k]) for k in a))
                    with torch.no_grad():
                        self.assertEqual(model.eval()(torch.zeros(1, 3, SIZE, SIZE)).shape,
                                         (1, 7))


if __name__ == "__main__":
    unittest.main()
