"""Messages, help and typos of the CLI as a new user meets them: plain `cnnscope` and `cnnscope
help [CMD]` list what exists (exit 0); a mistyped command, flag, preset, arch, colormap, method or
layer is one line of at most 200 characters with "did you mean" (usage mistakes exit 2, bad input
1); help texts list every preset and colormap the library knows and one-channel .npy inputs;
--batch has one range everywhere; bytes from a file (a PNG chunk's name) are escaped in errors."""
import io
import json
import os
import re
import struct
import tempfile
import unittest
import zlib

from cli_common import SOURCE_DIR, assert_one_line_error, fixture, run  # noqa: E402

CKPT = fixture("cli_models_resnet18.pth")
MAX_LINE = 200


def presets_in_source():
    """The preset names of src/image/presets.cpp's table, read independently of the binary."""
    with open(os.path.join(SOURCE_DIR, "src", "image", "presets.cpp")) as f:
        return re.findall(r'^\s*\{"([a-z0-9_]+)", \d+', f.read(), re.M)


def png_bytes(extra_chunk_type=None):
    """A 4x4 PNG; with `extra_chunk_type`, a chunk of that type (bad CRC) before IDAT."""
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(buf, "PNG")
    data = buf.getvalue()
    if extra_chunk_type is None:
        return data
    (ihdr_length,) = struct.unpack(">I", data[8:12])
    split = 8 + 12 + ihdr_length
    body = b"xx"
    crc = zlib.crc32(extra_chunk_type + body) ^ 1
    chunk = struct.pack(">I", len(body)) + extra_chunk_type + body + struct.pack(">I", crc)
    return data[:split] + chunk + data[split:]


class Messages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.image = os.path.join(cls.tmp.name, "img.png")
        with open(cls.image, "wb") as f:
            f.write(png_bytes())

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def assert_line(self, r, code, *needles):
        """`r` exited `code` with nothing on stdout and one `cnnscope: error:` line of at most
        MAX_LINE characters holding each of `needles`."""
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("cnnscope: error: "), lines[0])
        self.assertLessEqual(len(lines[0]), MAX_LINE, lines[0])
        for needle in needles:
            self.assertIn(needle, lines[0])

    def commands(self):
        """The subcommands plain `cnnscope` lists (two-space indented lines after the header)."""
        r = run()
        self.assertEqual(r.returncode, 0, r.stderr)
        section = r.stdout.split("Subcommands:", 1)[1]
        return r.stdout, re.findall(r"^  ([a-z]+)\s", section, re.M)

    def test_plain_cnnscope_and_help_list_the_commands(self):
        listing, names = self.commands()
        for name in ("summary", "features", "explain", "predict", "report", "scan"):
            self.assertIn(name, names)
        self.assertIn("cnnscope help", listing)
        r = run("help")
        self.assertEqual((r.returncode, r.stdout), (0, listing))

    def test_help_of_a_command(self):
        r = run("help", "features")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Usage: cnnscope features", r.stdout)
        self.assertIn("--layers", r.stdout)
        self.assertEqual(r.stdout, run("features", "--help").stdout)
        self.assert_line(run("help", "featurs"), 2, "unknown command 'featurs'",
                         "did you mean 'features'?")
        self.assert_line(run("help", "nosuch"), 2, "unknown command 'nosuch'", "cnnscope help")

    def test_typo_of_a_command(self):
        self.assert_line(run("featurs", CKPT), 2,
                         "cnnscope: error: unknown command 'featurs' (did you mean 'features'?")

    def test_typo_of_a_flag(self):
        self.assert_line(run("features", CKPT, "--imgae", self.image), 2,
                         "unknown flag '--imgae'", "did you mean '--image'?")
        self.assert_line(run("predict", CKPT, "--image", self.image, "--top-k", "3"), 2,
                         "unknown flag '--top-k'", "did you mean '--topk'?")
        self.assert_line(run("features", CKPT, "--image", self.image, "--nonsense-flag"), 2,
                         "unknown flag '--nonsense-flag'", "cnnscope help features")

    def test_typo_of_a_preset_arch_colormap_method(self):
        self.assert_line(run("predict", CKPT, "--image", self.image, "--preset", "imagnet"), 2,
                         "unknown preset 'imagnet'", "did you mean 'imagenet'?")
        line = "cnnscope summary --list-archs"
        self.assert_line(run("summary", CKPT, "--arch", "resnet-18"), 2,
                         "unknown arch 'resnet-18' (did you mean 'resnet18'?", line)
        self.assert_line(run("init", "resnt18", "-o", os.path.join(self.tmp.name, "x.pth")), 2,
                         "did you mean 'resnet18'?", line)
        self.assert_line(run("features", CKPT, "--image", self.image, "--cmap", "virdis"), 2,
                         "unknown colormap 'virdis'", "did you mean 'viridis'?")
        self.assert_line(run("explain", CKPT, "--image", self.image, "--method", "gradcm"), 2,
                         "unknown method 'gradcm'", "did you mean 'gradcam'?")

    def test_typo_of_a_layer(self):
        r = run("features", CKPT, "--image", self.image, "--layers", "layer9",
                "-o", os.path.join(self.tmp.name, "f"))
        self.assert_line(r, 1, "no layer 'layer9'", "did you mean 'layer1', 'layer2' or 'layer3'?",
                         "cnnscope summary")

    def test_help_lists_every_preset_colormap_and_one_channel_npy(self):
        presets = presets_in_source()
        self.assertIn("mnist", presets)
        with open(fixture("colormaps.json")) as f:
            colormaps = list(json.load(f)["maps"])  # matplotlib's, dumped by the oracle
        for command in ("features", "explain", "predict", "scan", "report"):
            text = run(command, "--help").stdout
            for name in presets:
                self.assertIn(name, text, command)
        for command in ("features", "explain", "report"):
            self.assertIn("[1,H,W]", run(command, "--help").stdout, command)
        for command in ("features", "explain"):
            text = run(command, "--help").stdout
            for name in colormaps:
                self.assertIn(name, text, command)

    def test_batch_has_one_range(self):
        for command in ("features", "explain", "scan"):
            where = ["--images", self.tmp.name] if command == "scan" else ["--image", self.image]
            r = run(command, CKPT, *where, "--batch", "100000")
            self.assert_line(r, 2, "--batch", "100000")
            self.assertIn("1 to 256", r.stderr)

    def test_png_chunk_name_is_escaped(self):
        path = os.path.join(self.tmp.name, "chunk.png")
        with open(path, "wb") as f:
            f.write(png_bytes(b"t\n\x1bX"))
        r = run("features", CKPT, "--image", path, "-o", os.path.join(self.tmp.name, "c"))
        line = assert_one_line_error(self, r, "t\\x0a\\x1bX chunk")
        self.assertNotIn("\x1b", r.stderr)
        self.assertLessEqual(len(line), MAX_LINE)

    def test_file_name_with_a_newline_stays_on_one_line(self):
        path = os.path.join(self.tmp.name, "a\nb.pth")
        with open(path, "wb") as f:
            f.write(b"not a checkpoint")
        assert_one_line_error(self, run("summary", path), "a\\x0ab.pth: ")

    def test_wrong_input_size_names_the_flags_to_pass(self):
        net = os.path.join(self.tmp.name, "lenet.pth")
        r = run("init", "lenet_blitz", "-o", net)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("predict", net, "--image", self.image, "--resize", "64", "--crop", "64")
        self.assert_line(r, 1, "the network takes 32x32 images; pass --resize 32 --crop 32)")

    def test_arch_that_does_not_fit_names_the_flag(self):
        # (the line lists missing keys: its length depends on the fixture's path)
        assert_one_line_error(self, run("summary", CKPT, "--arch", "resnet34"),
                              "looks like resnet18; pass --arch resnet18)")

    def test_library_messages_name_no_flags(self):
        """No string literal of the library (src/ outside src/cli/) spells a flag the CLI defines:
        the library says what to set as an Error's settings, the CLI renders them as flags."""
        src = os.path.join(SOURCE_DIR, "src")
        flags = set()
        for name in os.listdir(os.path.join(src, "cli")):
            for text in literals(os.path.join(src, "cli", name)):
                flags.update(FLAG.findall(text))
        self.assertTrue({"--resize", "-o"} <= flags, flags)
        found = []
        for folder, _, files in os.walk(src):
            if os.path.relpath(folder, src).split(os.sep)[0] == "cli":
                continue
            for name in files:
                if name.endswith((".cpp", ".h")):
                    path = os.path.join(folder, name)
                    for text in literals(path):
                        found += [(os.path.relpath(path, SOURCE_DIR), f)
                                  for f in FLAG.findall(text) if f in flags]
        self.assertEqual(found, [])


# C++ comments, raw strings and string literals (contents in groups 2 and 3), char literals.
CPP_TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|R"([^(\s]*)\((.*?)\)\1"|"((?:\\.|[^"\\\n])*)"'
                       r"|'(?:\\.|[^'\\\n])+'", re.S)
FLAG = re.compile(r"(?<![\w-])--?[a-zA-Z][a-z0-9-]*")  # --resize, -o


def literals(path):
    """The contents of the string literals of a C++ file, comments left out."""
    with open(path, encoding="utf-8") as f:
        code = f.read()
    return [m.group(2) if m.group(2) is not None else m.group(3)
            for m in CPP_TOKEN.finditer(code) if m.group(2) is not None or m.group(3) is not None]


if __name__ == "__main__":
    unittest.main()
