"""End-to-end, networks exported by today's PyTorch (fixtures: make_models_export.py):
for a custom grayscale 28x28 CNN, torchvision resnet18, mobilenet_v3_small, efficientnet_b0,
convnext_tiny, densenet121 and timm's resnet10t and efficientnet_lite0 (random init), each as a
`torch.export` program (.pt2) and as the dynamo ONNX exporter's file (.onnx + .onnx.data):
- `summary --json`: the family, the example input shape, num_classes and the parameter count (for
  the .onnx the initializers that are the model's parameters by name: the exporter folds BatchNorms
  into convs); for the .pt2
  every module that owns a node is listed with its class name, output shape (a forward hook's, last
  call) and parameters, and nothing outside named_modules();
- `predict --json`: the logits of the eager model (and of onnxruntime for the .onnx) within 1e-4 of
  the largest magnitude;
- `features --npy`: each tapped module path as PyTorch's forward hook sees it (a module called
  twice: its last output), within the same tolerance. The .onnx taps are block-level paths: the
  exporter's Conv+BN folding leaves a conv's own path (`layer1.0.conv1`) without a node, and a
  Sequential whose last conv was folded into the next module's BN (timm resnet10t's `conv1`) has
  another output in the file (the oracle checks its taps). The .onnx is also tapped by a value
  name and by the name of the node that makes it, against onnxruntime's value;
- the custom program's default input: a 28x28 grayscale PNG goes in as one channel, mean 0.5 and
  std 0.5, and gives `ep.module()`'s logits;
- `explain` on the exported resnet18 (.pt2): Grad-CAM at layer4.1 (pytorch-grad-cam 1.5.7) and
  integrated gradients (Captum 0.9.0) of the eager model, as tests/explain/test_explain_oracle.py
  compares them (maps within 1e-3, layer maps and attributions within 1e-4 of the largest value,
  the convergence delta within 1e-3).
Leaves out: the hostile .pt2 files (tests/graph/test_export_hostile.py), report/scan/serve and
the weight commands on these files, dynamic shapes, batches, explain on the .onnx.
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import assert_forward_close, fixture, read_safetensors, run  # noqa: E402

# summary's "family" for each format
FAMILY = {"pt2": "export", "onnx": "onnx"}
FORMATS = ("pt2", "onnx")


def load_json(name):
    with open(fixture(name)) as f:
        return json.load(f)


MANIFEST = load_json("models_export_manifest.json")


def path(name, fmt):
    return fixture(f"models_export_{name}.{fmt}")


def expected(name):
    return read_safetensors(fixture(f"models_export_{name}.expected.safetensors"))


def save_input(tmp, exp):
    """The fixture's input x (batch 1) as X.npy [C, H, W], which cnnscope takes as is."""
    x = os.path.join(tmp, "x.npy")
    np.save(x, exp["input"][0].numpy())
    return x


class Summary(unittest.TestCase):
    def test_summary_json(self):
        for name, want in MANIFEST.items():
            for fmt in FORMATS:
                with self.subTest(name=name, fmt=fmt):
                    r = run("summary", path(name, fmt), "--json")
                    self.assertEqual(r.returncode, 0, r.stderr)
                    doc = json.loads(r.stdout)
                    self.assertEqual(doc["family"], FAMILY[fmt])
                    self.assertEqual(doc["num_classes"], want["num_classes"])
                    self.assertEqual(doc["input_shape"],
                                     [1, want["channels"], want["size"], want["size"]])
                    if fmt == "onnx":
                        self.assertEqual(doc["params"], want["onnx_params"])
                        continue
                    self.assertEqual(doc["params"], want["params"])
                    types = dict(want["modules"])
                    layers = {m["name"]: m for m in doc["layers"]}
                    for n, m in layers.items():
                        self.assertIn(n, types, "a layer not in named_modules()")
                        self.assertEqual(m["type"], types[n], n)
                    for n, t in want["pt2_modules"]:
                        self.assertIn(n, layers, "a module with nodes left out")
                        self.assertEqual(layers[n]["output_shape"], want["shapes"][n], n)
                        self.assertEqual(layers[n]["params"], want["module_params"][n], n)


class Predict(unittest.TestCase):
    def test_logits_equal_pytorch_and_onnxruntime(self):
        for name in MANIFEST:
            exp = expected(name)
            with tempfile.TemporaryDirectory() as tmp:
                x = save_input(tmp, exp)
                for fmt in FORMATS:
                    with self.subTest(name=name, fmt=fmt):
                        r = run("predict", path(name, fmt), "--image", x, "--json")
                        self.assertEqual(r.returncode, 0, r.stderr)
                        logits = json.loads(r.stdout)["logits"]
                        assert_forward_close(self, logits, exp["logits"][0].numpy(), "logits")
                        if fmt == "onnx":
                            assert_forward_close(self, logits, exp["ort.logits"][0].numpy(),
                                                 "onnxruntime's logits")

    def test_grayscale_default_input(self):
        """The custom program was exported with a [1, 1, 28, 28] input: a 28x28 grayscale PNG
        (no resize, no colour conversion) goes in as (pixel / 255 - 0.5) / 0.5."""
        import torch
        from PIL import Image
        gen = np.random.default_rng(25)
        pix = gen.integers(0, 256, (28, 28), dtype=np.uint8)
        x = torch.from_numpy((pix.astype(np.float32) / 255 - 0.5) / 0.5)[None, None]
        with torch.no_grad():
            want = torch.export.load(path("custom", "pt2")).module()(x)[0].numpy()
        with tempfile.TemporaryDirectory() as tmp:
            png = os.path.join(tmp, "digit.png")
            Image.fromarray(pix, mode="L").save(png)
            for fmt in FORMATS:
                with self.subTest(fmt=fmt):
                    r = run("predict", path("custom", fmt), "--image", png, "--json")
                    self.assertEqual(r.returncode, 0, r.stderr)
                    assert_forward_close(self, json.loads(r.stdout)["logits"], want, "logits")


class Features(unittest.TestCase):
    def check_taps(self, name, fmt, taps, want):
        """features --layers taps --npy: each DIR/<tap>.npy equals want[tap] (batch stripped)."""
        exp = expected(name)
        with tempfile.TemporaryDirectory() as tmp:
            x = save_input(tmp, exp)
            out = os.path.join(tmp, "features")
            r = run("features", path(name, fmt), "--image", x, "--layers", ",".join(taps),
                    "--npy", "-o", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            for tap in taps:
                got = np.load(os.path.join(out, tap + ".npy"))
                assert_forward_close(self, got, want(exp, tap)[0].numpy(), f"{fmt} {tap}")

    def test_module_taps_equal_forward_hooks(self):
        for name, m in MANIFEST.items():
            for fmt in FORMATS:
                with self.subTest(name=name, fmt=fmt):
                    self.check_taps(name, fmt, m["taps_" + fmt], lambda e, t: e["tap." + t])

    def test_onnx_value_and_node_names(self):
        """An ONNX value by its name and by its node's name: onnxruntime's value, which the
        oracle checked is also the module's output a forward hook sees."""
        for name, m in MANIFEST.items():
            for v in m["onnx_values"]:
                with self.subTest(name=name, value=v["value"]):
                    self.check_taps(name, "onnx", [v["value"]],
                                    lambda e, t: e["ort.value." + t])
                with self.subTest(name=name, node=v["node"]):
                    self.check_taps(name, "onnx", [v["node"]],
                                    lambda e, t, v=v: e["ort.value." + v["value"]])


class Explain(unittest.TestCase):
    def test_gradcam_and_integrated_gradients_equal_the_libraries(self):
        ref = load_json("models_export_explain.json")
        exp = expected("resnet18")
        # The .onnx fixes the batch at 1 (Reshape to [1, 512]): integrated gradients' steps run
        # image by image there.
        for target, fmt in [(t, f) for t in ref["targets"] for f in FORMATS]:
            with self.subTest(target=target["tag"], fmt=fmt), tempfile.TemporaryDirectory() as tmp:
                x = save_input(tmp, exp)
                out = os.path.join(tmp, "out")
                r = run("explain", path("resnet18", fmt), "--image", x, "-o", out, "--json",
                        "--method", "gradcam,integrated-gradients", "--class",
                        str(target["class"]), "--steps", str(ref["steps"]), "--layer",
                        ref["layer"], "--npy")
                self.assertEqual(r.returncode, 0, r.stderr)
                image = json.loads(r.stdout)["images"][0]
                self.assertEqual(image["class"], target["class"])
                methods = {m["method"]: m for m in image["methods"]}
                self.assertEqual(sorted(methods), ["gradcam", "integrated-gradients"])

                def npy(method, suffix):
                    hits = [f for f in methods[method]["files"] if f.endswith(suffix)]
                    self.assertEqual(len(hits), 1, methods[method]["files"])
                    return np.load(hits[0])

                self.assertEqual(methods["gradcam"]["layer"], ref["layer"])
                got, want = npy("gradcam", "/gradcam.npy"), np.load(fixture(target["gradcam"]))
                self.assertEqual(got.shape, want.shape)
                self.assertLess(np.abs(got - want).max(), 1e-3, "gradcam")
                got = npy("gradcam", "_layer.npy")
                want = np.load(fixture(target["gradcam_layer"]))
                self.assertEqual(got.shape, want.shape)
                self.assertLessEqual(np.abs(got - want).max(), 1e-4 * np.abs(want).max(),
                                     "gradcam layer map")
                got = npy("integrated-gradients", "/integrated-gradients.npy")
                want = np.load(fixture(target["integrated-gradients"]))
                self.assertEqual(got.shape, want.shape)
                self.assertLess(np.abs(got - want).max(), 1e-4 * np.abs(want).max(),
                                "integrated gradients")
                delta = methods["integrated-gradients"]["delta"]
                scale = max(1.0, abs(target["completeness"]))
                self.assertLess(abs(delta - (got.astype(np.float64).sum()
                                             - target["completeness"])), 1e-3 * scale)
                self.assertLess(abs(delta - target["delta"]), 1e-3 * scale)


if __name__ == "__main__":
    unittest.main()
