"""End to end: the seed series' presets and --interpolation. `cnnscope preprocess --preset seed/X`
equals that arch's predict.py transform (tests/oracle/seed_predict_transforms.py) with Pillow;
`--interpolation nearest|bicubic|bilinear` equals torchvision's Resize(size, interpolation) with
Pillow; features, explain and predict take the flag (predict names it in its preset), every
command that resizes lists it, and a bad value is a usage error (exit 2, one line, did you mean).

Runs with the oracle venv's Python; env CNNSCOPE_BIN is the CLI. Photos are made here with Pillow.
"""
import os
import shutil
import tempfile
import unittest

import numpy as np
from PIL import Image
from torchvision import transforms

from cli_common import fixture, run  # noqa: E402
from seed_predict_transforms import predict_transforms  # noqa: E402

CKPT = fixture("cli_models_resnet18.pth")
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
MODES = {"nearest": transforms.InterpolationMode.NEAREST,
         "bilinear": transforms.InterpolationMode.BILINEAR,
         "bicubic": transforms.InterpolationMode.BICUBIC}


def scene(h, w, seed):
    """Gradients, hard edges and noise: every resampling tap matters."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x % 256, (x + y) % 256, ((x // 7 + y // 5) % 2) * 200], -1)
    return Image.fromarray(np.clip(base + rng.integers(0, 50, (h, w, 3)), 0, 255).astype(np.uint8))


class LayoutPresets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cnnscope-layout-presets-")
        # landscape, and portrait smaller than the largest crops (600): enlarged
        cls.photos = [os.path.join(cls.dir, "landscape.png"), os.path.join(cls.dir, "portrait.png")]
        scene(331, 487, 1).save(cls.photos[0])
        scene(410, 283, 2).save(cls.photos[1])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def preprocess(self, *flags):
        """cnnscope preprocess of both photos: {photo path: tensor}."""
        out = os.path.join(self.dir, "out")
        shutil.rmtree(out, ignore_errors=True)
        r = run("preprocess", *self.photos, *flags, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        return {p: np.load(os.path.join(out, os.path.splitext(os.path.basename(p))[0] + ".npy"))
                for p in self.photos}

    def test_seed_presets_equal_predict_py(self):
        for name, transform in predict_transforms().items():
            for photo, got in self.preprocess("--preset", name).items():
                with Image.open(photo) as img:
                    want = transform(img).numpy()
                self.assertEqual(got.shape, want.shape, name)
                self.assertEqual(np.abs(got - want).max(), 0.0, f"{name} {photo}")

    def test_interpolation_equals_torchvision_resize(self):
        for mode in MODES:
            steps = transforms.Compose([transforms.Resize(256, MODES[mode]),
                                        transforms.CenterCrop(224), transforms.ToTensor(),
                                        transforms.Normalize(*IMAGENET)])
            got = self.preprocess("--preset", "imagenet", "--interpolation", mode)
            for photo, tensor in got.items():
                with Image.open(photo) as img:
                    want = steps(img).numpy()
                self.assertEqual(np.abs(tensor - want).max(), 0.0, f"{mode} {photo}")
        # custom steps take it too: Resize((h, w)) without a preset
        got = self.preprocess("--resize", "97x131", "--interpolation", "nearest")
        steps = transforms.Compose([transforms.Resize((97, 131), MODES["nearest"]),
                                    transforms.ToTensor()])
        for photo, tensor in got.items():
            with Image.open(photo) as img:
                self.assertEqual(np.abs(tensor - steps(img).numpy()).max(), 0.0, photo)

    def test_features_explain_predict_take_it(self):
        image = self.photos[0]
        out = os.path.join(self.dir, "runs")
        r = run("features", CKPT, "--image", image, "--layers", "layer1", "--interpolation",
                "nearest", "-o", os.path.join(out, "f"))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("explain", CKPT, "--image", image, "--interpolation", "bicubic", "-o",
                os.path.join(out, "e"))
        self.assertEqual(r.returncode, 0, r.stderr)
        plain = run("predict", CKPT, "--image", image)
        nearest = run("predict", CKPT, "--image", image, "--interpolation", "nearest")
        self.assertEqual(nearest.returncode, 0, nearest.stderr)
        self.assertIn("preset imagenet+nearest", nearest.stdout)
        self.assertNotEqual(plain.stdout, nearest.stdout)  # another input, other probabilities

    def test_every_resizing_command_lists_it(self):
        for command in ("features", "explain", "predict", "report", "scan", "preprocess",
                        "serve"):
            text = run(command, "--help").stdout
            self.assertRegex(text, r"--interpolation[^\n]*bilinear \| bicubic \| nearest", command)

    def test_bad_value_is_a_usage_error(self):
        for command in ("features", "explain", "predict"):
            r = run(command, CKPT, "--image", self.photos[0], "--interpolation", "bicubc")
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertEqual(r.stdout, "")
            lines = r.stderr.splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertTrue(lines[0].startswith("cnnscope: error: "), lines[0])
            self.assertLessEqual(len(lines[0]), 200, lines[0])
            self.assertIn("unknown interpolation 'bicubc'", lines[0])
            self.assertIn("did you mean 'bicubic'?", lines[0])
        r = run("preprocess", self.photos[0], "--interpolation", "lanczos", "-o",
                os.path.join(self.dir, "x.npy"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("unknown interpolation 'lanczos'", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "x.npy")))


if __name__ == "__main__":
    unittest.main()
