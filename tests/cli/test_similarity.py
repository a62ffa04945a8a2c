"""End to end: `cnnscope similarity` against the numpy float64 reference of tests/oracle/
cka_reference.py on activations PyTorch computes (forward hooks on torchvision's resnet18): two
random-init networks with trained-like BatchNorm statistics, 200 inputs (.npy, made here), five
layers each; linear and RBF kernels, biased and unbiased HSIC; the whole set in one minibatch
(the full-batch CKA, 1e-6) and minibatches of 32 (the minibatch estimator, 1e-6); a network
against itself is 1 on the diagonal and symmetric; the figure is a PNG; `evolve --similarity` over
a series of three checkpoints gives each one's CKA to the last (the reference's minibatch
estimate, 1e-6; the last is 1) and `evolve --spectra` each checkpoint's alpha as `spectra` gives
it; bad input one line."""
import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import torch
import torchvision

import cli_common
from cka_reference import cka, minibatch_cka

LAYERS = ["conv1", "layer1", "layer2", "layer3", "layer4"]
IMAGES = 200
TOL = 1e-6


def make_net(seed):
    torch.manual_seed(seed)
    net = torchvision.models.resnet18(num_classes=10)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):  # trained-like running statistics
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return net.eval()


def activations(net, x):
    got = {}
    hooks = [dict(net.named_modules())[n].register_forward_hook(
        lambda m, i, o, n=n: got.__setitem__(n, o.detach().numpy().reshape(len(o), -1)))
        for n in LAYERS]
    with torch.no_grad():
        net(x)
    for h in hooks:
        h.remove()
    return got


class Similarity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cnnscope-similarity-")
        cls.images = os.path.join(cls.tmp, "images")
        os.makedirs(cls.images)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((IMAGES, 3, 32, 32)).astype(np.float32)
        x[:, 0] += np.linspace(-1, 1, IMAGES, dtype=np.float32)[:, None, None]  # some structure
        for i in range(IMAGES):
            np.save(os.path.join(cls.images, f"{i:03d}.npy"), x[i])
        cls.a, cls.b = (os.path.join(cls.tmp, n) for n in ("a.pth", "b.pth"))
        nets = [make_net(0), make_net(1)]
        torch.save(nets[0].state_dict(), cls.a)
        torch.save(nets[1].state_dict(), cls.b)
        cls.acts = [activations(n, torch.from_numpy(x)) for n in nets]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def similarity(self, *args):
        out = os.path.join(self.tmp, "out")
        r = cli_common.run("similarity", *args, "--images", self.images, "--layers",
                           ",".join(LAYERS), "-o", out, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_two_networks_full_batch_and_minibatch(self):
        for kernel in ("linear", "rbf"):
            for unbiased in (False, True):
                for batch in (IMAGES, 32):
                    flags = ["--kernel", kernel, "--batch", str(batch)]
                    flags += ["--unbiased"] if unbiased else []
                    with self.subTest(kernel=kernel, unbiased=unbiased, batch=batch):
                        doc = self.similarity(self.a, self.b, *flags)
                        self.assertEqual(doc["rows"], LAYERS)
                        self.assertEqual(doc["cols"], LAYERS)
                        self.assertEqual(doc["images"]["used"], IMAGES)
                        for i, li in enumerate(LAYERS):
                            for j, lj in enumerate(LAYERS):
                                x, y = self.acts[0][li], self.acts[1][lj]
                                splits = list(range(batch, IMAGES, batch))
                                want = (cka(x, y, kernel, unbiased) if batch == IMAGES else
                                        minibatch_cka(np.split(x, splits), np.split(y, splits),
                                                      kernel, unbiased))
                                self.assertLessEqual(abs(doc["cka"][i][j] - want), TOL,
                                                     (li, lj, doc["cka"][i][j], want))

    def test_network_with_itself(self):
        doc = self.similarity(self.a, "--batch", "50")
        m = np.array(doc["cka"])
        np.testing.assert_allclose(np.diag(m), 1.0, atol=1e-12)
        np.testing.assert_array_equal(m, m.T)
        self.assertIsNone(doc["b"])
        with open(doc["figure"], "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        # the text output names every layer and the files written
        r = cli_common.run("similarity", self.a, "--images", self.images, "--layers",
                           ",".join(LAYERS), "-o", os.path.join(self.tmp, "text"))
        self.assertEqual(r.returncode, 0, r.stderr)
        for layer in LAYERS:
            self.assertIn(layer, r.stdout)
        self.assertIn("similarity.json", r.stdout)

    def test_evolve_series(self):
        series = os.path.join(self.tmp, "series")
        os.makedirs(series, exist_ok=True)
        nets = [make_net(0), make_net(1), make_net(2)]
        with torch.no_grad():  # later checkpoints drift towards the last one
            for p0, p1, p2 in zip(*(n.parameters() for n in nets)):
                p0.copy_(0.3 * p0 + 0.7 * p2)
                p1.copy_(0.1 * p1 + 0.9 * p2)
        for i, net in enumerate(nets):
            torch.save({"epoch": i, "model": net.state_dict()},
                       os.path.join(series, f"epoch_{i}.pth"))
        r = cli_common.run("evolve", series, "--json", "--spectra", "--similarity", "--images",
                           self.images, "--layers", ",".join(LAYERS), "--batch", "64",
                           "--limit", "128")
        self.assertEqual(r.returncode, 0, r.stderr)
        layers = json.loads(r.stdout)["layers"]
        sim = layers["similarity"]
        self.assertEqual(sim["layers"], LAYERS)
        self.assertEqual(sim["images"], 128)
        x = torch.from_numpy(np.stack([np.load(os.path.join(self.images, f"{i:03d}.npy"))
                                       for i in range(128)]))
        acts = [activations(n, x) for n in nets]
        for c in range(3):
            for l, layer in enumerate(LAYERS):
                want = minibatch_cka(np.split(acts[c][layer], [64]),
                                     np.split(acts[2][layer], [64]))
                self.assertLessEqual(abs(sim["cka"][c][l] - want), TOL, (c, layer))
        self.assertGreater(sim["cka"][1][4], sim["cka"][0][4])  # closer to the last: more alike
        # -o writes layers.json, which report shows; a layers.json that does not fit is refused
        out = os.path.join(self.tmp, "series_out")
        r = cli_common.run("evolve", series, "--spectra", "--similarity", "--images", self.images,
                           "--layers", "layer4", "--limit", "16", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        for figure in ("alpha.png", "similarity.png", "layers.json", "evolve.html"):
            self.assertTrue(os.path.isfile(os.path.join(out, figure)), figure)
        page = os.path.join(self.tmp, "series.html")
        r = cli_common.run("report", self.a, "--similarity", out, "-o", page)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(page) as f:
            self.assertIn("How the layers settled", f.read())
        with open(os.path.join(out, "layers.json")) as f:
            doc = json.load(f)
        doc["similarity"]["cka"][0].append(0.5)
        with open(os.path.join(out, "layers.json"), "w") as f:
            json.dump(doc, f)
        cli_common.assert_one_line_error(
            self, cli_common.run("report", self.a, "--similarity", out, "-o", page), "layers.json")
        for c in range(3):
            r = cli_common.run("spectra", os.path.join(series, f"epoch_{c}.pth"), "--json")
            alphas = {x["name"]: x["alpha"] for x in json.loads(r.stdout)["layers"]}
            self.assertEqual(layers["spectra"]["alpha"][c],
                             [alphas[n] for n in layers["spectra"]["layers"]])

    def test_report_section(self):
        out = os.path.join(self.tmp, "for_report")
        r = cli_common.run("similarity", self.a, self.b, "--images", self.images, "--layers",
                           ",".join(LAYERS), "--limit", "40", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        page = os.path.join(self.tmp, "report.html")
        r = cli_common.run("report", self.a, "--similarity", out, "--spectra", "-o", page)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(page) as f:
            html = f.read()
        self.assertIn('<section id="layers">', html)
        self.assertIn("Layer similarity", html)
        self.assertIn("Spectral health", html)
        self.assertIn("layer4.1.conv2", html)  # spectra's table names every layer
        self.assertIn("40 images", html)
        # what report reads from a folder is checked like any input
        bad = os.path.join(self.tmp, "bad_similarity")
        os.makedirs(bad, exist_ok=True)
        with open(os.path.join(out, "similarity.json")) as f:
            doc = json.load(f)
        for name, text in [("format", json.dumps(dict(doc, format="other"))),
                           ("row", json.dumps(dict(doc, cka=doc["cka"][:-1]))),
                           ("json", "{\"format\": "),
                           ("deep", "[" * 100000), ("version", json.dumps(dict(doc, version="1"))),
                           ("count", json.dumps(dict(doc, images=dict(doc["images"], used=-3))))]:
            with open(os.path.join(bad, "similarity.json"), "w") as f:
                f.write(text)
            with self.subTest(name):
                cli_common.assert_one_line_error(
                    self, cli_common.run("report", self.a, "--similarity", bad, "-o", page),
                    "similarity.json")
        # a label of any length is cut to fit with a few measurements (it was quadratic: 53 s for
        # 100,000 characters, minutes for these)
        with open(os.path.join(bad, "similarity.json"), "w") as f:
            rows = ["x" * 300000] + doc["rows"][1:]
            json.dump(dict(doc, rows=rows), f)
        r = cli_common.run("report", self.a, "--similarity", bad, "-o", page, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        # the page must not replace the document it reads
        with open(os.path.join(out, "similarity.json")) as f:
            before = f.read()
        cli_common.assert_one_line_error(
            self, cli_common.run("report", self.a, "--similarity", out, "-o",
                                 os.path.join(out, "similarity.json")), "input")
        with open(os.path.join(out, "similarity.json")) as f:
            self.assertEqual(f.read(), before)
        os.remove(os.path.join(bad, "similarity.json"))
        cli_common.assert_one_line_error(
            self, cli_common.run("report", self.a, "--similarity", bad, "-o", page),
            "neither similarity.json nor layers.json")
        os.mkfifo(os.path.join(bad, "similarity.json"))
        cli_common.assert_one_line_error(
            self, cli_common.run("report", self.a, "--similarity", bad, "-o", page, timeout=20),
            "similarity.json")

    def test_bad_input_is_one_line(self):
        r = cli_common.run("similarity", self.a, "--images", self.images, "--unbiased", "--batch",
                           "3", "-o", os.path.join(self.tmp, "bad"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("4", r.stderr)
        missing = os.path.join(self.tmp, "missing")
        cli_common.assert_one_line_error(
            self, cli_common.run("similarity", self.a, "--images", missing, "-o",
                                 os.path.join(self.tmp, "bad")), "missing")
        cli_common.assert_one_line_error(
            self, cli_common.run("similarity", self.a, "--images", self.images, "--layers",
                                 "layer9", "-o", os.path.join(self.tmp, "bad")), "layer9",
            self.a)  # which network lacks it
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "bad", "similarity.json")))
        cli_common.assert_one_line_error(
            self, cli_common.run("evolve", self.a, self.b, "--similarity"), "images")
        # outputs never land inside the image set (they would be read as images next time)
        for out in (self.images, os.path.join(self.images, "sub")):
            cli_common.assert_one_line_error(
                self, cli_common.run("similarity", self.a, "--images", self.images, "--limit",
                                     "8", "-o", out), "inputs")
        self.assertEqual(len(os.listdir(self.images)), IMAGES)
        # no image readable: the error says why
        broken = os.path.join(self.tmp, "broken")
        os.makedirs(broken)
        for i in range(3):
            with open(os.path.join(broken, f"{i}.png"), "w") as f:
                f.write("x")
        cli_common.assert_one_line_error(
            self, cli_common.run("similarity", self.a, "--images", broken), "3 skipped",
            "0.png")


if __name__ == "__main__":
    unittest.main()
