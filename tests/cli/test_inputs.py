"""End-to-end input handling of small one-channel networks (fixtures: make_cli_inputs.py): the
input channels and size a network needs are read from the file and used by every command;
--mean/--std take one number or one per channel; --grayscale; predict over several images and
folders; features of any module's output (a Linear's [N, D] as .npy, statistics and a strip
figure); a --classes file of the wrong length is the same error everywhere; a module that gives
no single tensor is listed, not fatal."""
import json
import os
import tempfile
import unittest

import numpy as np

from cli_common import assert_forward_close, assert_one_line_error, fixture, run  # noqa: E402


def inputs(*parts):
    return fixture("inputs", *parts)


def expected():
    with open(inputs("expected.json")) as f:
        return json.load(f)


def png_size(path):
    """(width, height) of a PNG, from its IHDR chunk."""
    with open(path, "rb") as f:
        head = f.read(24)
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


class OneChannel(unittest.TestCase):
    def test_torchscript_mnist_net_takes_its_own_input(self):
        # The first convolution's one channel and the MNIST Net's 28x28, not ImageNet's 3x224x224.
        r = run("predict", inputs("mnist.pt"), "--image", inputs("digits", "a.png"), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["preset"], "mnist")
        assert_forward_close(self, doc["logits"], expected()["a.png"])

    def test_mean_and_std_take_one_number(self):
        r = run("predict", inputs("mnist.pth"), "--image", inputs("digits", "a.png"), "--json",
                "--resize", "28", "--crop", "28", "--mean", "0.1307", "--std", "0.3081")
        self.assertEqual(r.returncode, 0, r.stderr)
        assert_forward_close(self, json.loads(r.stdout)["logits"], expected()["a.png"])

    def test_mean_of_three_for_one_channel_is_refused(self):
        r = run("predict", inputs("mnist.pt"), "--image", inputs("digits", "a.png"),
                "--mean", "0.5,0.5,0.5")
        line = assert_one_line_error(self, r, "mean '0.5,0.5,0.5' has 3 numbers for 1 channel",
                                     "one number")
        self.assertNotIn("--", line)  # the library names no flag

    def test_grayscale_on_a_colour_network_says_what_it_takes(self):
        r = run("predict", fixture("report", "resnet18.pth"), "--image",
                inputs("digits", "a.png"), "--grayscale")
        line = assert_one_line_error(self, r, "takes 3-channel images")
        self.assertNotIn("unsqueeze", line)

    def test_grayscale_one_channel_input_for_a_network_without_convolution_hints(self):
        r = run("predict", inputs("tiny.pt"), "--image", inputs("digits", "a.png"), "--grayscale",
                "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("grayscale", json.loads(r.stdout)["preset"])


class InputSize(unittest.TestCase):
    def test_summary_uses_the_size_the_network_needs(self):
        for name in ("mnist.pt", "mnist.pth", "tiny.pt"):
            r = run("summary", inputs(name))
            self.assertEqual(r.returncode, 0, name + r.stderr)
            self.assertIn("[1, 1, 28, 28]", r.stdout)

    def test_report_honours_resize_and_crop(self):
        with tempfile.TemporaryDirectory() as tmp:
            for extra in ([], ["--resize", "28", "--crop", "28"]):
                out = os.path.join(tmp, "r%d.html" % len(extra))
                r = run("report", inputs("mnist.pt"), "--image", inputs("digits", "d.png"),
                        "-o", out, *extra)
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(out, encoding="utf-8") as f:
                    self.assertIn("[1, 1, 28, 28]", f.read())

    def test_module_without_a_single_tensor_is_listed(self):
        r = run("summary", inputs("pair.pt"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"two: Two +\(no tensor\)")
        with tempfile.TemporaryDirectory() as tmp:
            r = run("report", inputs("pair.pt"), "--image", inputs("digits", "a.png"), "-o",
                    os.path.join(tmp, "r.html"))
            self.assertEqual(r.returncode, 0, r.stderr)
            r = run("features", inputs("pair.pt"), "--image", inputs("digits", "a.png"),
                    "--layers", "two", "-o", os.path.join(tmp, "f"))
            assert_one_line_error(self, r, "layer two gives no tensor")

    def test_quantization_stubs_of_a_whole_sequential(self):
        r = run("summary", inputs("tiny_whole.pth"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("QuantStub", r.stdout)
        self.assertIn("[1, 1, 28, 28]", r.stdout)


class ManyImages(unittest.TestCase):
    def test_predict_takes_folders_and_files(self):
        r = run("predict", inputs("mnist.pt"), "--image", inputs("digits"), "--image",
                inputs("digits", "a.png"), "--json", "--topk", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        names = [os.path.basename(i["image"]) for i in doc["images"]]
        self.assertEqual(names, ["a.png", "b.png", "c.png", "d.png", "a.png"])
        want = expected()
        for image, name in zip(doc["images"], names):  # d.png (40x40) breaks the batch
            assert_forward_close(self, image["logits"], want[name], name)
            self.assertEqual(len(image["top"]), 2)

    def test_predict_text_lists_each_image(self):
        r = run("predict", inputs("mnist.pt"), "--image", inputs("digits"))
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in ("a.png", "b.png", "c.png", "d.png"):
            self.assertIn(name, r.stdout)


class AnyLayer(unittest.TestCase):
    def test_linear_outputs_are_features(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "f")
            r = run("features", inputs("mnist.pt"), "--image", inputs("digits"), "--layers",
                    "conv1,fc1,fc2", "--npy", "--json", "-o", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            doc = json.loads(r.stdout)
            layers = {l["name"]: l for l in doc["images"][0]["layers"]}
            self.assertEqual(np.load(layers["fc1"]["npy"]).shape, (128,))
            self.assertEqual(np.load(layers["fc2"]["npy"]).shape, (10,))
            self.assertEqual(np.load(layers["conv1"]["npy"]).shape, (32, 26, 26))
            fc2 = np.load(layers["fc2"]["npy"])
            self.assertAlmostEqual(layers["fc2"]["max"], float(fc2.max()), places=5)
            width, height = png_size(layers["fc1"]["figure"])
            self.assertGreater(width, 3 * height)  # a strip


class Classes(unittest.TestCase):
    def test_short_files_are_one_error_everywhere(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("short.json", "short.txt"):
                for cmd in (["predict"], ["explain", "--method", "saliency", "-o",
                                          os.path.join(tmp, "e")]):
                    r = run(cmd[0], inputs("mnist.pt"), "--image", inputs("digits", "a.png"),
                            "--classes", inputs(name), *cmd[1:])
                    assert_one_line_error(self, r, name + ": has 2 labels, the model has 10 "
                                          "classes")


class SmallFigures(unittest.TestCase):
    def test_explanations_of_a_28_pixel_input_are_readable(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "e")
            r = run("explain", inputs("mnist.pt"), "--image", inputs("digits", "a.png"),
                    "--method", "gradcam,saliency", "--npy", "-o", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            pngs = [f for f in os.listdir(out) if f.endswith(".png")]
            self.assertTrue(pngs)
            for f in pngs:
                self.assertGreaterEqual(min(png_size(os.path.join(out, f))), 224, f)
            self.assertEqual(np.load(os.path.join(out, "saliency.npy")).shape[-2:], (28, 28))


if __name__ == "__main__":
    unittest.main()
