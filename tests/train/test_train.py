"""End-to-end tests of `cnnscope train` against PyTorch (fixtures: tests/oracle/make_train_data.py).

One-step parity from the same --init weights on the same first batch (--no-shuffle --augment
none --max-steps 1) for SGD (momentum, weight decay) and Adam: every parameter and BN buffer
within 1e-5 of the tensor's largest magnitude of torch.optim's step. last.pth loads with
torch.load(weights_only=True) and resumes in PyTorch (one more step equal to PyTorch's own second
step); PyTorch's training checkpoint resumes in cnnscope. A small colour data set is learned;
bad data and a --resume of another arch are one-line errors.
"""
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import fixture, run  # noqa: E402

import torch  # noqa: E402
import torchvision  # noqa: E402

TOLERANCE = 1e-5  # of the reference tensor's largest magnitude (the training parity bar)
OPTIONS = {
    "sgd": ["--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9", "--weight-decay", "5e-4"],
    "adam": ["--optimizer", "adam", "--lr", "2e-4", "--weight-decay", "1e-4"],
}
PYTORCH = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=5e-4),
    "adam": lambda p: torch.optim.Adam(p, lr=2e-4, weight_decay=1e-4),
}
ONE_STEP = ["--arch", "resnet18", "--data", fixture("train_parity"), "--no-shuffle", "--augment",
            "none", "--max-steps", "1", "--batch-size", "8", "--input-size", "64"]


class TrainCase(unittest.TestCase):
    """A temporary folder per test, `train` that must succeed, state_dicts compared."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def train(self, *args):
        r = run("train", *args, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def assert_state_close(self, got, want):
        self.assertEqual(list(got.keys()), list(want.keys()))
        for key, ref in want.items():
            diff = (got[key].double() - ref.double()).abs().max().item()
            scale = ref.double().abs().max().item()
            self.assertLessEqual(diff, TOLERANCE * scale, key)


class TrainTest(TrainCase):
    def test_one_step_parity_and_resume(self):
        for name in ("sgd", "adam"):
            with self.subTest(optimizer=name):
                out = os.path.join(self.tmp, name)
                self.train(*ONE_STEP, *OPTIONS[name], "--epochs", "1", "--init",
                           fixture("train_parity_init.pth"), "-o", out)
                step1 = torch.load(fixture(f"train_ref_{name}_step1.pth"), weights_only=True)
                step2 = torch.load(fixture(f"train_ref_{name}_step2.pth"), weights_only=True)
                for f in ("epoch_001.pth", "best.pth"):
                    self.assert_state_close(torch.load(os.path.join(out, f), weights_only=True),
                                            step1)
                # cnnscope's last.pth resumes in PyTorch: one more step equals PyTorch's second.
                last = torch.load(os.path.join(out, "last.pth"), weights_only=True)
                self.assertEqual(sorted(last), ["best_val_acc", "epoch", "model_state_dict",
                                                "optimizer_state_dict"])
                self.assertEqual(last["epoch"], 1)
                ref_last = torch.load(fixture(f"train_ref_{name}_last.pth"), weights_only=True)
                self.assertEqual(last["optimizer_state_dict"]["param_groups"],
                                 ref_last["optimizer_state_dict"]["param_groups"])
                model = torchvision.models.resnet18(num_classes=3)
                model.load_state_dict(last["model_state_dict"], strict=True)
                opt = PYTORCH[name](model.parameters())
                opt.load_state_dict(last["optimizer_state_dict"])
                x, y = first_batch()
                model.train()
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                opt.step()
                self.assert_state_close(model.state_dict(), step2)
                # PyTorch's training checkpoint resumes in cnnscope.
                resumed = os.path.join(self.tmp, name + "_resumed")
                self.train(*ONE_STEP, *OPTIONS[name], "--epochs", "2", "--resume",
                           fixture(f"train_ref_{name}_last.pth"), "-o", resumed)
                self.assertFalse(os.path.exists(os.path.join(resumed, "epoch_001.pth")))
                self.assert_state_close(
                    torch.load(os.path.join(resumed, "epoch_002.pth"), weights_only=True), step2)

    def test_learns_a_small_data_set(self):
        out = os.path.join(self.tmp, "learn")
        r = self.train("--arch", "lenet_seed", "--data", fixture("train_learn"), "-o", out,
                       "--epochs", "4", "--batch-size", "16", "--lr", "0.002", "--input-size",
                       "32", "--seed", "1")
        metrics = read_json(os.path.join(out, "metrics.json"))
        self.assertEqual([e["epoch"] for e in metrics["epochs"]], [1, 2, 3, 4])
        for e in metrics["epochs"]:
            self.assertEqual(sorted(e), ["epoch", "images_per_second", "seconds",
                                         "skipped_images", "train_acc", "train_loss", "val_acc",
                                         "val_loss"])
        self.assertGreaterEqual(metrics["epochs"][-1]["val_acc"], 0.9, r.stdout)
        self.assertEqual(read_json(os.path.join(out, "class_indices.json")),
                         {"0": "cat", "1": "dog", "2": "fox"})
        for f in ("epoch_001.pth", "epoch_004.pth", "best.pth", "last.pth"):
            self.assertTrue(os.path.exists(os.path.join(out, f)), f)
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        events = EventAccumulator(os.path.join(out, "tensorboard"),
                                  size_guidance={"histograms": 0, "images": 0})
        events.Reload()
        tags = events.Tags()
        self.assertEqual([e.step for e in events.Scalars("accuracy/val")], [1, 2, 3, 4])
        self.assertEqual([e.step for e in events.Histograms("weights/conv1.weight")], [1, 2, 3, 4])
        self.assertIn("filters/first_layer", tags["images"])

    def test_bad_input(self):
        cases = [
            (["--data", fixture("train_bad_empty")], "empty class folder"),
            (["--data", fixture("train_bad_noval")], "missing from val"),
            (["--data", fixture("train_parity"), "--resume", fixture("train_ref_sgd_last.pth"),
              "--optimizer", "sgd"], "alexnet"),
        ]
        for args, message in cases:
            with self.subTest(message=message):
                arch = "alexnet" if message == "alexnet" else "resnet18"
                r = run("train", "--arch", arch, *args, "-o", os.path.join(self.tmp, "bad"))
                self.assertEqual(r.returncode, 1, r.stderr)
                lines = r.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertTrue(lines[0].startswith("cnnscope: error: "), r.stderr)
                if message != "alexnet":
                    self.assertIn(message, lines[0])


def read_json(path):
    with open(path) as f:
        return json.load(f)


def first_batch():
    from torchvision import transforms
    tf = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    data = torchvision.datasets.ImageFolder(os.path.join(fixture("train_parity"), "train"),
                                            transform=tf)
    return next(iter(torch.utils.data.DataLoader(data, batch_size=8, shuffle=False)))


if __name__ == "__main__":
    unittest.main()
