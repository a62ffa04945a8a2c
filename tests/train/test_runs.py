"""End-to-end tests of a `cnnscope train` run folder (fixtures: tests/oracle/make_train_data.py).

run.json holds what later commands need (arch, size, channels, preset, classes, epochs, options);
epoch_000.pth is the initial weights; `-o` into a folder that holds a run is refused unless
--overwrite (which removes the old run's files) or --resume; resuming in place continues the
epochs and ends with the weights of an uninterrupted run; `evolve RUN/` takes epoch_000.. in
order without best.pth/last.pth; `predict RUN/last.pth` takes its input size and class names
from run.json, and a malformed run.json is a one-line error.
"""
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import assert_one_line_error, fixture, run  # noqa: E402

import test_train  # noqa: E402
import torch  # noqa: E402

LENET = ["--arch", "lenet_seed", "--data", fixture("train_learn"), "--batch-size", "16", "--lr",
         "0.002", "--input-size", "32", "--seed", "1"]
CLASSES = ["cat", "dog", "fox"]


def metric_epochs(run_dir):
    metrics = test_train.read_json(os.path.join(run_dir, "metrics.json"))
    return [e["epoch"] for e in metrics["epochs"]]


class RunFolderTest(test_train.TrainCase):
    def test_run_json_initial_weights_and_evolve_order(self):
        out = os.path.join(self.tmp, "run")
        self.train(*LENET, "--epochs", "2", "-o", out)
        info = test_train.read_json(os.path.join(out, "run.json"))
        self.assertEqual(info["format"], "cnnscope-run")
        self.assertEqual(info["arch"], "lenet_seed")
        self.assertEqual(info["num_classes"], 3)
        self.assertEqual(info["input_size"], 32)
        self.assertEqual(info["input_channels"], 3)
        self.assertIsInstance(info["preset"], str)
        self.assertEqual(info["classes"], CLASSES)
        self.assertEqual(info["epochs"], 2)
        self.assertEqual(info["options"]["lr"], 0.002)
        self.assertEqual(info["options"]["batch_size"], 16)
        self.assertEqual(info["options"]["seed"], 1)
        start = torch.load(os.path.join(out, "epoch_000.pth"), weights_only=True)
        first = torch.load(os.path.join(out, "epoch_001.pth"), weights_only=True)
        self.assertEqual(list(start), list(first))
        self.assertFalse(all(torch.equal(start[k], first[k]) for k in start))
        # evolve RUN/: the epochs in order, best.pth and last.pth left out.
        r = run("evolve", out, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual([os.path.basename(c) for c in doc["checkpoints"]],
                         ["epoch_000.pth", "epoch_001.pth", "epoch_002.pth"])
        self.assertEqual(doc["steps"], [0, 1, 2])
        # Named as files, best.pth and last.pth are taken.
        r = run("evolve", os.path.join(out, "epoch_000.pth"), os.path.join(out, "best.pth"),
                "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(json.loads(r.stdout)["checkpoints"]), 2)

    def test_existing_run_refused_unless_overwrite(self):
        out = os.path.join(self.tmp, "run")
        self.train(*LENET, "--epochs", "2", "-o", out)
        last = os.path.join(out, "last.pth")
        before = os.stat(last).st_mtime_ns
        r = run("train", *LENET, "--epochs", "1", "-o", out)
        assert_one_line_error(self, r, out, "already holds a training run", "--resume",
                              "--overwrite")
        self.assertEqual(os.stat(last).st_mtime_ns, before)
        self.train(*LENET, "--epochs", "1", "--overwrite", "-o", out)
        self.assertFalse(os.path.exists(os.path.join(out, "epoch_002.pth")))
        self.assertEqual(metric_epochs(out), [1])
        self.assertEqual(test_train.read_json(os.path.join(out, "run.json"))["epochs"], 1)
        self.assertEqual(len(os.listdir(os.path.join(out, "tensorboard"))), 1)

    def test_resume_in_place_equals_an_uninterrupted_run(self):
        whole = os.path.join(self.tmp, "whole")
        self.train(*LENET, "--epochs", "2", "-o", whole)
        parts = os.path.join(self.tmp, "parts")
        self.train(*LENET, "--epochs", "1", "-o", parts)
        self.train(*LENET, "--epochs", "2", "--resume", os.path.join(parts, "last.pth"), "-o",
                   parts)
        self.assert_state_close(
            torch.load(os.path.join(parts, "epoch_002.pth"), weights_only=True),
            torch.load(os.path.join(whole, "epoch_002.pth"), weights_only=True))
        last = torch.load(os.path.join(parts, "last.pth"), weights_only=True)
        self.assertEqual(last["epoch"], 2)
        self.assertEqual(metric_epochs(parts), [1, 2])
        self.assertEqual(test_train.read_json(os.path.join(parts, "run.json"))["epochs"], 2)
        self.assertEqual(sorted(f for f in os.listdir(parts) if f.endswith(".pth")),
                         ["best.pth", "epoch_000.pth", "epoch_001.pth", "epoch_002.pth",
                          "last.pth"])
        self.assertEqual([f for f in os.listdir(parts) if ".tmp-" in f], [])

    def test_predict_takes_size_and_classes_from_run_json(self):
        out = os.path.join(self.tmp, "run")
        self.train("--arch", "resnet18", "--data", fixture("train_learn"), "--input-size", "40",
                   "--batch-size", "8", "--max-steps", "1", "--epochs", "1", "-o", out)
        image = os.path.join(fixture("train_learn"), "val", "dog", "000.png")
        last = os.path.join(out, "last.pth")

        def predict(checkpoint, *args):
            r = run("predict", checkpoint, "--image", image, "--json", *args)
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout)

        got = predict(last)
        explicit = predict(last, "--preset", "imagenet", "--resize", "40x40", "--crop", "40",
                           "--classes", os.path.join(out, "class_indices.json"))
        self.assertEqual([t["label"] for t in got["top"]], [t["label"] for t in explicit["top"]])
        self.assertEqual(sorted(t["label"] for t in got["top"]), CLASSES)
        for a, b in zip(got["probabilities"], explicit["probabilities"]):
            self.assertAlmostEqual(a, b, places=6)
        # The same weights outside the run folder: the preset's 224x224, no class names.
        alone = os.path.join(self.tmp, "alone")
        os.makedirs(alone)
        shutil.copy(last, alone)
        other = predict(os.path.join(alone, "last.pth"))
        self.assertNotEqual(other["probabilities"], got["probabilities"])
        self.assertEqual([t["label"] for t in other["top"] if t["label"] in CLASSES], [])
        # A malformed run.json beside it is one line naming it.
        for text in ("{", json.dumps({"format": "cnnscope-run", "version": 1, "arch": 3})):
            with open(os.path.join(alone, "run.json"), "w") as f:
                f.write(text)
            r = run("predict", os.path.join(alone, "last.pth"), "--image", image)
            assert_one_line_error(self, r, "run.json")


if __name__ == "__main__":
    unittest.main()
