"""End-to-end tests of `cnnscope serve` over HTTP on loopback (Python's urllib, a free port):
every endpoint against the CLI's JSON and PyTorch's values (logits and taps within
FORWARD_TOLERANCE, fixtures of tests/oracle/make_cli_serve.py), the error code of each bad
request (404, 400 with {"error"}, 413), path traversal refused, the activation cache (a layer
switch is a hit), a short concurrent load, a stalled client timed out, SIGTERM, the off-loopback
warning, and the page in headless Chromium (no console errors or CSP refusals; opening a layer
shows its grid; a screenshot saved to fixtures/serve-screenshot.png; driven over the DevTools
protocol (tests/cli/cdp.py): a mouse click on a module shows its grid, a photo put into the file
input is uploaded and its predictions shown; at 1400x900 the first image opens by itself and the
module tree and weights panels are not clipped, screenshot decoded), and per-model labels and input
steps (--model CKPT,KEY=VALUE) answering as `predict` with the same flags, malformed specs refused.
"""
import base64
import concurrent.futures
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_common  # noqa: E402
from cli_common import BIN, assert_forward_close, fixture, run  # noqa: E402

SERVE = fixture("serve")
with open(os.path.join(SERVE, "expected.json")) as _f:
    EXPECTED = json.load(_f)
MODELS = [os.path.join(SERVE, m["file"]) for m in EXPECTED["models"]]
IMAGES = os.path.join(SERVE, "images")
PHOTO = EXPECTED["photos"][0]
UPLOAD_MB = 1
TIMEOUT_S = 2


class Server:
    """`cnnscope serve` on a free loopback port; stopped with SIGTERM."""

    def __init__(self, *extra, models=MODELS, threads=4, timeout=TIMEOUT_S):
        self.proc = subprocess.Popen([BIN, "serve", *models, "--images", IMAGES, "--port", "0",
                                      "--max-upload-mb", str(UPLOAD_MB), "--timeout",
                                      str(timeout), "--threads", str(threads), *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        deadline = time.time() + 120
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("serve ended: " + self.proc.stderr.read())
            self.lines.append(line)
            m = re.search(r"serving on (http://\S+)", line)
            if m:
                self.url = m.group(1)
                return
        raise RuntimeError("serve did not start")

    def stop(self):
        """SIGTERM; (exit status, stdout, stderr). A server still running 30 s later is killed
        (never left behind) and reported as exit status None."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            return None, out, err
        return self.proc.returncode, out, err


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def request(url, body=None, content_type="application/octet-stream", method=None):
    """(status, headers, bytes) of one request; HTTP errors are answers too."""
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.url = cls.server.url

    @classmethod
    def tearDownClass(cls):
        code, out, err = cls.server.stop()
        assert code == 0, err
        assert "stopped" in out

    def get(self, path, body=None, **kw):
        return request(self.url + path.lstrip("/"), body, **kw)

    def get_json(self, path, body=None, **kw):
        status, headers, data = self.get(path, body, **kw)
        self.assertEqual(status, 200, data[:300])
        self.assertEqual(headers["Content-Type"], "application/json")
        return json.loads(data)

    def assert_error(self, status, path, body=None, **kw):
        got, headers, data = self.get(path, body, **kw)
        self.assertEqual(got, status, (path, data[:300]))
        self.assertEqual(headers["Content-Type"], "application/json", path)
        self.assertIsInstance(json.loads(data)["error"], str, path)
        self.assertTrue(json.loads(data)["error"], path)

    def cli_json(self, *args):
        r = run(*args, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_models_and_images(self):
        models = self.get_json("/api/models")
        self.assertEqual([m["id"] for m in models], ["0", "1"])
        self.assertEqual([m["file"] for m in models], MODELS)
        self.assertEqual([m["arch"] for m in models], ["alexnet_seed", "vgg11_bn"])
        for m, want in zip(models, EXPECTED["models"]):
            self.assertEqual(m["default_layers"], want["default_layers"])
            self.assertEqual(m["preset"], want["preset"])
        self.assertEqual(self.get_json("/api/images"), sorted(os.listdir(IMAGES)))

    def test_summary_and_weights_as_cli(self):
        for i, path in enumerate(MODELS):
            self.assertEqual(self.get_json(f"/api/models/{i}/summary"),
                             self.cli_json("summary", path))
            self.assertEqual(self.get_json(f"/api/models/{i}/weights"),
                             self.cli_json("weights", path))

    def test_diff_as_cli(self):
        self.assertEqual(self.get_json("/api/diff?a=0&b=1&sort=change"),
                         self.cli_json("diff", MODELS[0], MODELS[1], "--sort", "change"))
        same = self.get_json("/api/diff?a=1&b=1")
        self.assertEqual(same, self.cli_json("diff", MODELS[1], MODELS[1]))
        self.assertTrue(all(t["l2_diff"] == 0 for t in same["tensors"]))
        self.assert_error(404, "/api/diff?a=0&b=9")
        self.assert_error(404, "/api/diff?a=0")
        self.assert_error(400, "/api/diff?a=0&b=1&sort=size")

    def test_filters_as_cli(self):
        for i, path in enumerate(MODELS):
            status, headers, png = self.get(f"/api/models/{i}/filters")
            self.assertEqual(status, 200)
            self.assertEqual(headers["Content-Type"], "image/png")
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "f.png")
                r = run("filters", path, "-o", out)
                self.assertEqual(r.returncode, 0, r.stderr)
                served = os.path.join(tmp, "served.png")
                write(served, png)
                np.testing.assert_array_equal(cli_common.pixels(served), cli_common.pixels(out))
        status, headers, _ = self.get("/api/models/1/filters?layer=features.4")
        self.assertEqual((status, headers["X-Cnnscope-Key"]), (200, "features.4.weight"))
        self.assert_error(400, "/api/models/1/filters?layer=classifier.0")

    def test_predict_matches_pytorch_and_cli(self):
        for i, (path, want) in enumerate(zip(MODELS, EXPECTED["models"])):
            for photo, case in want["images"].items():
                got = self.get_json(f"/api/models/{i}/predict?image={photo}", b"")
                logits = np.load(os.path.join(SERVE, case["logits"]))
                assert_forward_close(self, got["logits"], logits, photo)
                cli = self.cli_json("predict", path, "--image", os.path.join(IMAGES, photo))
                self.assertEqual(got["preset"], cli["preset"])
                self.assertEqual([t["index"] for t in got["top"]],
                                 [t["index"] for t in cli["top"]])
                assert_forward_close(self, got["probabilities"], cli["probabilities"], photo)
                # the same photo uploaded as the body: the same answer
                upload = read(os.path.join(IMAGES, photo))
                self.assertEqual(self.get_json(f"/api/models/{i}/predict", upload), got)
        # GET with ?image= and topk
        got = self.get_json(f"/api/models/0/predict?image={PHOTO}&topk=2")
        self.assertEqual(len(got["top"]), 2)
        # a .npy input from the list is used as is
        got = self.get_json("/api/models/0/predict?image=input.npy", b"")
        self.assertEqual(got["preset"], "none (.npy used as is)")

    def test_features_match_pytorch_and_cli(self):
        for i, (path, want) in enumerate(zip(MODELS, EXPECTED["models"])):
            for layer in want["default_layers"]:
                tap = np.load(os.path.join(SERVE, want["images"][PHOTO][layer]))
                base = f"/api/models/{i}/features?image={PHOTO}&layer={layer}"
                status, headers, data = self.get(base + "&format=npy", b"")
                self.assertEqual(status, 200, data[:300])
                got = np.load(io.BytesIO(data))
                self.assertEqual(got.dtype, np.float32)
                assert_forward_close(self, got, tap, layer)
                doc = self.get_json(base + "&format=json&channels=6&pick=top", b"")
                with tempfile.TemporaryDirectory() as tmp:
                    cli = self.cli_json("features", path, "--image",
                                        os.path.join(IMAGES, PHOTO), "--layers", layer,
                                        "--channels", "6", "--pick", "top", "-o", tmp)
                    served_layer = doc["images"][0]["layers"][0]
                    cli_layer = cli["images"][0]["layers"][0]
                    for key in ("name", "shape", "dead_channels", "shown"):
                        self.assertEqual(served_layer[key], cli_layer[key], key)
                    for key in ("mean", "std", "min", "max", "zero_fraction"):
                        self.assertAlmostEqual(served_layer[key], cli_layer[key], places=5)
                    self.assertEqual(served_layer["figure"], None)
                    for key in ("arch", "preset", "layers", "cmap", "scale", "pick"):
                        self.assertEqual(doc[key], cli[key], key)
                    # the PNG grid: the CLI's figure (same channels, title, colours)
                    status, headers, png = self.get(base + "&format=png&channels=6&pick=top",
                                                    b"")
                    self.assertEqual((status, headers["Content-Type"]), (200, "image/png"))
                    served = os.path.join(tmp, "served.png")
                    write(served, png)
                    a, b = cli_common.pixels(served), cli_common.pixels(cli_layer["figure"])
                    self.assertEqual(a.shape, b.shape)
                    self.assertLess(np.mean(a != b), 0.01, layer)

    def test_features_of_a_linear_layer(self):
        """A Linear's [N, D] output is shown as D maps of 1x1 (app/feature_maps.h, as `features`
        draws it); its .npy is the output as it is."""
        photo = read(os.path.join(IMAGES, PHOTO))
        doc = self.get_json("/api/models/0/features?layer=classifier.1", photo)
        self.assertEqual(doc["images"][0]["layers"][0]["shape"], [2048, 1, 1])
        status, _, data = self.get("/api/models/0/features?layer=classifier.1&format=npy", photo)
        self.assertEqual(status, 200, data[:300])
        self.assertEqual(np.load(io.BytesIO(data)).shape, (2048,))
        status, headers, png = self.get("/api/models/0/features?layer=classifier.1&format=png",
                                        photo)
        self.assertEqual((status, headers["Content-Type"]), (200, "image/png"))

    def test_layer_switch_uses_cache(self):
        photo = EXPECTED["photos"][1]
        layers = EXPECTED["models"][1]["default_layers"]
        upload = read(os.path.join(IMAGES, photo))
        s1, h1, _ = self.get(f"/api/models/1/features?layer={layers[0]}", upload)
        s2, h2, _ = self.get(f"/api/models/1/features?layer={layers[1]}&format=png", upload)
        s3, h3, _ = self.get("/api/models/1/predict", upload)
        self.assertEqual((s1, s2, s3), (200, 200, 200))
        self.assertEqual([h1["X-Cnnscope-Cache"], h2["X-Cnnscope-Cache"],
                          h3["X-Cnnscope-Cache"]], ["miss", "hit", "hit"])

    def test_bad_requests(self):
        photo = read(os.path.join(IMAGES, PHOTO))
        self.assert_error(404, "/nope")
        self.assert_error(404, "/api/models/7/summary")
        self.assert_error(404, "/api/models/x/predict", photo)
        self.assert_error(404, "/api/models/0/predict?image=missing.jpg", b"")
        for name in ("../alexnet.pth", "..%2Falexnet.pth", "/etc/passwd", "%2Fetc%2Fpasswd",
                     "images/../alexnet.pth", "../not_an_image.txt", "..", "."):
            self.assert_error(404, f"/api/models/0/predict?image={name}", b"")
            self.assert_error(404, f"/api/models/0/features?image={name}&format=npy", b"")
        self.assert_error(400, "/api/models/0/predict", b"not an image at all")
        self.assert_error(400, "/api/models/0/predict", b"")
        self.assert_error(400, "/api/models/0/predict?image=fake.jpg", b"")
        self.assert_error(400, "/api/models/0/predict?topk=0", photo)
        self.assert_error(400, "/api/models/0/features?layer=featurs.4", photo)
        self.assert_error(400, "/api/models/0/features?format=gif", photo)
        self.assert_error(400, "/api/models/0/features?channels=abc", photo)
        self.assert_error(400, "/api/models/0/features?cmap=rainbow", photo)
        self.assert_error(400, "/api/models/0/features?pick=best", photo)
        self.assert_error(413, "/api/models/0/predict", b"\xff" * (UPLOAD_MB * 1024 * 1024 + 1))
        self.assert_error(404, "/api/models/0/summary", b"", method="DELETE")
        # after all that the server still answers
        self.assertEqual(len(self.get_json("/api/models")), 2)

    def test_concurrent_requests(self):
        want = self.get_json(f"/api/models/0/predict?image={PHOTO}", b"")
        photo2 = EXPECTED["photos"][1]
        upload = read(os.path.join(IMAGES, photo2))
        want2 = self.get_json("/api/models/0/predict", upload)

        def one(k):
            kind = k % 4
            if kind == 0:
                return self.get_json(f"/api/models/0/predict?image={PHOTO}", b"") == want
            if kind == 1:
                return self.get_json("/api/models/0/predict", upload) == want2
            if kind == 2:
                status, _, data = self.get(
                    f"/api/models/0/features?image={PHOTO}&layer=features.{1 + 3 * (k % 3)}"
                    "&format=png", b"")
                return status == 200 and data[:8] == b"\x89PNG\r\n\x1a\n"
            status, _, _ = self.get("/api/models/0/predict", b"garbage")
            return status == 400

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(48)))
        self.assertTrue(all(results), results)

    def test_stalled_client_times_out(self):
        host, port = re.match(r"http://([^:/]+):(\d+)/", self.url).groups()
        with socket.create_connection((host, int(port)), timeout=30) as s:
            s.sendall(f"POST /api/models/0/predict HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      "Content-Type: application/octet-stream\r\n"
                      "Content-Length: 1000\r\n\r\nabc".encode())
            start = time.time()
            # meanwhile others are served
            self.assertEqual(len(self.get_json("/api/models")), 2)
            data = s.recv(4096)
            while data and not data.startswith(b"HTTP/1.1 4"):
                data = s.recv(4096)
            self.assertLess(time.time() - start, TIMEOUT_S + 10)

    def test_page(self):
        status, headers, html = self.get("/")
        self.assertEqual(status, 200)
        self.assertIn("default-src 'none'", headers["Content-Security-Policy"])
        self.assertIn(b"/app.js", html)
        for asset, kind in (("/app.js", "text/javascript"), ("/style.css", "text/css")):
            status, headers, _ = self.get(asset)
            self.assertEqual(status, 200)
            self.assertTrue(headers["Content-Type"].startswith(kind))

    @unittest.skipUnless(cli_common.CHROMIUM, "chromium not installed")
    def test_page_in_chromium(self):
        page = self.url + f"#image={PHOTO}&layer=features.4"
        dom, log = cli_common.chromium_url(page, "--dump-dom")
        self.assertEqual(cli_common.console_problems(log), [])
        self.assertTrue(re.search(r'<li data-layer="features.4"[^>]*class="selected"', dom),
                        "the layer's tree entry is not selected")
        grid = re.search(r'<img id="grid"[^>]*>', dom).group(0)
        self.assertIn('src="blob:', grid)
        self.assertIn('data-layer="features.4"', grid)
        self.assertTrue("Feature maps: features.4 [128, 27, 27]" in dom, "no layer title")
        self.assertEqual(len(re.findall(r"<tr><td>\d</td>", dom)), 5)  # the top 5 predictions
        shot = fixture("serve-screenshot.png")
        _, log = cli_common.chromium_url(page, "--screenshot=" + shot, "--window-size=1280,800",
                                         "--hide-scrollbars")
        self.assertEqual(cli_common.console_problems(log), [])
        pixels = cli_common.pixels(shot)
        self.assertEqual(pixels.shape, (800, 1280, 3))
        self.assertGreater(len(np.unique(pixels.reshape(-1, 3), axis=0)), 50)  # the grid drawn


    @unittest.skipUnless(cli_common.CHROMIUM, "chromium not installed")
    def test_page_click_and_upload(self):
        """Driven like a user over the DevTools protocol: a mouse click on a module shows its grid,
        a photo put into the file input is uploaded and its predictions shown."""
        import cdp
        browser = cdp.Browser(cli_common.CHROMIUM)
        try:
            for domain in ("Runtime", "Log", "Page", "DOM"):
                browser.call(domain + ".enable")
            browser.call("Page.navigate", url=self.url)
            browser.wait_for("document.querySelector('#status').textContent === 'ready' && "
                             "document.querySelectorAll('#tree li').length > 0")
            # upload: the file input gets a photo, as a user choosing it
            root = browser.call("DOM.getDocument")["root"]["nodeId"]
            node = browser.call("DOM.querySelector", nodeId=root, selector="#file")["nodeId"]
            photo = os.path.join(IMAGES, EXPECTED["photos"][1])
            browser.call("DOM.setFileInputFiles", files=[photo], nodeId=node)
            # the upload replaces the listed image the page opened with
            rows = browser.wait_for("document.querySelector('#images').selectedIndex === -1 && "
                                    "document.querySelector('#status').textContent === 'ready' "
                                    "&& document.querySelectorAll('#predictions tbody tr').length")
            self.assertEqual(rows, 5)
            want = self.get_json("/api/models/0/predict", read(photo))
            shown = browser.evaluate("[...document.querySelectorAll('#predictions tbody tr')]"
                                     ".map(r => r.children[1].textContent)")
            self.assertEqual(shown, [t["label"] for t in want["top"]])
            # click: another module's grid replaces the first
            browser.click('#tree li[data-layer="features.7"]')
            layer = browser.wait_for("document.querySelector('#grid').dataset.layer === "
                                     "'features.7' && document.querySelector('#grid').complete "
                                     "&& document.querySelector('#grid').naturalWidth")
            self.assertGreater(layer, 100)
            self.assertIn("features.7 [192, 13, 13]",
                          browser.evaluate("document.querySelector('#layer-title').textContent"))
            self.assertEqual(browser.evaluate("document.querySelector('#status').className"), "")
            self.assertEqual(browser.problems(), [])
        finally:
            browser.close()

    @unittest.skipUnless(cli_common.CHROMIUM, "chromium not installed")
    def test_page_at_1400_wide(self):
        """Opened with no link and no user action in a 1400x900 window: the first listed image is
        shown (its feature maps and the filters decoded, no broken-image placeholder), and for
        each model the module tree and the weights panel fit in the window (nothing clipped
        sideways); a screenshot is taken and decoded."""
        import cdp
        from PIL import Image
        width, height = 1400, 900
        browser = cdp.Browser(cli_common.CHROMIUM, width, height)
        try:
            for domain in ("Runtime", "Log", "Page"):
                browser.call(domain + ".enable")
            browser.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                         deviceScaleFactor=1, mobile=False)
            browser.call("Page.navigate", url=self.url)
            browser.wait_for("document.querySelectorAll('#model option').length === 2")
            for model in ("0", "1"):
                browser.evaluate(f"(() => {{ const s = document.querySelector('#model');"
                                 f"if (s.value !== '{model}') {{ s.value = '{model}';"
                                 "s.dispatchEvent(new Event('change')); } })()")
                browser.wait_for(f"document.querySelector('#model').value === '{model}' && "
                                 "document.querySelector('#status').textContent === 'ready' && "
                                 "document.querySelectorAll('#weights tbody tr').length > 0 && "
                                 "document.querySelectorAll('#tree li').length > 0")
                self.assertEqual(browser.evaluate("document.querySelector('#images').value"),
                                 self.get_json("/api/images")[0])
                try:
                    browser.wait_for("['#grid', '#filters'].every((s) => {"
                                     "const e = document.querySelector(s);"
                                     "return e.complete && e.naturalWidth > 0; })", timeout=10)
                except TimeoutError:
                    self.fail("model " + model + ": an image element is empty or broken: " +
                              str(browser.evaluate("['#grid', '#filters'].map((s) => "
                                                   "document.querySelector(s).outerHTML)")))
                boxes = browser.evaluate(
                    "(() => { const q = (s) => document.querySelector(s);"
                    "const panels = {tree: q('#tree-panel'), 'tree list': q('#tree'),"
                    "side: q('#side'), weights: q('#weights'),"
                    "'weights box': q('#weights').parentElement};"
                    "return Object.entries(panels).map(([s, e]) => {"
                    "const r = e.getBoundingClientRect();"
                    "return [s, e.scrollWidth, e.clientWidth, r.left, r.right]; }); })()")
                for name, scroll, client, left, right in boxes:
                    self.assertLessEqual(scroll, client, f"model {model}: {name} is clipped")
                    self.assertGreaterEqual(left, 0, f"model {model}: {name}")
                    self.assertLessEqual(right, width, f"model {model}: {name}")
                self.assertLessEqual(browser.evaluate("document.documentElement.scrollWidth"),
                                     width)
            shot = browser.call("Page.captureScreenshot", format="png")["data"]
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "page-1400.png")
                write(path, base64.b64decode(shot))
                with Image.open(path) as im:
                    self.assertEqual(im.size, (width, height))
                pixels = cli_common.pixels(path)
                self.assertGreater(len(np.unique(pixels.reshape(-1, 3), axis=0)), 50)
            self.assertEqual(browser.problems(), [])
        finally:
            browser.close()


class ServeLifecycleTest(unittest.TestCase):
    def test_off_loopback_warns_and_sigterm_stops(self):
        server = Server("--host", "0.0.0.0")
        self.assertIn("http://0.0.0.0:", server.url)
        code, out, err = server.stop()
        self.assertEqual(code, 0, err)
        self.assertIn("warning: serving on 0.0.0.0", err)
        self.assertIn("stopped", out)

    def test_classes_label_the_predictions(self):
        labels = [f"class {c}" for c in "abcde"]  # the seed AlexNet fixture has 5 classes
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "labels.txt")
            write(path, ("\n".join(labels) + "\n").encode())
            server = Server("--classes", path, models=MODELS[:1])
            try:
                status, _, body = request(server.url + "api/models/0/predict?image=" + PHOTO)
            finally:
                code, _, err = server.stop()
            self.assertEqual(status, 200, body)
            top = json.loads(body)["top"]
            self.assertEqual([t["label"] for t in top], [labels[t["index"]] for t in top])
            self.assertEqual(code, 0, err)
            # one labels file for models of 5 and 4 classes: refused at start, naming the file
            r = run("serve", *MODELS, "--classes", path, "--port", "0", timeout=60)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("labels.txt: has 5 labels, the model has 4 classes", r.stderr)

    def test_per_model_labels_and_input(self):
        """--model CKPT,KEY=VALUE gives each checkpoint its own labels and input steps over the
        shared flags: each model answers as `predict` with the same flags."""
        with tempfile.TemporaryDirectory() as tmp:
            five, four = os.path.join(tmp, "five.txt"), os.path.join(tmp, "four.json")
            write(five, "".join(f"five {c}\n" for c in range(5)).encode())
            write(four, json.dumps({str(c): f"four {c}" for c in range(4)}).encode())
            flags = [["--preset", "imagenet", "--resize", "256", "--crop", "224", "--classes",
                      five], ["--resize", "100", "--classes", four]]
            server = Server("--resize", "256",
                            "--model", f"{MODELS[0]},classes={five},preset=imagenet,crop=224",
                            "--model", f"{MODELS[1]},resize=100,classes={four}", models=[])
            try:
                answers = [request(server.url + f"api/models/{i}/predict?image={PHOTO}")
                           for i in range(2)]
            finally:
                code, _, err = server.stop()
            self.assertEqual(code, 0, err)
            for i, (status, _, body) in enumerate(answers):
                self.assertEqual(status, 200, body)
                got = json.loads(body)
                r = run("predict", MODELS[i], "--image", os.path.join(IMAGES, PHOTO), *flags[i],
                        "--json")
                self.assertEqual(r.returncode, 0, r.stderr)
                want = json.loads(r.stdout)
                self.assertEqual(got["preset"], want["preset"])
                self.assertNotEqual(got["preset"], EXPECTED["models"][i]["preset"])
                self.assertEqual([t["label"] for t in got["top"]],
                                 [t["label"] for t in want["top"]])
                self.assertTrue(all(t["label"].startswith(("five", "four")[i])
                                    for t in got["top"]))
                assert_forward_close(self, got["probabilities"], want["probabilities"], PHOTO)
                # the start lines say which input steps and labels each model uses
                self.assertIn(f"model {i}: {MODELS[i]} (", server.lines[i])
                self.assertIn(f"input: {got['preset']}; labels: {flags[i][-1]})", server.lines[i])

    def test_malformed_model_specs(self):
        ckpt = MODELS[0]
        for spec, needle in ((",preset=imagenet", "no checkpoint before"),
                             (f"{ckpt},resiz=3", "did you mean 'resize'"),
                             (f"{ckpt},crop", "'crop' is not KEY=VALUE"),
                             (f"{ckpt},crop=0", "not a positive whole number"),
                             (f"{ckpt},crop=-3", "not a positive whole number"),
                             (f"{ckpt},preset=imagnet", "did you mean 'imagenet'"),
                             (f"{ckpt},arch=resnet-18", "did you mean 'resnet18'"),
                             (f"{ckpt},crop=3,crop=4", "crop is given twice"),
                             (f"{ckpt},classes=", "classes= needs a value")):
            r = run("serve", "--model", spec, "--port", "0", timeout=60)
            self.assertEqual(r.returncode, 2, r.stderr)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn("--model", lines[0])
            self.assertIn(needle, lines[0])
        cli_common.assert_one_line_error(self, run("serve", "--port", "0", timeout=60),
                                         "no checkpoint to serve")
        # a labels file (text or JSON) that does not fit its own model: refused at start, naming
        # the file, as every command refuses it
        with tempfile.TemporaryDirectory() as tmp:
            five, three = os.path.join(tmp, "five.txt"), os.path.join(tmp, "three.json")
            write(five, "".join(f"five {c}\n" for c in range(5)).encode())
            write(three, json.dumps({str(c): f"three {c}" for c in range(3)}).encode())
            for labels, what in ((five, "five.txt: has 5 labels"),
                                 (three, "three.json: has 3 labels")):
                r = run("serve", MODELS[0], "--model", f"{MODELS[1]},classes={labels}", "--port",
                        "0", timeout=60)
                cli_common.assert_one_line_error(self, r, what + ", the model has 4 classes")

    def test_bad_start(self):
        for args in (["--port", "70000"], ["--threads", "0"], ["--max-upload-mb", "0"],
                     ["--timeout", "0"], ["--cache-mb", "-1"]):
            r = run("serve", MODELS[0], *args, timeout=60)
            self.assertEqual(r.returncode, 2, r.stderr)  # a usage error naming the flag
            self.assertIn(args[0], r.stderr)
        r = run("serve", MODELS[0], "--images", os.path.join(SERVE, "missing"), timeout=60)
        cli_common.assert_one_line_error(self, r, "missing: no such image file")
        r = run("serve", os.path.join(SERVE, "not_an_image.txt"), "--port", "0", timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not_an_image.txt", r.stderr)


if __name__ == "__main__":
    unittest.main()
