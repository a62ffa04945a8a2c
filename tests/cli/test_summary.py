"""End-to-end `cnnscope summary` on real torch.save checkpoints: the JSON's layers are Python's
named_modules() with the class names, output shapes (forward hooks) and parameter counts;
the text names what was detected; bad input exits 1 with one line on stderr; `--list-archs` prints
the names `--arch` takes."""
import json
import os
import unittest

from cli_common import fixture, run  # noqa: E402


def expected():
    with open(fixture("cli_models_expected.json")) as f:
        return json.load(f)


class Summary(unittest.TestCase):
    def check(self, name, arch, num_classes):
        r = run("summary", fixture(f"cli_models_{name}.pth"), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        want = expected()[name]
        self.assertEqual(doc["arch"], arch)
        self.assertEqual(doc["num_classes"], num_classes)
        self.assertEqual(doc["params"], want["params"])
        self.assertEqual(doc["input_shape"], [1, 3, 224, 224])
        got = [{k: layer[k] for k in ("name", "type", "output_shape", "params")}
               for layer in doc["layers"]]
        self.assertEqual(got, want["layers"])
        return doc

    def test_seed_alexnet(self):
        doc = self.check("seed_alexnet", "alexnet_seed", 5)
        self.assertEqual(doc["description"],
                         "alexnet, widths 48-128-192-192-128, 5 classes: the seed's AlexNet")
        conv0 = next(layer for layer in doc["layers"] if layer["name"] == "features.0")
        # 48x3x11x11 weights, once per position of the 55x55 output.
        self.assertEqual(conv0["mult_adds"], 48 * 3 * 11 * 11 * 55 * 55)

    def test_resnet18_half_precision_checkpoint(self):
        self.check("resnet18", "resnet18", 10)

    def test_vgg11_bn(self):
        self.check("vgg11_bn", "vgg11_bn", 3)

    def test_text_lists_the_tree_and_totals(self):
        r = run("summary", fixture("cli_models_seed_alexnet.pth"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("the seed's AlexNet", r.stdout)
        self.assertIn("features.0: Conv2d(3, 48, kernel_size=(11, 11), stride=(4, 4), "
                      "padding=(2, 2))", r.stdout)
        self.assertIn("[1, 48, 55, 55]", r.stdout)
        self.assertIn(f"Total params: {expected()['seed_alexnet']['params']:,}", r.stdout)

    def test_input_size_changes_shapes(self):
        r = run("summary", fixture("cli_models_resnet18.pth"), "--input-size", "64", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        layers = {layer["name"]: layer for layer in json.loads(r.stdout)["layers"]}
        self.assertEqual(layers["layer4"]["output_shape"], [1, 512, 2, 2])

    def test_bad_input_is_one_line(self):
        bad = fixture("cli_models_not_a_checkpoint.pth")
        with open(bad + ".tmp", "wb") as f:
            f.write(b"not a checkpoint at all")
        os.replace(bad + ".tmp", bad)
        cases = [
            [bad],
            [fixture("cli_models_seed_alexnet.pth"), "--input-size", "64"],
            [fixture("cli_models_seed_alexnet.pth"), "--arch", "resnet50"],
            [fixture("cli_models_seed_alexnet.pth"), "--arch", "nonet"],
        ]
        for args in cases:
            r = run("summary", *args, "--json")
            self.assertEqual(r.returncode, 2 if "nonet" in args else 1, args)  # 2: usage
            self.assertEqual(r.stdout, "", args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertTrue(r.stderr.startswith("cnnscope: error: "), r.stderr)
        r = run("summary", fixture("cli_models_seed_alexnet.pth"), "--arch", "resnet50")
        self.assertIn("looks like alexnet_seed", r.stderr)

    def test_list_archs_prints_the_arch_names_without_a_checkpoint(self):
        r = run("summary", "--list-archs")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        names = r.stdout.splitlines()
        for arch in ("alexnet_seed", "resnet18", "mobilenet_v3_small", "lenet_blitz",
                     "resnet20_cifar"):
            self.assertIn(arch, names)
        self.assertEqual(len(names), len(set(names)))
        r = run("summary")  # without it, CKPT is still required: a usage error
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("CKPT", r.stderr)


if __name__ == "__main__":
    unittest.main()
