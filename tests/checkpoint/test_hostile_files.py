"""End to end, a red team's inputs that once made cnnscope blow up, hang or crash, made by
make_checkpoint_hostile.py (or here, for FIFOs). Each run is bounded by a timeout and an address
space limit, so a regression fails instead of eating the machine:
- pickles that share values through the memo (a tree of 2^40 nodes in 2 KB): `ls --all` lists each
  shared list once; a module tree shared per level is refused in one line; a small one lists the
  state_dict torch gives;
- an expanded view (2^28 values over 4 stored floats): `weights` gives numpy's figures from the 4
  values, `convert` writes the 16-byte storage and the view as torch.save does (torch.load reads it
  back equal), safetensors refuses it in one line;
- a bool storage with bytes other than 0/1: `weights` gives torch's figures;
- FIFOs, devices and /proc files as checkpoint, image, .npy or --classes inputs: one line "not a
  regular file", exit 1, at once."""
import json
import os
import resource
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import cli_common as cc  # noqa: E402

ADDRESS_SPACE = 3 << 30  # LibTorch needs ~1 GiB of it; today's code took 3.2 GB of memory
TIMEOUT = 60


def limit():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run(*args):
    return subprocess.run([cc.BIN, *args], capture_output=True, text=True, timeout=TIMEOUT,
                          preexec_fn=limit)


def hostile(name):
    return cc.fixture("hostile", name)


class Case(unittest.TestCase):
    def assert_error(self, r, path, *words):
        """Exit 1 and one line `cnnscope: error: PATH: ...` holding `words`."""
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith(f"cnnscope: error: {path}: "), lines[0])
        for w in words:
            self.assertIn(w, lines[0])


class SharedPickles(Case):
    def test_shared_lists_listed_once_each(self):
        r = run("ls", "--all", "--json", hostile("shared_lists.pth"))
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual([t["name"] for t in doc["tensors"]], ["state_dict.w"])
        values = {v["path"]: v["value"] for v in doc["values"]}
        self.assertEqual(len(values), 41)  # each level: its second item refers to its first
        self.assertEqual(values["shared.1"], "<same as 'shared.0'>")
        self.assertEqual(values["shared" + ".0" * 39 + ".1"], "<same as '" + "shared" +
                         ".0" * 40 + "'>")
        self.assertEqual(values["shared" + ".0" * 40], "[]")

    def test_shared_module_tree_refused(self):
        path = hostile("shared_modules.pth")
        for command in (["ls"], ["ls", "--all"], ["weights"]):
            with self.subTest(command=command):
                self.assert_error(run(*command, path), path, "expands to more than")

    def test_small_shared_module_tree_as_torch(self):
        want = list(torch.load(hostile("shared_small.pth"), weights_only=False).state_dict())
        r = run("ls", "--all", "--json", hostile("shared_small.pth"))
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual([t["name"] for t in doc["tensors"]], want)
        self.assertEqual(len(doc["modules"]), 15)  # every path, as the module list always had


def numpy_figures(values):
    v = np.asarray(values, dtype=np.float64).ravel()
    return {"mean": v.mean(), "std": v.std(ddof=1), "min": v.min(), "max": v.max(),
            "l2": np.sqrt((v * v).sum()), "zero_fraction": (v == 0).mean(),
            "p1": np.percentile(v, 1), "p50": np.percentile(v, 50), "p99": np.percentile(v, 99)}


class ExpandedView(Case):
    def setUp(self):
        self.ckpt = torch.load(hostile("expanded.pth"))

    def test_weights_from_the_stored_values(self):
        r = run("weights", "--json", hostile("expanded.pth"))
        self.assertEqual(r.returncode, 0, r.stderr)
        got = {t["name"]: t for t in json.loads(r.stdout)["tensors"]}
        small = self.ckpt["small"]
        for name, want in (("small", numpy_figures(small.numpy())),):
            for key, value in want.items():
                self.assertAlmostEqual(got[name][key], value, places=9, msg=f"{name} {key}")
        self.assertEqual(got["small"]["histogram"]["counts"],
                         np.histogram(small.numpy(), 50)[0].tolist())
        # big: the 4 stored values, each 2^26 times: numpy's figures on the rows' first column
        # with counts scaled (its exact percentiles follow from the ranks).
        base = self.ckpt["big"][:, 0].numpy().astype(np.float64)
        big = got["big"]
        self.assertEqual(big["numel"], 4 * 2 ** 26)
        self.assertEqual(big["finite"], 4 * 2 ** 26)
        n = 2 ** 26
        self.assertAlmostEqual(big["mean"], base.mean(), places=12)
        self.assertAlmostEqual(big["std"], np.sqrt(((base - base.mean()) ** 2).sum() * n /
                                                   (4 * n - 1)), places=9)
        self.assertAlmostEqual(big["l2"], np.sqrt((base ** 2).sum() * n), places=6)
        self.assertEqual((big["min"], big["max"]), (base.min(), base.max()))
        self.assertEqual(big["zero_fraction"], 0.25)
        ordered = np.sort(base)
        self.assertEqual(big["p1"], ordered[0])
        self.assertEqual(big["p50"], (ordered[1] + ordered[2]) / 2)  # ranks 2n-1 and 2n
        self.assertEqual(big["p99"], ordered[3])
        self.assertEqual(big["histogram"]["counts"],
                         (np.histogram(base.astype(np.float32), 50)[0] * n).tolist())

    def test_convert_pth_keeps_the_view(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.pth")
            r = run("convert", hostile("expanded.pth"), out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertLess(os.path.getsize(out), 64 << 10)
            back = torch.load(out)
            for name in ("big", "small"):
                want, got = self.ckpt[name], back[name]
                self.assertEqual(got.shape, want.shape)
                self.assertEqual(got.stride(), want.stride())
                self.assertEqual(got.untyped_storage().nbytes(), 16)
                self.assertTrue(torch.equal(got[:, :5], want[:, :5]))
            self.assertTrue(torch.equal(back["small"], self.ckpt["small"]))

    def test_convert_safetensors_refuses_the_view(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.safetensors")
            self.assert_error(run("convert", hostile("expanded.pth"), out), out,
                              "tensor 'big'", "safetensors holds values only")
            self.assertEqual(os.listdir(tmp), [])


class BoolBytes(Case):
    def test_weights_as_torch_reads_them(self):
        b = torch.load(hostile("bool.pth"))["b"]
        self.assertTrue((b.view(torch.uint8) > 1).any())  # the fixture holds such bytes
        f = b.double()
        want = {"mean": f.mean().item(), "std": f.std().item(), "min": f.min().item(),
                "max": f.max().item(), "l2": f.norm().item(),
                "zero_fraction": (f == 0).double().mean().item()}
        r = run("weights", "--json", hostile("bool.pth"))
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)["tensors"][0]
        for key, value in want.items():
            self.assertAlmostEqual(got[key], value, places=12, msg=key)


class NotRegularFiles(Case):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.image = os.path.join(self.dir, "cat.png")
        Image.new("RGB", (40, 40), (200, 30, 60)).save(self.image)

    def tearDown(self):
        self.tmp.cleanup()

    def fifo(self, name):
        path = os.path.join(self.dir, name)
        os.mkfifo(path)
        return path

    def test_fifos_refused_at_once(self):
        blitz = hostile("blitz.pth")
        cases = [
            ("ckpt.pth", lambda p: ["ls", p]),
            ("ckpt2.pth", lambda p: ["weights", "--json", p]),
            ("photo.jpg", lambda p: ["preprocess", p, "-o", os.path.join(self.dir, "o.npy")]),
            ("input.npy", lambda p: ["preprocess", p, "-o", os.path.join(self.dir, "o2.npy")]),
            ("photo2.png", lambda p: ["predict", blitz, "--image", p]),
            ("classes.txt", lambda p: ["predict", blitz, "--image", self.image, "--classes", p]),
        ]
        for name, command in cases:
            with self.subTest(name=name):
                path = self.fifo(name)
                self.assert_error(run(*command(path)), path, "not a regular file", "a FIFO")

    def test_devices_and_proc_refused(self):
        for path, kind in (("/dev/zero", "a character device"), ("/proc/self/status",
                                                                  "a /proc file")):
            with self.subTest(path=path):
                self.assert_error(run("ls", path), path, "not a regular file", kind)


if __name__ == "__main__":
    unittest.main()
