"""`cnnscope explain` against the PyPI libraries (fixtures: tests/oracle/make_explain_oracle.py):
on ResNet18, a 1/8-width VGG11, the seed's AlexNet, MobileNetV2 and DenseNet121 (random init), for
the top-1 class and another one, at each family's default CAM layer (DenseNet: features.denseblock4,
see the fixture script):
- CAMs (pytorch-grad-cam 1.5.7): <method>.npy (input resolution, in [0, 1]) within 1e-3 max abs,
  <method>_layer.npy (after the ReLU, before scaling) within 1e-4 of its largest value;
- saliency, guided backprop, integrated gradients (Captum 0.9.0): within 1e-4 of the largest
  magnitude; the reported convergence delta equals sum(attribution) - (F(x) - F(0)) and Captum's;
- smoothgrad (Captum's NoiseTunnel, other random numbers): statistically, correlation with Captum's
  map and an error that shrinks as --samples grows;
- the default target is the top-1 class; bad --layer / --class / --method: one line, exit 1.
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import fixture, pixels, run  # noqa: E402
import sample_photos  # noqa: E402

CAMS = ["gradcam", "gradcam++", "xgradcam", "hirescam", "layercam", "eigencam"]
PIXELS = ["saliency", "guided-backprop", "integrated-gradients"]
with open(fixture("explain", "expected.json")) as f:
    EXPECTED = json.load(f)


def explain(case, out, *args):
    """Runs explain on the case's input; returns the JSON document (asserts exit 0)."""
    p = run("explain", fixture("explain", case["checkpoint"]), "--image",
            fixture("explain", case["image"]), "-o", out, "--json", *args)
    if p.returncode != 0:
        raise AssertionError(p.stderr)
    return json.loads(p.stdout)


def npy_file(method_doc, suffix):
    """The file of a method's "files" ending in `suffix` ("/gradcam.npy", "_layer.npy")."""
    hits = [f for f in method_doc["files"] if f.endswith(suffix)]
    assert len(hits) == 1, (suffix, method_doc["files"])
    return np.load(hits[0])


class ExplainOracle(unittest.TestCase):
    def check_target(self, case, target):
        steps = target["methods"]["integrated-gradients"]["steps"]
        with tempfile.TemporaryDirectory() as out:
            doc = explain(case, out, "--method", ",".join(CAMS + PIXELS), "--class",
                          str(target["class"]), "--steps", str(steps), "--layer", case["layer"],
                          "--npy")
            self.assertEqual(len(doc["images"]), 1)
            image = doc["images"][0]
            self.assertEqual(image["class"], target["class"])
            methods = {m["method"]: m for m in image["methods"]}
            self.assertEqual(sorted(methods), sorted(CAMS + PIXELS))
            for method in CAMS:
                what = f'{case["name"]} {target["tag"]} {method}'
                want = target["methods"][method]
                m = methods[method]
                self.assertEqual(m["layer"], case["layer"], what)
                got = npy_file(m, "/" + method + ".npy")
                got_layer = npy_file(m, "_layer.npy")
                # Eigen-CAM: the SVD's sign is arbitrary (numpy's LAPACK and LibTorch's differ),
                # so either sign's map, the same at both resolutions
                suffixes = ["", "_flipped"] if method == "eigencam" else [""]
                errors = [np.abs(got - np.load(fixture("explain", want["map" + k]))).max()
                          for k in suffixes]
                k = suffixes[int(np.argmin(errors))]
                ref = np.load(fixture("explain", want["map" + k]))
                self.assertEqual(got.dtype, np.float32, what)
                self.assertEqual(got.shape, ref.shape, what)
                self.assertLess(np.abs(got - ref).max(), 1e-3, what)
                ref = np.load(fixture("explain", want["layer_map" + k]))
                self.assertEqual(got_layer.shape, ref.shape, what)
                self.assertLessEqual(np.abs(got_layer - ref).max(), 1e-4 * np.abs(ref).max(),
                                     what)
            for method in PIXELS:
                what = f'{case["name"]} {target["tag"]} {method}'
                want = target["methods"][method]
                got = npy_file(methods[method], "/" + method + ".npy")
                ref = np.load(fixture("explain", want["attribution"]))
                self.assertEqual(got.dtype, np.float32, what)
                self.assertEqual(got.shape, ref.shape, what)
                self.assertLess(np.abs(got - ref).max(), 1e-4 * np.abs(ref).max(), what)
                if method != "integrated-gradients":
                    self.assertIsNone(methods[method]["delta"], what)
                    continue
                delta = methods[method]["delta"]
                scale = max(1.0, abs(want["completeness"]))
                self.assertLess(abs(delta - (got.astype(np.float64).sum()
                                             - want["completeness"])), 1e-3 * scale, what)
                self.assertLess(abs(delta - want["delta"]), 1e-3 * scale, what)

    def test_maps_equal_the_libraries(self):
        for case in EXPECTED:
            for target in case["targets"]:
                with self.subTest(case=case["name"], target=target["tag"]):
                    self.check_target(case, target)

    def test_smoothgrad_statistically(self):
        for case in EXPECTED[:2]:
            target = case["targets"][0]
            want = target["methods"]["smoothgrad"]
            ref = np.load(fixture("explain", want["attribution"])).ravel()
            errors = []
            for samples in (2, want["samples"]):
                with tempfile.TemporaryDirectory() as out:
                    doc = explain(case, out, "--method", "smoothgrad", "--class",
                                  str(target["class"]), "--samples", str(samples), "--noise",
                                  str(want["noise"]), "--npy")
                    got = npy_file(doc["images"][0]["methods"][0], "/smoothgrad.npy").ravel()
                errors.append(np.abs(got - ref).mean())
            corr = np.corrcoef(got, ref)[0, 1]
            self.assertGreater(corr, 0.9, case["name"])
            self.assertLess(errors[1], errors[0], case["name"])

    def test_defaults_top1_and_family_layer(self):
        """Without --class / --layer / --method: gradcam of the top-1 class at the family's
        default CAM layer (pytorch-grad-cam's README choices), figures written."""
        for case in EXPECTED:
            top1 = [t for t in case["targets"] if t["tag"] == "top1"][0]
            with tempfile.TemporaryDirectory() as out:
                doc = explain(case, out)
                image = doc["images"][0]
                self.assertEqual(image["class"], top1["class"], case["name"])
                self.assertEqual([m["method"] for m in image["methods"]], ["gradcam"])
                self.assertEqual(image["methods"][0]["layer"], case["default_layer"])
                self.assertTrue(all(os.path.isfile(f) for f in image["methods"][0]["files"]))
                self.assertTrue(any(f.endswith(".png") for f in image["methods"][0]["files"]))

    def test_figures_as_show_cam_on_image(self):
        """The heat map is cv2.applyColorMap(uint8(255 * map), COLORMAP_JET) in RGB, the overlay
        show_cam_on_image over the photo as the network saw it (Resize 256, CenterCrop 224)."""
        import cv2
        from PIL import Image
        from pytorch_grad_cam.utils.image import show_cam_on_image
        from torchvision import transforms
        photo = sample_photos.photos("grace_hopper.jpg")[0]
        case = EXPECTED[0]
        with tempfile.TemporaryDirectory() as out:
            p = run("explain", fixture("explain", case["checkpoint"]), "--image", photo, "-o", out,
                    "--json", "--npy", "--alpha", "0.4")
            self.assertEqual(p.returncode, 0, p.stderr)
            m = json.loads(p.stdout)["images"][0]["methods"][0]
            cam = npy_file(m, "/gradcam.npy")
            self.assertEqual(cam.shape, (224, 224))
            heat = cv2.cvtColor(cv2.applyColorMap(np.uint8(255 * cam), cv2.COLORMAP_JET),
                                cv2.COLOR_BGR2RGB).astype(int)
            got = pixels([f for f in m["files"] if f.endswith("_heat.png")][0])
            self.assertLessEqual(np.abs(got - heat).max(), 1)
            with Image.open(photo) as im:
                pic = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])(
                    im.convert("RGB"))
            want = show_cam_on_image(np.float32(pic) / 255, cam, use_rgb=True,
                                     image_weight=0.6).astype(int)
            got = pixels([f for f in m["files"] if f.endswith("/gradcam.png")][0])
            self.assertLessEqual(np.abs(got - want).max(), 2)

    def test_bad_input_one_line(self):
        case = EXPECTED[0]
        ckpt, image = fixture("explain", case["checkpoint"]), fixture("explain", case["image"])
        with tempfile.TemporaryDirectory() as out:
            for args, words, code in ((["--layer", "layer4.9"], "layer4", 1),
                                      (["--class", "10"], "out of range", 1),
                                      (["--method", "gradcamm"], "gradcam", 2)):  # 2: usage
                p = run("explain", ckpt, "--image", image, "-o", out, *args)
                self.assertEqual(p.returncode, code, args)
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertTrue(lines[0].startswith("cnnscope: error:"), p.stderr)
                self.assertIn(words, lines[0], args)


if __name__ == "__main__":
    unittest.main()
