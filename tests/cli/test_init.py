"""End-to-end `cnnscope init`: the .pth loads with Python's torch.load (weights_only) into the
seed's / torchvision's model strictly, is initialized as the seed does, is deterministic for a seed
and round-trips through `summary`."""
import json
import os
import unittest

import torch
import torchvision

from cli_common import fixture as out, run  # noqa: E402
import seed_models  # noqa: E402  (tests/oracle, put on sys.path by cli_common)


class Init(unittest.TestCase):
    def init(self, arch, name, *extra):
        r = run("init", arch, "-o", out(name), *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return torch.load(out(name), weights_only=True)

    def test_seed_alexnet_loads_strictly_and_is_initialized_like_the_seed(self):
        sd = self.init("alexnet_seed", "cli_init_alexnet.pth", "--num-classes", "5", "--seed", "1")
        model = seed_models.AlexNet(num_classes=5)
        model.load_state_dict(sd, strict=True)
        w = sd["features.0.weight"]
        self.assertAlmostEqual(w.std().item(), (2 / (48 * 11 * 11)) ** 0.5, delta=0.05 * w.std())
        self.assertAlmostEqual(sd["classifier.1.weight"].std().item(), 0.01, delta=0.0005)
        self.assertEqual(sd["classifier.1.bias"].abs().max().item(), 0.0)

    def test_resnet34_loads_into_torchvision(self):
        sd = self.init("resnet34", "cli_init_resnet34.pth", "--num-classes", "5")
        model = torchvision.models.resnet34(num_classes=5)
        model.load_state_dict(sd, strict=True)
        self.assertEqual(list(sd.keys()), list(model.state_dict().keys()))
        self.assertEqual(sd["bn1.weight"].min().item(), 1.0)
        self.assertEqual(sd["layer1.0.bn1.running_var"].min().item(), 1.0)

    def test_deterministic_for_a_seed(self):
        a = self.init("resnet18", "cli_init_a.pth", "--seed", "5")
        b = self.init("resnet18", "cli_init_b.pth", "--seed", "5")
        c = self.init("resnet18", "cli_init_c.pth", "--seed", "6")
        self.assertTrue(all(torch.equal(a[k], b[k]) for k in a))
        self.assertFalse(torch.equal(a["conv1.weight"], c["conv1.weight"]))

    def test_summary_of_an_initialized_network(self):
        self.init("vgg11", "cli_init_vgg11.pth", "--num-classes", "3")
        r = run("summary", out("cli_init_vgg11.pth"), "--json", "--input-size", "32")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["arch"], "vgg11")

    def test_bad_arguments(self):
        # Usage errors (an unknown arch, a count out of range) exit 2, failures 1.
        for args, code in ((["resnet19", "-o", out("cli_init_x.pth")], 2),
                           (["resnet18", "-o", out("cli_init_x.pth"), "--num-classes", "0"], 2),
                           (["resnet18", "-o", "/nonexistent-dir/x.pth"], 1)):
            r = run("init", *args)
            self.assertEqual(r.returncode, code, args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertFalse(os.path.exists(out("cli_init_x.pth")))


if __name__ == "__main__":
    unittest.main()
