"""End to end: `cnnscope report` on torch.save checkpoints (fixtures of make_cli_report.py).
The page is opened in headless Debian Chromium (no console errors or CSP refusals, every section,
sorting and filtering work, screenshots saved for a person to look at); predictions are compared
with PyTorch's softmax; the TensorBoard files are decoded with protobuf/crc32c and
their histograms compared with numpy.histogram of the tensors; bad images and unknown architectures
still give a page."""
import base64
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

import cli_common  # noqa: E402
from cli_common import FORWARD_TOLERANCE as PROB_TOL, SOURCE_DIR as SRC  # noqa: E402
from make_export_tensorboard import decode_events  # noqa: E402  (tests/oracle via cli_common)

FIX = cli_common.fixture("report")
PHOTO = os.path.join(SRC, "assets", "chelsea.png")
SHOTS = cli_common.fixture("report-screenshots")
CHROMIUM = cli_common.CHROMIUM

# Appended to a copy of the page: sorts by std (descending: two clicks), filters "*.bias", and
# writes what the page shows into #probe for --dump-dom.
PROBE = """<script>
(function () {
  var table = document.getElementById('weights-table');
  var th = Array.prototype.filter.call(table.tHead.rows[0].cells,
                                       function (c) { return c.textContent.trim() === 'std'; })[0];
  th.click(); th.click();
  var order = Array.prototype.map.call(table.tBodies[0].rows,
                                       function (r) { return r.cells[0].textContent; });
  var f = document.getElementById('weights-filter');
  f.value = '*.bias';
  f.dispatchEvent(new Event('input'));
  var visible = Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hidden; })
                   .map(function (r) { return r.cells[0].textContent; });
  var p = document.createElement('pre');
  p.id = 'probe';
  p.textContent = JSON.stringify({order: order, visible: visible,
                                  shown: document.getElementById('weights-shown').textContent});
  document.body.appendChild(p);
})();
</script></body>"""


def run(*args):
    return cli_common.run(*args, timeout=600)


chromium = cli_common.chromium
console_problems = cli_common.console_problems


class Report(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cnnscope-report-")
        cls.html = os.path.join(cls.tmp, "alexnet.html")
        cls.tb = os.path.join(cls.tmp, "tb")
        cls.r = run("report", os.path.join(FIX, "alexnet.pth"), "--image", PHOTO, "--image",
                    os.path.join(FIX, "broken.jpg"), "--classes", os.path.join(FIX, "classes.json"),
                    "-o", cls.html, "--tensorboard", cls.tb)
        with open(cls.html, encoding="utf-8") as f:
            cls.page = f.read()
        cls.sd = torch.load(os.path.join(FIX, "alexnet.pth"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_bad_image_reported_rest_written(self):
        self.assertEqual(self.r.returncode, 0, self.r.stderr)
        self.assertIn("broken.jpg", self.r.stderr)
        self.assertEqual(len([l for l in self.r.stderr.splitlines() if "broken.jpg" in l]), 1)
        self.assertRegex(self.page, r'<p class="error">[^<]*broken\.jpg')
        self.assertIn("report: " + self.html, self.r.stdout)

    def test_sections_and_figures(self):
        for section in ["overview", "architecture", "weights", "filters", "images", "image-0",
                        "image-1"]:
            self.assertTrue(f'id="{section}"' in self.page, section)
        # the input as seen, the filters, the three default AlexNet feature layers
        uris = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', self.page)
        self.assertEqual(len(uris), 1 + 1 + 3)
        for u in uris:
            self.assertTrue(base64.b64decode(u).startswith(b"\x89PNG\r\n\x1a\n"))
        for layer in ["features.1", "features.4", "features.7"]:
            self.assertIn(f'alt="{layer}"', self.page)
        self.assertNotRegex(self.page, r"(src|href)=\"(https?:|//)")

    def test_weights_table_matches_numpy(self):
        names = re.findall(r"<tr><td>([^<]+)</td><td>float32</td>", self.page)
        self.assertEqual(names, [k for k in self.sd if not k.endswith("num_batches_tracked")])
        rows = re.findall(r'<tr><td>([^<]+)</td>.*?data-v="([^"]+)">.*?data-v="([^"]+)">'
                          r'.*?data-v="([^"]+)">.*?data-v="([^"]+)">.*?data-v="([^"]+)">', self.page)
        self.assertEqual(len(rows), len(names))
        for name, numel, mean, std, lo, hi in rows:
            v = self.sd[name].numpy().astype(np.float64).reshape(-1)
            self.assertEqual(int(numel), v.size)
            for got, want in [(mean, v.mean()), (std, v.std(ddof=1)), (lo, v.min()), (hi, v.max())]:
                self.assertLessEqual(abs(float(got) - want), 1e-6 * abs(want) + 1e-12, name)

    def test_predictions_match_pytorch(self):
        with open(os.path.join(FIX, "expected.json")) as f:
            want = json.load(f)["alexnet"]["probabilities"]
        labels = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
        got = re.findall(r'<tr><td>([a-z]+)</td><td class="num">([0-9.]+)</td>', self.page)
        self.assertEqual(len(got), 5)
        self.assertEqual([g[0] for g in got], [labels[i] for i in np.argsort(want)[::-1]])
        for label, p in got:
            self.assertAlmostEqual(float(p), want[labels.index(label)], delta=PROB_TOL)

    def test_tensorboard_histograms_match_numpy(self):
        files = glob.glob(os.path.join(self.tb, "events.out.tfevents.*"))
        self.assertEqual(len(files), 1, files)
        self.assertRegex(os.path.basename(files[0]), r"^events\.out\.tfevents\.\d{10}\.[^.]+.*\.\d+\.\d+$")
        with open(files[0], "rb") as f:
            events = decode_events(f.read())
        self.assertEqual(events[0].file_version, "brain.Event:2")
        histos, images, texts = {}, [], []
        for e in events[1:]:
            for v in e.summary.value:
                kind = v.WhichOneof("value")
                if kind == "histo":
                    histos[v.tag] = v.histo
                elif kind == "image":
                    images.append(v)
                elif kind == "tensor":
                    texts.append(v)
        expected = [k for k in self.sd if not k.endswith("num_batches_tracked")]
        self.assertEqual(sorted(histos), sorted("weights/" + k for k in expected))
        for k in expected:
            h, v = histos["weights/" + k], self.sd[k].numpy()
            counts, edges = np.histogram(v, 50)
            self.assertEqual(list(h.bucket), counts.astype(np.float64).tolist(), k)
            self.assertEqual(list(h.bucket_limit), edges[1:].astype(np.float64).tolist(), k)
            v64 = v.astype(np.float64).reshape(-1)
            self.assertEqual((h.min, h.max, h.num), (v64.min(), v64.max(), float(v64.size)))
            self.assertAlmostEqual(h.sum, v64.sum(), delta=1e-9 * np.abs(v64).sum() + 1e-12)
            self.assertAlmostEqual(h.sum_squares, (v64 * v64).sum(), delta=1e-9 * (v64 * v64).sum())
        tags = sorted(i.tag for i in images)
        self.assertEqual(tags, sorted(["filters/features.0.weight", "input/chelsea.png"] +
                                      [f"features/chelsea.png/features.{i}" for i in (1, 4, 7)]))
        for i in images:
            self.assertTrue(i.image.encoded_image_string.startswith(b"\x89PNG"))
            self.assertGreater(i.image.width, 0)
        self.assertEqual(len(texts), 1)
        self.assertEqual(texts[0].metadata.plugin_data.plugin_name, "text")
        self.assertIn(b"features.0.weight", texts[0].tensor.string_val[0])

    @unittest.skipIf(CHROMIUM is None, "Debian chromium is not installed (scripts/install-deps.sh)")
    def test_opens_in_chromium(self):
        os.makedirs(SHOTS, exist_ok=True)
        shot = os.path.join(SHOTS, "alexnet.png")
        if os.path.exists(shot):
            os.remove(shot)
        _, err = chromium(self.html, "--screenshot=" + shot, "--window-size=1280,2400",
                          "--hide-scrollbars")
        self.assertEqual(console_problems(err), [])
        self.assertTrue(os.path.getsize(shot) > 10000, "no screenshot")
        print(f"\nscreenshot: {shot}", file=sys.stderr)

    @unittest.skipIf(CHROMIUM is None, "Debian chromium is not installed (scripts/install-deps.sh)")
    def test_sort_and_filter_in_chromium(self):
        probe = os.path.join(self.tmp, "probe.html")
        with open(probe, "w", encoding="utf-8") as f:
            f.write(self.page.replace("</body>", PROBE, 1))
        out, err = chromium(probe, "--dump-dom")
        self.assertEqual(console_problems(err), [])
        m = re.search(r'<pre id="probe">(.*?)</pre>', out, re.S)
        self.assertIsNotNone(m, err[-2000:])
        got = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
        names = [k for k in self.sd if not k.endswith("num_batches_tracked")]
        stds = {k: self.sd[k].numpy().astype(np.float64).std(ddof=1) for k in names}
        self.assertEqual(got["order"], sorted(names, key=lambda k: -stds[k]))
        biases = [k for k in names if k.endswith(".bias")]
        self.assertEqual(got["visible"], [k for k in got["order"] if k in biases])
        self.assertEqual(got["shown"], f"{len(biases)} of {len(names)} tensors")


class Unknown(unittest.TestCase):
    def test_weights_part_and_reason(self):
        with tempfile.TemporaryDirectory() as tmp:
            html = os.path.join(tmp, "u.html")
            r = run("report", os.path.join(FIX, "unknown.pth"), "--image", PHOTO, "-o", html)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(html, encoding="utf-8") as f:
                page = f.read()
            self.assertIn('id="no-features"', page)
            self.assertIn("architecture not recognised", page)
            for k in ["encoder.stem.weight", "encoder.stem.bias", "head.proj.weight"]:
                self.assertIn(f"<tr><td>{k}</td>", page)
            self.assertIn('alt="encoder.stem.weight"', page)  # its 4-D weight drawn as filters
            self.assertIn('alt="input as the network saw it"', page)
            if CHROMIUM:
                os.makedirs(SHOTS, exist_ok=True)
                _, err = chromium(html, "--screenshot=" + os.path.join(SHOTS, "unknown.png"),
                                  "--window-size=1280,1400")
                self.assertEqual(console_problems(err), [])


class ResNet(unittest.TestCase):
    def test_resnet_predictions_and_layers(self):
        with tempfile.TemporaryDirectory() as tmp:
            html = os.path.join(tmp, "r.html")
            r = run("report", os.path.join(FIX, "resnet18.pth"), "--image", PHOTO, "-o", html)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(html, encoding="utf-8") as f:
                page = f.read()
            for layer in ["conv1", "layer1"]:
                self.assertIn(f'alt="{layer}"', page)
            with open(os.path.join(FIX, "expected.json")) as f:
                want = json.load(f)["resnet18"]["probabilities"]
            got = re.findall(r'<tr><td>([0-9]+)</td><td class="num">([0-9.]+)</td>', page)
            self.assertEqual(len(got), 5)
            for index, p in got:
                self.assertAlmostEqual(float(p), want[int(index)], delta=PROB_TOL)
            self.assertEqual([int(i) for i, _ in got], list(np.argsort(want)[::-1]))


class Errors(unittest.TestCase):
    def test_missing_checkpoint_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "x.html")
            r = run("report", os.path.join(tmp, "nope.pth"), "-o", out)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn("nope.pth", r.stderr)
            self.assertFalse(os.path.exists(out))

    def test_refuses_to_overwrite_input(self):
        with tempfile.TemporaryDirectory() as tmp:
            ckpt = os.path.join(tmp, "a.pth")
            shutil.copy(os.path.join(FIX, "unknown.pth"), ckpt)
            with open(ckpt, "rb") as f:
                before = f.read()
            r = run("report", ckpt, "-o", ckpt)
            self.assertEqual(r.returncode, 1)
            with open(ckpt, "rb") as f:
                self.assertEqual(f.read(), before)

    def test_bad_layer_name(self):
        r = run("report", os.path.join(FIX, "alexnet.pth"), "--image", PHOTO, "--layers", "features.99",
                "-o", os.path.join(tempfile.gettempdir(), "never.html"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("features.99", r.stderr)


if __name__ == "__main__":
    unittest.main()
