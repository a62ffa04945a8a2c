"""End-to-end, a network no family matches (fixtures: make_models_own.py and
make_models_sequential.py): a state_dict of a user's own class and a whole model of one are refused
in at most three lines on stderr: the file and what its keys look like (or its class), that `ls`,
`weights` and `filters` work on it, and the `torch.export` call that makes a file cnnscope runs,
with the README section to read, which exists. No list of families or architectures, no
TorchScript advice; `ls` then works on the same file."""
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import SOURCE_DIR, fixture, run  # noqa: E402

EXPORT = 'ep = torch.export.export(model.eval(), (x,)); torch.export.save(ep, "model.pt2")'
SECTION = "Your own model"
MAX_LINE = 200  # characters of each line past "cnnscope: error: " (every error line's bound)


class NoMatch(unittest.TestCase):
    def check_refusal(self, path, first_needles):
        """Each command that runs a network refuses `path` in <= 3 lines; returns the stderr."""
        with tempfile.TemporaryDirectory() as tmp:
            x = os.path.join(tmp, "x.npy")
            np.save(x, np.zeros((1, 28, 28), np.float32))
            for args in (("summary", path), ("predict", path, "--image", x),
                         ("features", path, "--image", x, "--layers", "block1", "-o",
                          os.path.join(tmp, "f")),
                         ("explain", path, "--image", x, "-o", os.path.join(tmp, "e"))):
                with self.subTest(args[0]):
                    r = run(*args)
                    self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                    self.assertEqual(r.stdout, "")
                    lines = r.stderr.rstrip("\n").split("\n")
                    self.assertLessEqual(len(lines), 3, r.stderr)
                    self.assertTrue(lines[0].startswith(f"cnnscope: error: {path}: "), lines[0])
                    for needle in first_needles:
                        self.assertIn(needle, lines[0])
                    for line in lines[1:]:
                        self.assertTrue(line.startswith("  "), line)  # indented below the error
                    for line in lines:
                        self.assertLessEqual(len(line), len("cnnscope: error: ") + MAX_LINE, line)
                    self.assertIn("ls, weights and filters work on it", r.stderr)
                    self.assertIn(EXPORT, r.stderr)
                    self.assertIn(f'README, "{SECTION}"', r.stderr)
                    for absent in ("torch.jit", "tried", "alexnet", "resnet18", "vgg11",
                                   "lenet_blitz", "mobilenet", "--arch"):
                        self.assertNotIn(absent, r.stderr)
        return r.stderr

    def test_state_dict_of_own_class_names_its_keys_and_the_export(self):
        path = fixture("models_own_state_dict.pth")
        self.check_refusal(path, ("matches no known network",
                                  "keys like block1.0.weight, block1.0.bias, block1.1.weight"))
        r = run("ls", path)  # as the message says
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("head.weight", r.stdout)

    def test_whole_model_of_own_class_says_the_same_way_out(self):
        self.check_refusal(fixture("models_sequential_custom.pth"),
                           ("a whole model of class __main__.Net",))

    def test_the_readme_section_exists(self):
        with open(os.path.join(SOURCE_DIR, "README.md")) as f:
            readme = f.read()
        self.assertIn(f"\n## {SECTION}\n", readme)
        section = readme.split(f"\n## {SECTION}\n", 1)[1].split("\n## ", 1)[0]
        for needle in ("torch.export.export(model.eval(), (x,))",
                       'torch.export.save(ep, "model.pt2")',
                       'torch.onnx.export(model, (x,), "model.onnx", dynamo=True)',
                       "cnnscope summary model.pt2", "--layers block1", "cnnscope predict",
                       "cnnscope explain", "cnnscope report", "cnnscope serve",
                       "summary --list-archs"):
            self.assertIn(needle, section)


if __name__ == "__main__":
    unittest.main()
