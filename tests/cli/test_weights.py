"""End to end: `cnnscope weights` against numpy on torch.save checkpoints (fixtures of
make_cli_weights.py): JSON figures (1e-6 relative) and histograms (exact), table, CSV, --keys globs,
--plots files, and one-line errors with exit status 1."""
import csv
import io
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

from cli_common import fixture, run  # noqa: E402

REL = 1e-6


def numpy_figures(t, bins):
    v = (t.float() if t.dtype == torch.bfloat16 else t).numpy().astype(np.float64).reshape(-1)
    finite = v[np.isfinite(v)]
    data = t.numpy().reshape(-1) if t.dtype == torch.float32 else finite
    data = data[np.isfinite(data)]
    counts, edges = np.histogram(data, bins=bins)
    out = {"numel": t.numel(), "counts": counts.tolist(), "edges": edges.tolist()}
    if finite.size:
        out.update(mean=finite.mean(), min=finite.min(), max=finite.max(),
                   std=finite.std(ddof=1) if finite.size > 1 else None)
    return out


class Weights(unittest.TestCase):
    def close(self, got, want, scale, what):
        self.assertLessEqual(abs(got - want), REL * abs(want) + 1e-12 * scale, what)

    def check_json(self, name, bins):
        r = run("weights", fixture(name), "--json", "--bins", str(bins))
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        sd = torch.load(fixture(name))
        expected = [k for k in sd if not k.endswith("num_batches_tracked")]
        self.assertEqual([t["name"] for t in doc["tensors"]], expected)
        self.assertEqual(doc["file"], fixture(name))
        for t in doc["tensors"]:
            want = numpy_figures(sd[t["name"]], bins)
            self.assertEqual(t["numel"], want["numel"])
            self.assertEqual(t["shape"], list(sd[t["name"]].shape))
            self.assertEqual(t["histogram"]["counts"], want["counts"], t["name"])
            self.assertEqual(t["histogram"]["edges"], want["edges"], t["name"])
            if "mean" not in want:
                continue
            scale = max(abs(want["min"]), abs(want["max"]))
            for key in ("mean", "min", "max"):
                self.close(t[key], want[key], scale, f"{t['name']} {key}")
            if want["std"] is None:
                self.assertIsNone(t["std"])
                self.assertIn("std undefined", t["note"])
            else:
                self.close(t["std"], want["std"], scale, f"{t['name']} std")
        return doc

    def test_alexnet_json_matches_numpy(self):
        doc = self.check_json("cli_weights_alexnet.pth", 50)
        self.assertEqual(len(doc["tensors"]), 16)
        self.assertEqual(doc["totals"]["numel"], sum(t["numel"] for t in doc["tensors"]))

    def test_edge_cases_json(self):
        doc = self.check_json("cli_weights_edge.pth", 13)
        by = {t["name"]: t for t in doc["tensors"]}
        self.assertEqual(doc["skipped"], ["bn.num_batches_tracked"])
        self.assertEqual((by["noisy"]["nan"], by["noisy"]["posinf"], by["noisy"]["finite"]), (1, 1, 3))
        self.assertIn("NaN", by["noisy"]["note"])
        self.assertEqual(by["half"]["dtype"], "float16")
        self.assertEqual(by["brain"]["dtype"], "bfloat16")
        self.assertEqual(by["steps"]["dtype"], "int64")
        self.assertEqual(by["bn.weight"]["std"], 0.0)

    def test_table_grouped_with_totals(self):
        r = run("weights", fixture("cli_weights_alexnet.pth"))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines[0].startswith("tensor"))
        self.assertIn("features.0  (17,472 values)", lines)
        self.assertTrue(any(line.startswith("  weight  float32  48\u00d73\u00d711\u00d711") for line in lines))
        self.assertTrue(lines[-1].startswith("total: 16 tensors, "), lines[-1])
        self.assertIn("max", lines[0])
        r = run("weights", fixture("cli_weights_edge.pth"))
        self.assertIn("std undefined", r.stdout)

    def test_csv(self):
        r = run("weights", fixture("cli_weights_edge.pth"), "--csv")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        by = {row["name"]: row for row in rows}
        self.assertEqual(by["scale"]["std"], "")
        self.assertEqual(float(by["scale"]["mean"]), 0.75)
        self.assertEqual(by["conv.weight"]["shape"], "8x4x3x3")
        self.assertEqual(by["conv.weight"]["layer"], "conv")

    def test_keys_glob_and_no_match(self):
        r = run("weights", fixture("cli_weights_alexnet.pth"), "--json", "--keys", "features.*.weight,classifier.6.*")
        self.assertEqual(r.returncode, 0, r.stderr)
        names = [t["name"] for t in json.loads(r.stdout)["tensors"]]
        self.assertEqual(names, ["features.0.weight", "features.3.weight", "features.6.weight",
                                 "features.8.weight", "features.10.weight", "classifier.6.weight",
                                 "classifier.6.bias"])
        r = run("weights", fixture("cli_weights_alexnet.pth"), "--keys", "feature.0.wieght")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("no tensor key matches 'feature.0.wieght'", r.stderr)
        self.assertIn("similar keys: features.0.weight", r.stderr)

    def test_plots(self):
        with tempfile.TemporaryDirectory() as d:
            r = run("weights", fixture("cli_weights_edge.pth"), "--plots", d, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            json.loads(r.stdout)  # stdout stays pure JSON
            files = sorted(os.listdir(d))
            # Floating tensors only: integer `steps` and the skipped counter are not plotted.
            self.assertEqual(files, sorted(["bn.running_mean.png", "bn.weight.png", "brain.png",
                                            "conv.weight.png", "half.png", "noisy.png",
                                            "overview.png", "scale.png"]))
            with open(os.path.join(d, "conv.weight.png"), "rb") as f:
                head = f.read(24)
            self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
            self.assertEqual(int.from_bytes(head[16:20], "big"), 800)
            r = run("weights", fixture("cli_weights_edge.pth"), "--plots", d, "--format", "svg", "--keys", "conv.*")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("conv.weight.svg", os.listdir(d))
            self.assertIn("overview.svg", os.listdir(d))

    def test_errors_are_one_line(self):
        with tempfile.NamedTemporaryFile(suffix=".pth") as f:
            f.write(b"not a checkpoint at all")
            f.flush()
            r = run("weights", f.name)
            self.assertEqual(r.returncode, 1)
            self.assertTrue(r.stderr.startswith("cnnscope: error: " + f.name), r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        r = run("weights", fixture("cli_weights_edge.pth"), "--bins", "0")
        self.assertEqual(r.returncode, 2)  # a flag's value out of range: a usage error
        self.assertIn("--bins", r.stderr)
        r = run("weights", fixture("cli_weights_edge.pth"), "--plots", "/tmp", "--format", "gif")
        self.assertEqual(r.returncode, 1)
        self.assertIn("gif", r.stderr)
        r = run("weights", fixture("cli_weights_edge.pth"), "--json", "--csv")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
