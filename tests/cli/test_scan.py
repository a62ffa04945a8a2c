"""End-to-end `cnnscope scan` and `cnnscope merge` against PyTorch (tests/oracle/make_cli_scan.py):
every per-channel figure of four layers of a VGG11-BN over 36 images in class folders equal to
forward hooks computed in float64 (1e-6 relative: float32 activations), top-k images and argmax
positions equal, input patches equal to the gradient-support receptive field, one mosaic per
layer, per-class means, BatchNorm running statistics against those observed at its input, `report --scan`'s data set
section, the unreadable image skipped and counted, the list hash FNV-1a 64 of the relative paths;
a text list gives the same figures; three shards merged equal the unsharded run (counts, min/max, top-k exactly; mean and
std within 1e-9); mismatched or repeated shards and bad flags exit 1 with one line on stderr."""
import json
import os
import shutil
import tempfile
import unittest

import cli_common  # noqa: E402
from cli_common import run  # noqa: E402

RTOL = 1e-6


def fixture(name):
    return cli_common.fixture("scan", name)


with open(fixture("expected.json")) as f:
    EXPECTED = json.load(f)
LAYERS = EXPECTED["layers_arg"]


def scan(out, *extra, images=None, topk=EXPECTED["topk"]):
    r = run("scan", fixture(EXPECTED["checkpoint"]), "--images", images or fixture("images"),
            "--layers", LAYERS, "--topk", str(topk), "--batch", "8", "-o", out,
            "--json", *extra)
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    return json.loads(r.stdout), r.stderr


class ScanTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.doc, cls.stderr = scan(os.path.join(cls.tmp, "all"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def close(self, got, want, scale, what):
        self.assertLessEqual(abs(got - want), RTOL * max(scale, 1e-30), what)

    def check_channels(self, doc, with_images=True):
        self.assertEqual([l["name"] for l in doc["layers"]], [l["name"] for l in EXPECTED["layers"]])
        for got_layer, want_layer in zip(doc["layers"], EXPECTED["layers"]):
            self.assertEqual(got_layer["shape"], want_layer["shape"])
            self.assertEqual(len(got_layer["channels"]), len(want_layer["channels"]))
            for c, (got, want) in enumerate(zip(got_layer["channels"], want_layer["channels"])):
                what = "%s channel %d" % (want_layer["name"], c)
                scale = max(abs(want["min"]), abs(want["max"]))
                self.assertEqual(got["count"], want["count"], what)
                for key in ("mean", "min", "max"):
                    self.close(got[key], want[key], scale, what + " " + key)
                self.close(got["std"], want["std"], max(want["std"], 1e-12 * scale), what + " std")
                self.assertAlmostEqual(got["positive_fraction"], want["positive_fraction"],
                                       delta=1e-12)
                self.assertEqual(got["dead"], want["dead"], what)
                self.assertEqual(got["always_on"], want["always_on"], what)
                self.assertEqual([(h["image_index"], h["y"], h["x"], h["patch"]) for h in got["top"]],
                                 [(h["image_index"], h["y"], h["x"], h["patch"])
                                  for h in want["top"]], what)
                if with_images:
                    self.assertEqual([os.path.relpath(h["image"], fixture("images"))
                                      for h in got["top"]], [h["image"] for h in want["top"]])
                for g, w in zip(got["top"], want["top"]):
                    self.close(g["value"], w["value"], scale, what + " top value")

    def test_matches_pytorch_hooks(self):
        self.check_channels(self.doc)
        self.assertEqual(self.doc["images"]["listed"], EXPECTED["listed"])
        self.assertEqual(self.doc["images"]["scanned"], EXPECTED["scanned"])
        self.assertTrue(any(l["dead"] > 0 for l in self.doc["layers"]))
        self.assertTrue(any(l["always_on"] > 0 for l in self.doc["layers"]))

    def test_mosaics(self):
        for layer in self.doc["layers"]:
            self.assertIsNotNone(layer["receptive_field"])
            path = layer["mosaic"]
            self.assertEqual(os.path.basename(path), layer["name"] + "_top.png")
            rgb = cli_common.pixels(path)
            channels, k = layer["shape"][0], EXPECTED["topk"]
            self.assertGreater(rgb.shape[0], channels * 24)  # a row per channel
            self.assertGreater(rgb.shape[1], k * 24)  # k cells per row
            # the strongest channel's first patch is drawn: not all white in the first row
            self.assertLess(rgb[28:28 + 24, 50:50 + 24].min(), 255)

    def test_batchnorm_running_vs_observed(self):
        checked = 0
        for got_layer, want_layer in zip(self.doc["layers"], EXPECTED["layers"]):
            want = want_layer["batchnorm"]
            if want is None:
                self.assertIsNone(got_layer["batchnorm"], got_layer["name"])
                continue
            got = got_layer["batchnorm"]
            self.assertEqual(got["input"], "features.4")
            self.assertAlmostEqual(got["eps"], want["eps"])
            for c, ch in enumerate(got["channels"]):
                for key in ("running_mean", "running_var", "observed_mean", "observed_var",
                            "mean_shift", "var_ratio"):
                    w = want[key][c]
                    self.assertLessEqual(abs(ch[key] - w), RTOL * max(abs(w), 1e-3), key)
                checked += 1
            self.assertAlmostEqual(got["max_abs_mean_shift"],
                                   max(abs(v) for v in want["mean_shift"]), delta=1e-6)
        self.assertGreater(checked, 0)

    def test_report_data_set_section(self):
        html_path = os.path.join(self.tmp, "report.html")
        r = run("report", fixture(EXPECTED["checkpoint"]), "--scan", os.path.join(self.tmp, "all"),
                "-o", html_path)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(html_path) as f:
            page = f.read()
        section = page[page.index('<section id="dataset">'):]
        section = section[:section.index("</section>")]
        self.assertIn("36 of 37 images scanned (1 skipped", section)
        for layer in self.doc["layers"]:
            self.assertIn("<h3>%s</h3><p>%d channels, %d dead, %d always on.</p>" % (
                layer["name"], len(layer["channels"]), layer["dead"], layer["always_on"]), section)
        self.assertEqual(section.count("data:image/png;base64,"), len(self.doc["layers"]))
        self.assertIn("BatchNorm against its input (features.4)", section)
        self.assertEqual(section.count("<td>dead</td>"),
                         sum(layer["dead"] for layer in self.doc["layers"]))
        bad = run("report", fixture(EXPECTED["checkpoint"]), "--scan", os.path.join(self.tmp, "x"),
                  "-o", os.path.join(self.tmp, "bad.html"))
        self.assertEqual(bad.returncode, 1)
        self.assertIn("scan.json", bad.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "bad.html")))

    def test_skipped_image_warned_and_counted(self):
        self.assertEqual(self.doc["images"]["skipped"], 1)
        skipped = self.doc["images"]["skipped_files"][0]["image"]
        self.assertEqual(os.path.relpath(skipped, fixture("images")), EXPECTED["skipped"][0])
        self.assertIn("warning: skipped", self.stderr)

    def test_class_means(self):
        self.assertEqual(sorted(self.doc["classes"]), sorted(EXPECTED["classes"]))
        for name, want in EXPECTED["classes"].items():
            got = self.doc["classes"][name]
            self.assertEqual(got["images"], want["images"])
            for layer, means in want["mean"].items():
                scale = max(abs(m) for m in means)
                for g, w in zip(got["layers"][layer]["mean"], means):
                    self.close(g, w, scale, name + " " + layer)

    def test_scan_json_written_equals_printed(self):
        with open(os.path.join(self.tmp, "all", "scan.json")) as f:
            self.assertEqual(json.load(f), self.doc)

    def test_list_hash_is_fnv1a_64_of_relative_paths(self):
        images = fixture("images")
        rel = sorted(os.path.relpath(os.path.join(root, name), images)
                     for root, _, files in os.walk(images) for name in files)
        self.assertEqual(len(rel), self.doc["images"]["listed"])
        h = 0xcbf29ce484222325  # FNV-1a 64: offset basis, then per byte xor and multiply
        for byte in "".join(p + "\n" for p in rel).encode():
            h = ((h ^ byte) * 0x100000001b3) % (1 << 64)
        self.assertEqual(self.doc["images"]["list_hash"], "%016x" % h)

    def test_text_list(self):
        listing = os.path.join(self.tmp, "list.txt")
        images = fixture("images")
        with open(listing, "w") as f:
            f.write("# the same images, no classes\n\n")
            for root, _, files in os.walk(images):
                for name in files:
                    f.write(os.path.join(root, name) + "\n")
        doc, _ = scan(os.path.join(self.tmp, "list"), images=listing)
        self.check_channels(doc)
        self.assertEqual(doc["classes"], {})

    def test_shards_merge_exactly(self):
        dirs = []
        for i in (1, 2, 3):
            d = os.path.join(self.tmp, "shard%d" % i)
            part, _ = scan(d, "--shard", "%d/3" % i)
            self.assertEqual(part["images"]["selected"], len(range(i - 1, EXPECTED["listed"], 3)))
            dirs.append(d)
        merged_dir = os.path.join(self.tmp, "merged")
        r = run("merge", dirs[2], dirs[0], dirs[1], "-o", merged_dir, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        merged = json.loads(r.stdout)
        whole = self.doc
        self.assertEqual(merged["shard"], {"count": 3, "indices": [1, 2, 3]})
        for key in ("listed", "selected", "scanned", "skipped", "skipped_files", "list_hash"):
            self.assertEqual(merged["images"][key], whole["images"][key], key)
        for ml, wl in zip(merged["layers"], whole["layers"]):
            self.assertEqual((ml["dead"], ml["always_on"]), (wl["dead"], wl["always_on"]))
            for m, w in zip(ml["channels"], wl["channels"]):
                for key in ("count", "min", "max", "positive", "top", "dead", "always_on"):
                    self.assertEqual(m[key], w[key], key)
                for key in ("mean", "std", "m2"):
                    self.assertLessEqual(abs(m[key] - w[key]), 1e-9 * max(abs(w[key]), 1e-300),
                                         key)
            if wl["batchnorm"] is not None:
                for m, w in zip(ml["batchnorm"]["channels"], wl["batchnorm"]["channels"]):
                    self.assertEqual(m["count"], w["count"])
                    for key in ("observed_mean", "observed_var"):
                        self.assertLessEqual(abs(m[key] - w[key]), 1e-9 * abs(w[key]), key)
        for name, cls in whole["classes"].items():
            self.assertEqual(merged["classes"][name]["images"], cls["images"])
            for layer, v in cls["layers"].items():
                for g, w in zip(merged["classes"][name]["layers"][layer]["mean"], v["mean"]):
                    self.assertLessEqual(abs(g - w), 1e-9 * max(abs(w), 1e-300))
        # a shard twice, another plan, another top-k: refused, naming the mismatch
        twice = run("merge", dirs[0], dirs[0], "-o", os.path.join(self.tmp, "bad1"))
        self.assertEqual(twice.returncode, 1)
        self.assertIn("merged twice", twice.stderr)
        other_plan = os.path.join(self.tmp, "other_plan")
        scan(other_plan, "--shard", "2/2")
        plan = run("merge", dirs[0], other_plan, "-o", os.path.join(self.tmp, "bad2"))
        self.assertEqual(plan.returncode, 1)
        self.assertIn("shard plan differs", plan.stderr)
        other_k = os.path.join(self.tmp, "other_k")
        scan(other_k, "--shard", "2/3", topk=3)
        topk = run("merge", dirs[0], other_k, "-o", os.path.join(self.tmp, "bad3"))
        self.assertEqual(topk.returncode, 1)
        self.assertIn("topk differs", topk.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "bad3", "scan.json")))

    def test_bad_input(self):
        # malformed flag values are usage errors (exit 2) that name the flag
        for extra, message, code in ((["--shard", "0/3"], "--shard", 2),
                                     (["--shard", "4/3"], "--shard", 2),
                                     (["--topk", "0"], "--topk", 2), (["--batch", "0"], "--batch", 2)):
            r = run("scan", fixture(EXPECTED["checkpoint"]), "--images", fixture("images"),
                    "-o", os.path.join(self.tmp, "bad"), *extra)
            self.assertEqual(r.returncode, code, extra)
            self.assertIn(message, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        r = run("scan", fixture(EXPECTED["checkpoint"]), "--images", os.path.join(self.tmp, "nope"))
        self.assertEqual(r.returncode, 1)
        r = run("merge", os.path.join(self.tmp, "nope"), "-o", os.path.join(self.tmp, "bad"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("scan.json", r.stderr)


if __name__ == "__main__":
    unittest.main()
