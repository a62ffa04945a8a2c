"""End-to-end `cnnscope features`: the captured layers equal PyTorch's (the seed's own edited forward
with its in-place ReLU aliasing, and forward hooks) within 1e-4 of the largest magnitude, on a real
photo through both presets and on random input;
default and `all` layers per family; statistics
equal numpy's; figures decode with the planned grid; several images and folders; bad input exits 1
with one line on stderr and leaves no partial files."""
import glob
import json
import os
import pty
import shutil
import subprocess
import tempfile
import unittest

import numpy as np

import cli_common  # noqa: E402
from cli_common import BIN, assert_forward_close, assert_one_line_error, pixels  # noqa: E402

CHROMA = 30  # a pixel is "coloured" (part of a viridis tile) above this max-min spread


def fixture(name):
    return cli_common.fixture("features", name)


with open(fixture("expected.json")) as f:
    EXPECTED = json.load(f)


def run(*args, **kw):
    return cli_common.run("features", *args, timeout=600, **kw)


def runs(flags):
    """Number of runs of True in a 1-d boolean profile."""
    flags = np.asarray(flags, dtype=np.int8)
    return int(np.count_nonzero(np.diff(np.concatenate([[0], flags])) == 1))


class Features(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="features-test-")

    def tearDown(self):
        shutil.rmtree(self.out, ignore_errors=True)

    def features(self, model, image, *extra, out=None):
        r = run(fixture(EXPECTED["models"][model]["file"]), "--image", fixture(image), "--json",
                "--out", out or self.out, *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")  # no progress bar when stderr is not a terminal
        return json.loads(r.stdout)

    def check_against_golden(self, doc, model, image, preset, folder=None):
        """The .npy files written for `doc` (or all golden layers when None) against PyTorch."""
        layers = doc["layers"] if doc else None
        cases = [c for c in EXPECTED["cases"] if
                 (c["model"], c["image"], c["preset"]) == (model, image, preset) and
                 (layers is None or c["layer"] in layers)]
        self.assertTrue(cases)
        for c in cases:
            with self.subTest(layer=c["layer"]):
                want = np.load(fixture(c["golden"]))
                got = np.load(os.path.join(folder or self.out, c["layer"] + ".npy"))
                self.assertEqual(got.dtype, np.float32)
                assert_forward_close(self, got, want, c["layer"])
        return cases

    def check_stats(self, layer_doc, array):
        a = array.astype(np.float64)
        self.assertEqual(layer_doc["shape"], list(a.shape))
        scale = max(np.abs(a).max(), 1e-30)
        self.assertLess(abs(layer_doc["mean"] - a.mean()), 1e-9 * scale)
        self.assertLess(abs(layer_doc["std"] - a.std(ddof=1)), 1e-9 * scale)
        self.assertEqual(layer_doc["min"], a.min())
        self.assertEqual(layer_doc["max"], a.max())
        self.assertEqual(layer_doc["zero_fraction"], np.count_nonzero(a == 0) / a.size)
        flat = a.reshape(a.shape[0], -1)
        self.assertEqual(len(layer_doc["channels"]), a.shape[0])
        for ch in layer_doc["channels"]:
            row = flat[ch["index"]]
            self.assertLess(abs(ch["mean"] - row.mean()), 1e-9 * scale)
            self.assertLess(abs(ch["std"] - row.std(ddof=1)), 1e-9 * scale)
            self.assertEqual(ch["zero_fraction"], np.count_nonzero(row == 0) / row.size)
        self.assertEqual(layer_doc["dead_channels"], int(np.sum((flat == 0).all(axis=1))))

    def grid_of(self, png):
        """(rows, cols) of coloured tiles in a viridis figure, and its size."""
        img = pixels(png)
        coloured = (img.max(axis=2) - img.min(axis=2)) > CHROMA
        return runs(coloured.any(axis=1)), runs(coloured.any(axis=0)), img.shape[1], img.shape[0]

    def test_seed_alexnet_photo_default_layers_and_preset(self):
        doc = self.features("alexnet", EXPECTED["photo"], "--npy")
        self.assertEqual(doc["layers"], EXPECTED["models"]["alexnet"]["default"])
        self.assertEqual(doc["preset"], "alexnet")  # the seed's preprocessing for AlexNet
        self.check_against_golden(doc, "alexnet", "photo", "alexnet")
        (image,) = doc["images"]
        for layer in image["layers"]:
            got = np.load(layer["npy"])
            self.check_stats(layer, got)
            self.assertGreater(layer["zero_fraction"], 0.2)  # the seed shows ReLU outputs
            self.assertEqual(layer["shown"], list(range(12)))
            self.assertEqual(layer["figure"], os.path.join(self.out, layer["name"] + ".png"))
            rows, cols, width, height = self.grid_of(layer["figure"])
            self.assertEqual((rows, cols), (3, 4))  # the seed's 3x4 grid
            self.assertLessEqual(width, 1600)
            self.assertLessEqual(height, 1000)
            self.assertGreaterEqual(width, 560)

    def test_seed_alexnet_photo_imagenet_preset(self):
        self.features("alexnet", EXPECTED["photo"], "--npy", "--preset", "imagenet")
        self.check_against_golden(None, "alexnet", "photo", "imagenet")

    def test_alexnet_all_layers_and_raw_conv_on_random_input(self):
        doc = self.features("alexnet", EXPECTED["random"], "--npy", "--layers", "all")
        self.assertEqual(doc["layers"], EXPECTED["models"]["alexnet"]["all"])
        self.features("alexnet", EXPECTED["random"], "--npy", "--layers", "features.0,features.1")
        self.check_against_golden(None, "alexnet", "random", "none")
        raw = np.load(os.path.join(self.out, "features.0.npy"))
        self.assertLess(raw.min(), 0)  # the conv output survives the in-place ReLU after it

    def test_seed_resnet34_photo_and_taps_inside_blocks(self):
        doc = self.features("resnet34", EXPECTED["photo"], "--npy")
        self.assertEqual(doc["layers"], ["conv1", "layer1"])
        self.assertEqual(doc["preset"], "imagenet")
        self.check_against_golden(doc, "resnet34", "photo", "imagenet")
        conv1 = np.load(os.path.join(self.out, "conv1.npy"))
        self.assertLess(conv1.min(), 0)  # raw, before BN and ReLU, as the seed shows it
        layers = "layer1.0.conv2,layer2.0.downsample.1,layer3"
        self.features("resnet34", EXPECTED["random"], "--npy", "--layers", layers)
        self.check_against_golden(None, "resnet34", "random", "none")
        doc = self.features("resnet34", "images/small.npy", "--layers", "all")
        self.assertEqual(doc["layers"], EXPECTED["models"]["resnet34"]["all"])

    def test_vgg_defaults_are_relus_after_first_three_convs(self):
        doc = self.features("vgg11_bn", "images/small.npy", "--npy")
        self.assertEqual(doc["layers"], EXPECTED["models"]["vgg11_bn"]["default"])
        self.check_against_golden(doc, "vgg11_bn", "small", "none")

    def test_several_images_batched_with_separate_folders(self):
        r = run(fixture("alexnet.pth"), "--image", fixture(EXPECTED["photo"]), "--image",
                fixture(EXPECTED["second"]), "--image", fixture(EXPECTED["random"]), "--npy",
                "--json", "--out", self.out, "--batch", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        outs = [i["out"] for i in doc["images"]]
        self.assertEqual(len(set(outs)), 3)
        stem = os.path.splitext(os.path.basename(EXPECTED["photo"]))[0]
        self.assertEqual(outs[0], os.path.join(self.out, stem))
        for i in doc["images"]:
            for layer in i["layers"]:
                self.assertTrue(os.path.exists(layer["figure"]))
                self.assertTrue(layer["figure"].startswith(i["out"] + os.sep))
#batching does not change the numbers
        self.check_against_golden(doc, "alexnet", "photo", "alexnet", folder=outs[0])
        self.check_against_golden(doc, "alexnet", "random", "none", folder=outs[2])

    def test_folder_input_and_colliding_names(self):
        folder = os.path.join(self.out, "in")
        os.makedirs(os.path.join(folder, "sub"))
        for name in (EXPECTED["second"], "images/small.npy"):
            shutil.copy(fixture(name), folder)
        shutil.copy(fixture(EXPECTED["second"]), os.path.join(folder, "sub"))
        with open(os.path.join(folder, "notes.txt"), "w") as f:
            f.write("not an image")
        out = os.path.join(self.out, "out")
        r = run(fixture("resnet34.safetensors"), "--image", folder, "--image",
                os.path.join(folder, "sub", "second.png"), "--layers", "conv1", "--json",
                "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual([os.path.basename(i["image"]) for i in doc["images"]],
                         ["second.png", "small.npy", "second.png"])
        self.assertEqual([os.path.basename(i["out"]) for i in doc["images"]],
                         ["second", "small", "second-2"])

    def test_pick_top_channels_count_and_grid(self):
        doc = self.features("alexnet", EXPECTED["photo"], "--pick", "top", "--channels", "20",
                            "--layers", "features.4")
        layer = doc["images"][0]["layers"][0]
        means = np.array([c["mean"] for c in layer["channels"]])
        self.assertEqual(layer["shown"], list(np.argsort(-means, kind="stable")[:20]))
        rows, cols, _, _ = self.grid_of(layer["figure"])
        self.assertEqual((rows, cols), (4, 5))

    def test_layer_scale_gray_and_vector_formats(self):
        doc = self.features("alexnet", EXPECTED["photo"], "--scale", "layer", "--cmap", "gray",
                            "--layers", "features.7")
        png = doc["images"][0]["layers"][0]["figure"]
        img = pixels(png)
        self.assertGreater(len(np.unique(img[..., 0])), 50)  # tiles and colorbar are not blank
        for fmt, magic in (("svg", b"<?xml"), ("pdf", b"%PDF-")):
            doc = self.features("alexnet", EXPECTED["photo"], "--format", fmt, "--layers",
                                "features.1")
            path = doc["images"][0]["layers"][0]["figure"]
            self.assertTrue(path.endswith("." + fmt))
            with open(path, "rb") as f:
                self.assertEqual(f.read(len(magic)), magic)

    def test_text_output_lists_layers(self):
        r = run(fixture("alexnet.pth"), "--image", fixture(EXPECTED["photo"]), "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        for layer in EXPECTED["models"]["alexnet"]["default"]:
            self.assertIn(layer, r.stdout)
            self.assertTrue(os.path.exists(os.path.join(self.out, layer + ".png")))

    def test_progress_bar_only_on_a_terminal(self):
        master, slave = pty.openpty()
        p = subprocess.Popen([BIN, "features", fixture("alexnet.pth"), "--image",
                              fixture(EXPECTED["photo"]), "--out", self.out],
                             stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        self.assertEqual(p.wait(timeout=600), 0)
        os.close(master)
        self.assertIn(b"features [", seen)
        self.assertIn(b"3/3", seen)

    def assert_fails(self, args, *needles):
        assert_one_line_error(self, run(*args, "--out", self.out), *needles)
        self.assertEqual(glob.glob(os.path.join(self.out, "**", "*.tmp*"), recursive=True), [])

    def test_bad_input_is_one_line_and_exit_1(self):
        ckpt = fixture("alexnet.pth")
        photo = fixture(EXPECTED["photo"])
        self.assert_fails([ckpt, "--image", photo, "--layers", "features.1,featurs.4"],
                          "featurs.4", "features.4")
        self.assert_fails([ckpt, "--image", os.path.join(self.out, "missing.jpg")], "missing.jpg")
        notes = os.path.join(self.out, "notes.jpg")
        with open(notes, "w") as f:
            f.write("not a jpeg")
        self.assert_fails([ckpt, "--image", notes], "notes.jpg")
        self.assert_fails([ckpt, "--image", photo, "--pick", "best"], "best")
        self.assert_fails([ckpt, "--image", photo, "--scale", "global"], "global")
        self.assert_fails([ckpt, "--image", photo, "--format", "bmp"], "bmp")
        empty = os.path.join(self.out, "empty")
        os.makedirs(empty)
        self.assert_fails([ckpt, "--image", empty], "empty")
        self.assertEqual(glob.glob(os.path.join(self.out, "*.png")), [])
        # A flag's value out of its range or names is a usage error: exit 2, one line.
        for args, needle in ((["--cmap", "cividis"], "did you mean 'viridis'?"),
                             (["--channels", "0"], "--channels")):
            r = run(ckpt, "--image", photo, *args, "--out", self.out)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
            self.assertIn(needle, r.stderr)


if __name__ == "__main__":
    unittest.main()
