"""End-to-end `cnnscope predict`: logits equal PyTorch's for the same .npy input (1e-4 of the
largest magnitude), probabilities are their softmax, top-k sorted with the seed's class_indices.json
or a text file of labels; bad labels files and options exit 1 with one line on stderr."""
import json
import math
import os
import unittest

from cli_common import assert_forward_close, fixture, run  # noqa: E402


def expected(name):
    with open(fixture("cli_models_expected.json")) as f:
        return json.load(f)[name]["logits"]


def write(name, text):
    path = fixture(name)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    return path


class Predict(unittest.TestCase):
    def predict(self, name, *extra):
        r = run("predict", fixture(f"cli_models_{name}.pth"), "--image",
                fixture("cli_models_input.npy"), "--json", *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def check_logits(self, name, doc):
        assert_forward_close(self, doc["logits"], expected(name), name)

    def test_seed_alexnet_with_class_indices(self):
        doc = self.predict("seed_alexnet", "--classes", fixture("cli_models_class_indices.json"),
                           "--topk", "3")
        self.check_logits("seed_alexnet", doc)
        exps = [math.exp(v - max(doc["logits"])) for v in doc["logits"]]
        for p, e in zip(doc["probabilities"], exps):
            self.assertAlmostEqual(p, e / sum(exps), places=6)
        self.assertEqual(len(doc["top"]), 3)
        order = sorted(range(5), key=lambda i: -doc["probabilities"][i])
        self.assertEqual([t["index"] for t in doc["top"]], order[:3])
        labels = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
        self.assertEqual([t["label"] for t in doc["top"]], [labels[i] for i in order[:3]])

    def test_resnet18_and_vgg(self):
        self.check_logits("resnet18", self.predict("resnet18"))
        self.check_logits("vgg11_bn", self.predict("vgg11_bn", "--topk", "99"))

    def test_text_labels_and_text_output(self):
        labels = write("cli_models_labels.txt", "a\nb\nc\n")
        r = run("predict", fixture("cli_models_vgg11_bn.pth"), "--image",
                fixture("cli_models_input.npy"), "--classes", labels)
        self.assertEqual(r.returncode, 0, r.stderr)
        best = max(range(3), key=lambda i: expected("vgg11_bn")[i])
        self.assertIn(f"1. {'abc'[best]}", r.stdout)

    def test_bad_input_is_one_line(self):
        ckpt = fixture("cli_models_vgg11_bn.pth")
        npy = fixture("cli_models_input.npy")
        cases = [
            ["--image", npy, "--classes", write("cli_models_two.txt", "a\nb\n")],
            ["--image", npy, "--classes", write("cli_models_bad.json", '{"7": "x"}')],
            ["--image", npy, "--classes", write("cli_models_broken.json", '{"0": ')],
            ["--image", npy, "--topk", "0"],
            ["--image", fixture("cli_models_missing.npy")],
            ["--image", npy, "--preset", "nope"],
        ]
        for args in cases:
            r = run("predict", ckpt, *args, "--json")
            usage = "--topk" in args or "--preset" in args  # a flag's value: CLI11's exit 2
            self.assertEqual(r.returncode, 2 if usage else 1, args)
            self.assertEqual(r.stdout, "", args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    unittest.main()
