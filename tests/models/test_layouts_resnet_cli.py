"""End-to-end, for timm's ResNet-D and the seed series' GoogLeNet (make_models_layouts_resnet.py's
state_dicts): `summary` names the layout it recognized, `features --layers` takes the file's own
module names, a wrong or unknown `--arch` is one line, and `init` writes a .pth that timm's model
(or the seed's class, as its predict.py builds it) loads with strict=True."""
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import assert_one_line_error, fixture, run  # noqa: E402

RESNET50D = "models_layouts_timm_resnet50d.safetensors"


def small_image(folder):
    from PIL import Image
    path = os.path.join(folder, "x.png")
    Image.new("RGB", (40, 30), (200, 30, 90)).save(path)
    return path


class Layouts(unittest.TestCase):
    def test_summary_names_the_layout(self):
        r = run("summary", fixture(RESNET50D), "--input-size", "64")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("timm/resnet50d", r.stdout)
        self.assertIn("conv1.6", r.stdout)  # the deep stem, under timm's names
        self.assertIn("global_pool.pool", r.stdout)

    def test_features_taps_a_block_by_the_files_name(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "f")
            r = run("features", fixture(RESNET50D), "--image", small_image(tmp), "--layers",
                    "layer1.0,act1", "-o", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            written = " ".join(sorted(os.listdir(out)))
            self.assertIn("layer1.0", written)
            self.assertIn("act1", written)
            # torchvision's name for the stem's ReLU is not one of this file's modules.
            r = run("features", fixture(RESNET50D), "--image", small_image(tmp), "--layers",
                    "relu", "-o", out)
            assert_one_line_error(self, r, "relu")

    def test_a_wrong_arch_says_what_the_keys_look_like(self):
        r = run("summary", fixture(RESNET50D), "--arch", "timm/resnet50")
        assert_one_line_error(self, r, "timm/resnet50d")

    def test_an_unknown_arch_suggests_the_layout_names(self):
        r = run("summary", fixture(RESNET50D), "--arch", "timm/resnet50e")
        self.assertEqual(r.returncode, 2, r.stderr)  # a usage error
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("'timm/resnet50d'", r.stderr)


class Init(unittest.TestCase):
    def test_timm_and_seed_load_it_strictly(self):
        import timm
        import seed_layouts_googlenet
        makers = {
            "timm/resnet50d": lambda: timm.create_model("resnet50d", num_classes=7),
            "timm/seresnext50_32x4d": lambda: timm.create_model("seresnext50_32x4d",
                                                                num_classes=7),
            # As its train.py builds it (aux heads); its predict.py loads that with
            # strict=False into GoogLeNet(aux_logits=False).
            "seed/googlenet": lambda: seed_layouts_googlenet.GoogLeNet(num_classes=7,
                                                                       aux_logits=True),
        }
        with tempfile.TemporaryDirectory() as tmp:
            for arch, make in makers.items():
                with self.subTest(arch):
                    path = os.path.join(tmp, arch.replace("/", "_") + ".pth")
                    r = run("init", arch, "--num-classes", "7", "-o", path)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    sd = torch.load(path, weights_only=True)
                    model = make()
                    model.load_state_dict(sd, strict=True)
                    self.assertEqual(list(sd.keys()), list(model.state_dict().keys()))
                    if arch == "seed/googlenet":  # as its predict.py loads it
                        predict_py = seed_layouts_googlenet.GoogLeNet(num_classes=7,
                                                                      aux_logits=False)
                        missing, _ = predict_py.load_state_dict(sd, strict=False)
                        self.assertEqual(missing, [])


if __name__ == "__main__":
    unittest.main()
