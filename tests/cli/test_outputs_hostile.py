"""Outputs, messages and images under attack (red team), end to end through the CLI: terminal
escape codes in tensor keys and file names never reach stdout/stderr raw (ls, weights, summary,
error lines); a full disk while writing .pth, .safetensors, figures or arrays is one error line,
exit 1, and leaves no temporary behind (a 2 MB tmpfs, root only); a `features` run that fails
midway leaves an existing output folder as it was; a 1x1 TIFF declaring a 32768x32768 tile is
refused in one line under a 1 GiB address-space limit. Checkpoints and images are made here.
"""
import os
import resource
import shutil
import subprocess
import tempfile
import unittest

import numpy as np
import torch
from PIL import Image

import cli_common  # noqa: E402
from cli_common import BIN, run  # noqa: E402

ESC = "\x1b"
ADDRESS_SPACE = 1 << 30  # 1 GiB: the bomb's tile alone asks for as much


def blitz_state_dict(extra=None):
    """The PyTorch blitz CNN's state_dict (cnnscope detects it as lenet_blitz), random weights."""
    g = torch.Generator().manual_seed(0)
    shapes = {"conv1.weight": (6, 3, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5),
              "conv2.bias": (16,), "fc1.weight": (120, 400), "fc1.bias": (120,),
              "fc2.weight": (84, 120), "fc2.bias": (84,), "fc3.weight": (10, 84), "fc3.bias": (10,)}
    sd = {k: torch.randn(*s, generator=g) * 0.1 for k, s in shapes.items()}
    sd.update(extra or {})
    return sd


def one_error_line(case, r, *needles, way_out=False):
    """Exit 1 and exactly one stderr line `cnnscope: error: ...` holding each needle (way_out: two
    more, indented, as a network cnnscope cannot run has)."""
    case.assertEqual(r.returncode, 1, r.stdout + r.stderr)
    lines = r.stderr.splitlines()
    case.assertEqual(len(lines), 3 if way_out else 1, r.stderr)
    case.assertTrue(all(line.startswith("  ") for line in lines[1:]), r.stderr)
    case.assertTrue(lines[0].startswith("cnnscope: error: "), r.stderr)
    for n in needles:
        case.assertIn(n, lines[0])


def tree(path):
    """{relative path: bytes} of every file under `path` (hidden ones included)."""
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, path)] = fh.read()
    return out


class HostileOutputs(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cnnscope_hostile_")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def image(self, name, seed=0):
        rng = np.random.default_rng(seed)
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(self.path(name))
        return self.path(name)

    def test_escape_codes_from_files_never_reach_the_terminal(self):
        evil = {"conv\x1b[31m.weight": torch.ones(2, 2), "evil\x1b]0;pwned\x07.bias": torch.ones(3),
                "c1\u009b2J.x": torch.ones(1)}
        ckpt = self.path("keys.pth")
        torch.save(evil, ckpt)
        named = self.path("name\x1b[2J.pth")
        torch.save(blitz_state_dict(), named)
        cases = [(("ls", ckpt), 0), (("ls", "--all", ckpt), 0), (("weights", ckpt), 0),
                 (("summary", ckpt), 1), (("ls", named), 0), (("summary", named), 0),
                 (("ls", self.path("missing\x1b[2J.pth")), 1)]
        for args, code in cases:
            with self.subTest(args=args):
                r = run(*args)
                self.assertEqual(r.returncode, code, r.stdout + r.stderr)
                self.assertNotIn(ESC, r.stdout + r.stderr)
                self.assertNotIn("\u009b", r.stdout + r.stderr)
                if code:
                    one_error_line(self, r, way_out=args == ("summary", ckpt))
        r = run("ls", ckpt)
        self.assertIn("conv\\x1b[31m.weight", r.stdout)
        self.assertIn("c1\\u009b2J.x", r.stdout)

    def test_failure_midway_leaves_the_output_folder_as_it_was(self):
        ckpt = self.path("blitz.pth")
        torch.save(blitz_state_dict(), ckpt)
        good = self.image("good.png")
        bad = self.path("bad.png")
        with open(bad, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)  # a PNG signature, then garbage
        out = self.path("out")
        r = run("features", ckpt, "--image", good, self.image("other.png", 1), "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in tree(out):  # mark the old outputs: any rewrite of them shows
            with open(os.path.join(out, name), "wb") as f:
                f.write(b"old " + name.encode())
        with open(os.path.join(out, "notes.txt"), "w") as f:
            f.write("the user's own file")
        before = tree(out)
        self.assertTrue(any(k.startswith("good" + os.sep) for k in before), before.keys())
        # The first batch (good.png) is drawn before bad.png is read.
        r = run("features", ckpt, "--image", good, bad, "--batch", "1", "-o", out)
        one_error_line(self, r, "bad.png")
        self.assertEqual(tree(out), before)
        self.assertEqual(sorted(os.listdir(out)), ["good", "notes.txt", "other"])
        # A folder that did not exist is not left behind either.
        fresh = self.path("fresh")
        r = run("features", ckpt, "--image", good, bad, "--batch", "1", "-o", fresh)
        one_error_line(self, r, "bad.png")
        self.assertFalse(os.path.exists(fresh))
        self.assertEqual(sorted(os.listdir(self.dir)),
                         ["bad.png", "blitz.pth", "good.png", "other.png", "out"])

    def test_full_disk_is_one_line_and_leaves_no_temporary(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a 2 MB tmpfs (CI runs as root)")
        disk = self.path("disk")
        os.mkdir(disk)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", disk], check=True)
        try:
            big = self.path("big.pth")  # 4 MB of float32: does not fit
            torch.save(blitz_state_dict({"big": torch.zeros(1 << 20)}), big)
            for name in ("out.pth", "out.safetensors"):
                with self.subTest(name=name):
                    r = run("convert", big, os.path.join(disk, name))
                    one_error_line(self, r, name + ": cannot write: No space left on device")
                    self.assertEqual(os.listdir(disk), [])
            # Figures and arrays: fill the disk but for 8 KiB first.
            ckpt = self.path("blitz.pth")
            torch.save(blitz_state_dict(), ckpt)
            for name in os.listdir(disk):  # what a failed check above left
                os.remove(os.path.join(disk, name))
            filler = os.path.join(disk, "filler")
            with open(filler, "wb", buffering=0) as f:
                try:
                    while True:
                        f.write(b"\0" * 4096)
                except OSError:  # full
                    pass
            os.truncate(filler, os.path.getsize(filler) - 8192)
            for args in (("features", ckpt, "--image", self.image("a.png"), "--npy"),
                         ("weights", ckpt, "--plots")):
                with self.subTest(args=args[0]):
                    out = os.path.join(disk, args[0])
                    r = run(*args, out) if args[0] == "weights" else run(*args, "-o", out)
                    one_error_line(self, r, "No space left on device")
                    self.assertEqual(os.listdir(disk), ["filler"])
        finally:
            subprocess.run(["umount", disk], check=True)

    def test_tiff_tile_bomb_is_refused_without_allocating(self):
        # Little-endian, uncompressed 8-bit gray, 1x1 pixels in one 32768x32768 tile.
        entries = [(256, 4, 1), (257, 4, 1), (258, 3, 8), (259, 3, 1), (262, 3, 1), (277, 3, 1),
                   (322, 4, 32768), (323, 4, 32768), (324, 4, 8 + 2 + 12 * 10 + 4), (325, 4, 16)]
        data = bytearray(b"II*\0" + (8).to_bytes(4, "little") + len(entries).to_bytes(2, "little"))
        for tag, kind, value in entries:
            data += tag.to_bytes(2, "little") + kind.to_bytes(2, "little") + (1).to_bytes(4, "little")
            data += value.to_bytes(2, "little") + b"\0\0" if kind == 3 else value.to_bytes(4, "little")
        data += b"\0" * 4 + b"\7" * 16
        bomb = self.path("bomb.tif")
        with open(bomb, "wb") as f:
            f.write(data)
        ckpt = self.path("blitz.pth")
        torch.save(blitz_state_dict(), ckpt)

        def limited():
            resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

        def predict(image):
            return subprocess.run([BIN, "predict", ckpt, "--image", image], capture_output=True, text=True,
                                  timeout=300, preexec_fn=limited,
                                  env=dict(os.environ, OMP_NUM_THREADS="1"))

        control = predict(self.image("fine.png"))  # the limit leaves room for an ordinary run
        self.assertEqual(control.returncode, 0, control.stderr)
        r = predict(bomb)
        one_error_line(self, r, "bomb.tif: TIFF tile of 32768x32768 pixels for a 1x1 image")


if __name__ == "__main__":
    unittest.main()
