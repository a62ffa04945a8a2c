"""End-to-end, for the tutorial nets: `summary --json` of
make_models_tutorial.py's state_dicts lists Python's named_modules() with class names and output
shapes (1x28x28 input for MNIST's Net); `predict` and `features --npy` on a real photo with the
model's default preset equal the torchvision pipeline of that preset (Pillow; Grayscale first for
"mnist") + the class of tutorial_models.py (logits: forward's output; taps: forward hooks);
`init` of every --arch writes a .pth that the Python class loads with strict=True, the same for
the same seed."""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
from cli_common import assert_forward_close, fixture, read_safetensors, run  # noqa: E402
from sample_photos import photos  # noqa: E402
from tutorial_models import ARCHS, CifarResNet  # noqa: E402

# The presets, as torchvision pipelines: (arch's default preset, transforms).
PRESETS = {
    "cifar10": ([32, 32], (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), False),
    "cifar10_imagenet": ([32, 32], (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), False),
    "mnist": ([28, 28], (0.1307,), (0.3081,), True),
}
DEFAULT_PRESET = {"lenet_blitz": "cifar10", "lenet_seed": "cifar10", "mnist_net": "mnist",
                  "mnist_net_2018": "mnist",
                  "resnet20_cifar": "cifar10_imagenet",
                  "resnet20_cifar_option_b": "cifar10_imagenet"}


def manifest():
    with open(fixture("models_tutorial_manifest.json")) as f:
        return json.load(f)


def pipeline(name):
    from torchvision import transforms
    size, mean, std, gray = PRESETS[name]
    steps = [transforms.Grayscale()] if gray else []
    steps += [transforms.Resize(size[0]), transforms.CenterCrop(size[0]), transforms.ToTensor(),
              transforms.Normalize(mean, std)]
    return transforms.Compose(steps)


def python_model(name):
    """The fixture's class with the fixture's weights, in eval mode."""
    want = manifest()[name]
    if name.endswith("_option_b"):
        model = CifarResNet(3, want["num_classes"], option="B")
    else:
        model = ARCHS[want["arch"]](want["num_classes"])
    sd = read_safetensors(fixture(f"models_tutorial_{name}.safetensors"))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()})
    return model.eval()


class Summary(unittest.TestCase):
    def test_every_layer_as_python_sees_it(self):
        for name, want in manifest().items():
            with self.subTest(name):
                r = run("summary", fixture(f"models_tutorial_{name}.safetensors"), "--json",
                        "--input-size", str(want["input"][1]))
                self.assertEqual(r.returncode, 0, r.stderr)
                doc = json.loads(r.stdout)
                for k in ("arch", "family", "num_classes", "params"):
                    self.assertEqual(doc[k], want[k], k)
                self.assertEqual(doc["default_preset"], DEFAULT_PRESET[name])
                got = [[layer["name"], layer["type"], layer["output_shape"]]
                       for layer in doc["layers"]]
                self.assertEqual(got, [[n, t, [1] + want["shapes"][n][1:]]  # batch 1 here
                                       for n, t in want["modules"]])


class Photo(unittest.TestCase):
    def setUp(self):
        found = photos("chelsea.png")
        if not found:
            self.fail("scikit-image's chelsea.png is missing from the oracle venv")
        self.photo = found[0]

    def test_predict_and_features_equal_torchvision_and_pytorch(self):
        from PIL import Image
        for name in manifest():
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                preset = DEFAULT_PRESET[name]
                with Image.open(self.photo) as im:
                    x = pipeline(preset)(im.convert("RGB")).unsqueeze(0)  # [1, C, H, W]
                model = python_model(name)
                names = ["conv1", "layer2.0"] if "resnet" in name else ["conv1", "conv2"]
                layers = {}
                hooks = [model.get_submodule(n).register_forward_hook(
                    lambda m, i, o, n=n: layers.__setitem__(n, o.detach().clone()))
                    for n in names]
                with torch.no_grad():
                    logits = model(x)[0]
                for h in hooks:
                    h.remove()
                ckpt = fixture(f"models_tutorial_{name}.safetensors")
                r = run("predict", ckpt, "--image", self.photo, "--topk", "3", "--json")
                self.assertEqual(r.returncode, 0, r.stderr)
                doc = json.loads(r.stdout)
                self.assertEqual(doc["preset"], preset)
                assert_forward_close(self, doc["logits"], logits.numpy(), "logits")
                out = os.path.join(tmp, "f")
                r = run("features", ckpt, "--image", self.photo, "--layers", ",".join(names),
                        "--npy", "-o", out)
                self.assertEqual(r.returncode, 0, r.stderr)
                for layer in names:
                    got = np.load(os.path.join(out, layer + ".npy"))
                    assert_forward_close(self, got, layers[layer][0].numpy(), layer)

    def test_a_colour_preset_gives_the_network_its_channels_and_size(self):
        # The network's one channel and 28x28 win over cifar10's colour 32x32.
        r = run("predict", fixture("models_tutorial_mnist_net.safetensors"), "--image",
                self.photo, "--preset", "cifar10", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["preset"], "cifar10+28x28")


class AkamasterCheckpoint(unittest.TestCase):
    def test_dataparallel_training_checkpoint_runs_as_saved(self):
        # akamaster's trainer saves {'state_dict': DataParallel(model).state_dict(),
        # 'best_prec1': ..., 'epoch': ...}: keys with a `module.` prefix.
        model = python_model("resnet20_cifar")
        x = read_safetensors(fixture("models_tutorial_resnet20_cifar.expected.safetensors"))
        with tempfile.TemporaryDirectory() as tmp:
            ckpt = os.path.join(tmp, "resnet20-12fca82f.th")
            torch.save({"state_dict": {"module." + k: v for k, v in model.state_dict().items()},
                        "best_prec1": 91.7, "epoch": 200}, ckpt)
            npy = os.path.join(tmp, "x.npy")
            np.save(npy, x["input"][0].numpy())
            r = run("predict", ckpt, "--image", npy, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            doc = json.loads(r.stdout)
            self.assertEqual(doc["arch"], "resnet20_cifar")
            assert_forward_close(self, doc["logits"], x["logits"][0].numpy(), "logits")


class Init(unittest.TestCase):
    def test_loads_strictly_into_the_python_class_and_is_deterministic(self):
        for arch in ("lenet_blitz", "lenet_seed", "mnist_net", "mnist_net_2018",
                     "resnet20_cifar", "resnet56_cifar"):
            with self.subTest(arch), tempfile.TemporaryDirectory() as tmp:
                paths = [os.path.join(tmp, f"{i}.pth") for i in range(3)]
                for path, seed in zip(paths, ("1", "1", "2")):
                    r = run("init", arch, "--num-classes", "7", "--seed", seed, "-o", path)
                    self.assertEqual(r.returncode, 0, r.stderr)
                a, b, c = (torch.load(p, weights_only=True) for p in paths)
                model = ARCHS[arch](7)
                model.load_state_dict(a, strict=True)
                self.assertEqual(list(a.keys()), list(model.state_dict().keys()))
                self.assertTrue(all(torch.equal(a[k], b[k]) for k in a))
                self.assertFalse(all(torch.equal(a[k], c[k]) for k in a))
                size = 28 if arch.startswith("mnist_net") else 32
                channels = 1 if arch.startswith("mnist_net") else 3
                with torch.no_grad():
                    self.assertEqual(model.eval()(torch.zeros(1, channels, size, size)).shape,
                                     (1, 7))


if __name__ == "__main__":
    unittest.main()
