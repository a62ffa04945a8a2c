"""End to end: `cnnscope evolve` over checkpoint series (fixtures of make_cli_series.py): order
(natural names, epochs), every JSON figure against numpy float64 computed here (1e-9 relative),
shared-bin histogram counts exactly numpy.histogram(x.astype(float64), bins, range=(series min,
max)), mismatched series reported, figures and the animation well formed, the page clean in
headless Chromium, TensorBoard steps decoded, bad input one line."""
import glob
import json
import os
import shutil
import struct
import tempfile
import unittest

import numpy as np
import torch

import cli_common
from make_export_tensorboard import decode_events  # noqa: E402  (tests/oracle via cli_common)

FIX = cli_common.fixture("series")
REL = 1e-9
BINS = 20


def evolve(*args):
    r = cli_common.run("evolve", *args)
    assert r.returncode == 0, r.stderr
    return r


class Evolve(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cnnscope-evolve-")
        cls.out = os.path.join(cls.tmp, "out")
        cls.tb = os.path.join(cls.tmp, "tb")
        cls.doc = json.loads(evolve(os.path.join(FIX, "run"), "--json", "--bins", str(BINS),
                                    "-o", cls.out, "--tensorboard", cls.tb).stdout)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def close(self, got, want, what):
        self.assertLessEqual(abs(got - want), REL * max(abs(want), 1e-300), what)

    def test_order_and_steps(self):
        self.assertEqual(self.doc["steps"], [0, 1, 2, 5, 10, 12])
        self.assertEqual(self.doc["step_source"], "epoch")
        self.assertEqual([os.path.basename(c) for c in self.doc["checkpoints"]],
                         [f"epoch_{n}.pth" for n in [0, 1, 2, 5, 10, 12]])
        plain = json.loads(evolve(os.path.join(FIX, "plain"), "--json").stdout)
        self.assertEqual([os.path.basename(c) for c in plain["checkpoints"]],
                         ["snap_9.pth", "snap_10.pth", "snap_100.pth"])
        self.assertEqual(plain["steps"], [9, 10, 100])
        self.assertEqual(plain["step_source"], "file name")

    def test_figures_equal_numpy(self):
        sds = [torch.load(c, weights_only=False)["model"] for c in self.doc["checkpoints"]]
        names = [k for k in sds[0] if not k.endswith("num_batches_tracked")]
        self.assertEqual([t["name"] for t in self.doc["tensors"]], names)
        for t in self.doc["tensors"]:
            xs = [sd[t["name"]].double().numpy().ravel() for sd in sds]
            lo = min(x.min() for x in xs)
            hi = max(x.max() for x in xs)
            for i, x in enumerate(xs):
                what = f'{t["name"]} step {i}'
                self.close(t["mean"][i], x.mean(), what + " mean")
                self.close(t["std"][i], x.std(ddof=1), what + " std")
                self.close(t["l2"][i], np.linalg.norm(x), what + " l2")
                n0 = np.linalg.norm(xs[0])
                if n0 > 0:
                    self.close(t["rel_change_from_first"][i], np.linalg.norm(x - xs[0]) / n0,
                               what + " from first")
                if i > 0 and np.linalg.norm(xs[i - 1]) > 0:
                    self.close(t["rel_change_from_previous"][i],
                               np.linalg.norm(x - xs[i - 1]) / np.linalg.norm(xs[i - 1]),
                               what + " from previous")
                counts, edges = np.histogram(x, bins=BINS, range=(lo, hi))
                self.assertEqual(t["histogram"]["counts"][i], counts.tolist(), what)
                np.testing.assert_array_equal(np.array(t["histogram"]["edges"]), edges)

    def test_mismatched_series_reported(self):
        r = evolve(os.path.join(FIX, "odd"), "--json")
        doc = json.loads(r.stdout)
        by = {t["name"]: t for t in doc["tensors"]}
        self.assertIsNone(by["v"]["l2"][1])  # missing in s2
        self.assertIsNone(by["w"]["rel_change_from_first"][2])  # shape changed in s3
        self.assertAlmostEqual(by["w"]["rel_change_from_first"][1], 1.0, places=12)
        self.assertEqual(len(doc["problems"]), 2, doc["problems"])

    def test_figures_animation_and_page(self):
        self.assertTrue(os.path.isfile(os.path.join(self.out, "drift.png")))
        heat = glob.glob(os.path.join(self.out, "histograms", "*.png"))
        self.assertEqual(len(heat), len(self.doc["tensors"]))
        frames = sorted(glob.glob(os.path.join(self.out, "filters", "step_*.png")))
        self.assertEqual(len(frames), 6)
        with open(os.path.join(self.out, "filters.apng.png"), "rb") as f:
            apng = f.read()
        chunks, i = [], 8
        while i < len(apng):
            (n,) = struct.unpack(">I", apng[i:i + 4])
            chunks.append((apng[i + 4:i + 8], apng[i + 8:i + 8 + n]))
            i += 12 + n
        self.assertEqual(chunks[1][0], b"acTL")
        self.assertEqual(struct.unpack(">II", chunks[1][1]), (6, 0))
        self.assertEqual(sum(1 for c in chunks if c[0] == b"fcTL"), 6)
        seq = [struct.unpack(">I", d[:4])[0] for t, d in chunks if t in (b"fcTL", b"fdAT")]
        self.assertEqual(seq, list(range(len(seq))))
        from PIL import Image
        with Image.open(os.path.join(self.out, "filters.apng.png")) as im:
            self.assertEqual(getattr(im, "n_frames", 1), 6)
            im.seek(5)
            last = np.asarray(im.convert("RGB"))
        np.testing.assert_array_equal(
            last, cli_common.pixels(os.path.join(self.out, "filters", "step_12.png")))
        page = os.path.join(self.out, "evolve.html")
        self.assertTrue(os.path.isfile(page))
        if cli_common.CHROMIUM:
            _, err = cli_common.chromium(page, "--dump-dom")
            self.assertEqual(cli_common.console_problems(err), [])

    def test_tensorboard_steps(self):
        files = glob.glob(os.path.join(self.tb, "events.out.tfevents.*"))
        self.assertEqual(len(files), 1)
        with open(files[0], "rb") as f:
            events = decode_events(f.read())
        steps = sorted({e.step for e in events
                        for v in e.summary.value if v.tag.startswith("weights/")})
        self.assertEqual(steps, [0, 1, 2, 5, 10, 12])
        # TensorBoard's own reader sees the same steps and the shared-bin counts.
        from tensorboard.backend.event_processing import event_accumulator
        acc = event_accumulator.EventAccumulator(self.tb, size_guidance={"histograms": 0})
        acc.Reload()
        name = self.doc["tensors"][0]["name"]
        hist = acc.Histograms("weights/" + name)
        self.assertEqual([h.step for h in hist], [0, 1, 2, 5, 10, 12])
        for h, counts in zip(hist, self.doc["tensors"][0]["histogram"]["counts"]):
            self.assertEqual(list(h.histogram_value.bucket), [float(c) for c in counts])
        self.assertEqual([s.step for s in acc.Scalars("l2/" + name)], [0, 1, 2, 5, 10, 12])

    def test_bad_input_is_one_line(self):
        r = cli_common.run("evolve", os.path.join(FIX, "a.pth"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("at least two checkpoints", r.stderr)
        r = cli_common.run("evolve", os.path.join(FIX, "a.pth"), os.path.join(FIX, "nope.pth"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    unittest.main()
