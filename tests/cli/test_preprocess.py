"""End-to-end `cnnscope preprocess` against torchvision + Pillow: presets, custom flags, several
images with --out, .npy passthrough, and bad inputs (exit 1, one line naming the file, no output).

Runs with the oracle venv's Python; env CNNSCOPE_BIN is the CLI. Images are made here with Pillow.
"""
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image
from torchvision import transforms

from cli_common import run  # noqa: E402

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def torchvision_tensor(path, resize, crop, mean, std):
    steps = [transforms.Resize(resize)]
    if crop:
        steps.append(transforms.CenterCrop(crop))
    steps += [transforms.ToTensor(), transforms.Normalize(mean, std)]
    return transforms.Compose(steps)(Image.open(path).convert("RGB")).numpy()


class Preprocess(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cnnscope-preprocess-")
        rng = np.random.default_rng(3)
        y, x = np.mgrid[0:311, 0:457]
        base = np.stack([x % 256, y % 256, (x * y) % 256], -1) + rng.integers(0, 40, (311, 457, 3))
        img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
        cls.jpg = os.path.join(cls.dir, "scene.jpg")
        cls.png = os.path.join(cls.dir, "scene_rgba.png")
        img.save(cls.jpg, quality=88)
        img.convert("RGBA").save(cls.png)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def preprocess(self, image, *flags):
        out = os.path.join(self.dir, "out.npy")
        if os.path.exists(out):
            os.remove(out)
        r = run("preprocess", image, *flags, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        return np.load(out)

    def test_presets_equal_torchvision(self):
        for image in (self.jpg, self.png):
            got = self.preprocess(image, "--preset", "alexnet")
            want = torchvision_tensor(image, (224, 224), None, (0.5,) * 3, (0.5,) * 3)
            self.assertEqual(got.dtype, np.float32)
            self.assertEqual(np.abs(got - want).max(), 0.0)
            got = self.preprocess(image, "--preset", "imagenet")
            want = torchvision_tensor(image, 256, 224, *IMAGENET)
            self.assertEqual(got.shape, (3, 224, 224))
            self.assertEqual(np.abs(got - want).max(), 0.0)

    def test_default_is_imagenet(self):
        got = self.preprocess(self.jpg)
        self.assertEqual(np.abs(got - torchvision_tensor(self.jpg, 256, 224, *IMAGENET)).max(), 0.0)

    def test_custom_flags(self):
        got = self.preprocess(self.jpg, "--resize", "100", "--crop", "80", "--mean", "0.1,0.2,0.3",
                              "--std", "0.5,0.6,0.7")
        want = torchvision_tensor(self.jpg, 100, 80, (0.1, 0.2, 0.3), (0.5, 0.6, 0.7))
        self.assertEqual(np.abs(got - want).max(), 0.0)
        got = self.preprocess(self.jpg, "--resize", "64x48")
        want = torchvision_tensor(self.jpg, (64, 48), None, (0.0,) * 3, (1.0,) * 3)
        self.assertEqual(np.abs(got - want).max(), 0.0)
        got = self.preprocess(self.jpg, "--preset", "imagenet", "--crop", "200")
        want = torchvision_tensor(self.jpg, 256, 200, *IMAGENET)
        self.assertEqual(np.abs(got - want).max(), 0.0)

    def test_several_images_into_a_folder(self):
        out = os.path.join(self.dir, "batch")
        r = run("preprocess", self.jpg, self.png, "--preset", "alexnet", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        for image in (self.jpg, self.png):
            stem = os.path.splitext(os.path.basename(image))[0]
            got = np.load(os.path.join(out, stem + ".npy"))
            want = torchvision_tensor(image, (224, 224), None, (0.5,) * 3, (0.5,) * 3)
            self.assertEqual(np.abs(got - want).max(), 0.0)

    def test_npy_input_passes_through(self):
        src = os.path.join(self.dir, "given.npy")
        arr = np.random.default_rng(1).standard_normal((1, 3, 20, 30)).astype(np.float32)
        np.save(src, arr)
        got = self.preprocess(src)
        self.assertTrue(np.array_equal(got, arr[0]))

    def test_bad_inputs_exit_1_with_one_line(self):
        empty = os.path.join(self.dir, "empty.jpg")
        open(empty, "wb").close()
        truncated = os.path.join(self.dir, "truncated.jpg")
        with open(self.jpg, "rb") as f:
            data = f.read()
        with open(truncated, "wb") as f:
            f.write(data[: len(data) // 3])
        text = os.path.join(self.dir, "notes.png")
        with open(text, "w") as f:
            f.write("not an image\n")
        missing = os.path.join(self.dir, "missing.jpg")
        out = os.path.join(self.dir, "never.npy")
        for bad in (empty, truncated, text, missing):
            r = run("preprocess", bad, "-o", out)
            self.assertEqual(r.returncode, 1, (bad, r.stderr))
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertTrue(lines[0].startswith("cnnscope: error: "), lines[0])
            self.assertIn(bad, lines[0])
            self.assertFalse(os.path.exists(out))
        self.assertEqual(os.listdir(self.dir).count("never.npy"), 0)

    def test_bad_flags(self):
        out = os.path.join(self.dir, "never.npy")
        # An unknown name is a usage error (2), found as flags are parsed; a value that only the
        # network's channels can judge is bad input (1).
        for flags, code in ((["--preset", "nope"], 2), (["--mean", "1,2"], 1), (["--resize", "0"], 1),
                            (["--resize", "12xabc"], 1), (["--std", "1,0,1"], 1)):
            r = run("preprocess", self.jpg, *flags, "-o", out)
            self.assertEqual(r.returncode, code, (flags, r.stderr))
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertFalse(os.path.exists(out))

    def test_refuses_to_overwrite_the_input(self):
        src = os.path.join(self.dir, "self.npy")
        np.save(src, np.zeros((3, 4, 4), np.float32))
        r = run("preprocess", src, "-o", src)
        self.assertEqual(r.returncode, 1, r.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
