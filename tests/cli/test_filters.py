"""End to end: `cnnscope filters` on torch.save checkpoints (make_cli_weights.py): the seed
AlexNet's first conv as 48 colour patches, a deeper layer as gray tiles or means, the three
formats, and one-line errors (no conv, unknown layer, rgb on 4 channels)."""
import os
import sys
import tempfile
import unittest

import numpy as np

from cli_common import fixture, pixels, run  # noqa: E402


class Filters(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def out(self, name):
        return os.path.join(self.tmp.name, name)

    def test_first_conv_of_alexnet_as_colour_patches(self):
        r = run("filters", fixture("cli_weights_alexnet.pth"), "--out", self.out("f.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("features.0.weight [48, 3, 11, 11]", r.stdout)
        img = pixels(self.out("f.png"))
        # Colour patches: many pixels whose channels differ (gray text and white paper do not).
        spread = img.max(axis=2) - img.min(axis=2)
        self.assertGreater((spread > 60).sum(), 48 * 11 * 11 * 10)
        # Each kernel stretched to its own range: every kernel reaches 0 and 255 in some channel,
        # so pure 0 and 255 channel values are frequent.
        self.assertGreater((img == 0).sum(), 48 * 20)

    def test_layer_scale_changes_the_picture(self):
        a, b = self.out("k.png"), self.out("l.png")
        self.assertEqual(run("filters", fixture("cli_weights_alexnet.pth"), "-o", a).returncode, 0)
        r = run("filters", fixture("cli_weights_alexnet.pth"), "-o", b, "--scale", "layer")
        self.assertEqual(r.returncode, 0, r.stderr)
        ia, ib = pixels(a), pixels(b)
        self.assertEqual(ia.shape, ib.shape)
        self.assertFalse(np.array_equal(ia, ib))

    def test_deeper_layer_channels_and_mean(self):
        r = run("filters", fixture("cli_weights_alexnet.pth"), "--layer", "features.3", "-o", self.out("c.png"),
                "--max-kernels", "8", "--max-channels", "6")
        self.assertEqual(r.returncode, 0, r.stderr)
        h = pixels(self.out("c.png")).shape[0]
        r = run("filters", fixture("cli_weights_alexnet.pth"), "--layer", "features.3.weight", "--mode", "mean",
                "-o", self.out("m.svg"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.out("m.svg")) as f:
            self.assertIn("<svg", f.read(400))
        r = run("filters", fixture("cli_weights_alexnet.pth"), "--layer", "features.3", "-o", self.out("all.pdf"),
                "--max-channels", "0", "--max-kernels", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.out("all.pdf"), "rb") as f:
            self.assertEqual(f.read(4), b"%PDF")
# 8 rows of 6 gray tiles : taller than wide is not required, but 8 rows must fit.
        self.assertGreater(h, 8 * 30)

    def test_errors(self):
        r = run("filters", fixture("cli_weights_noconv.pth"), "-o", self.out("x.png"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("no convolution weight", r.stderr)
        r = run("filters", fixture("cli_weights_alexnet.pth"), "--layer", "features.4", "-o", self.out("x.png"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("conv weights: features.0.weight, features.3.weight", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        r = run("filters", fixture("cli_weights_edge.pth"), "--mode", "rgb", "-o", self.out("x.png"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("4 input channels", r.stderr)
        self.assertIn("(pass --mode channels|mean)", r.stderr)  # the library's setting, as a flag
        r = run("filters", fixture("cli_weights_alexnet.pth"), "-o", self.out("x.gif"))
        self.assertEqual(r.returncode, 1)
        self.assertFalse(os.path.exists(self.out("x.png")))
        self.assertFalse(os.path.exists(self.out("x.gif")))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
