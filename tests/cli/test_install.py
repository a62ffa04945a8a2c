"""`cmake --install` (what `make install PREFIX=DIR`, the wheel and the .deb are made of) into a
temporary prefix: the binary, man page and bash completion are where users look for them; the
installed binary's RUNPATH holds no absolute path (a path into the build tree fails the test);
in a prefix laid out as a Python environment (lib/pythonX.Y/site-packages with torch) it finds
LibTorch there, relative to itself, and answers `--version`, `ls` and `predict` as the build
tree's binary does; the completion completes subcommands and a subcommand's flags; the man page
has every subcommand. The wheel and the .deb themselves: scripts/check-packages.sh."""
import gzip
import json
import os
import re
import subprocess
import tempfile
import unittest

from cli_common import BIN, SOURCE_DIR, fixture, run

BUILD = os.environ.get("CNNSCOPE_BUILD_DIR", os.path.dirname(os.path.abspath(BIN)))


def cache_value(name):
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    return ""


def runpath(binary):
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True)
    found = re.findall(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*)\]", out.stdout)
    return [p for entry in found for p in entry.split(":")]


def complete(script, *words):
    """What the completion script offers for the command line `words` (the last one typed)."""
    line = " ".join(f"'{w}'" for w in words)
    r = subprocess.run(
        ["bash", "-c", f'source "$0"; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _cnnscope; '
         'printf "%s\\n" "${COMPREPLY[@]}"', script], capture_output=True, text=True, check=True)
    return r.stdout.split()


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.prefix = os.path.join(cls.tmp.name, "prefix")
        subprocess.run(["cmake", "--install", BUILD, "--prefix", cls.prefix], check=True,
                       capture_output=True)
        cls.bin = os.path.join(cls.prefix, "bin", "cnnscope")
        cls.torch = cache_value("CNNSCOPE_TORCH_WHEEL")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_files_where_users_look(self):
        for path in ("bin/cnnscope", "share/bash-completion/completions/cnnscope",
                     "share/man/man1/cnnscope.1.gz"):
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, path)), path)

    def test_runpath_has_no_absolute_path(self):
        entries = runpath(self.bin)
        for entry in entries:  # an empty entry would be the current folder
            self.assertTrue(entry.startswith("$ORIGIN/"), f"RUNPATH entry {entry!r}: {entries}")
            self.assertNotIn(os.path.realpath(SOURCE_DIR), entry)
        self.assertNotIn("", runpath(BIN), "the build tree's binary must not search the current folder")
        if self.torch:  # the wheel's LibTorch: found beside the binary, as a venv lays it out
            py = re.search(r"/lib/(python3\.\d+)/", self.torch).group(1)
            self.assertIn(f"$ORIGIN/../lib/{py}/site-packages/torch/lib", entries)
        # the build tree's binary is the same file, linked once: no install-time rewrite that
        # would leave an empty entry (the current folder) in either
        self.assertEqual(runpath(os.path.realpath(BIN)), entries)

    @unittest.skipUnless(cache_value("CNNSCOPE_TORCH_WHEEL"), "built against Debian's LibTorch")
    def test_runs_from_a_python_prefix(self):
        # <prefix>/lib/python3.11/site-packages as in a venv holding torch (and its CUDA libraries)
        site = os.path.dirname(self.torch)
        lib = os.path.join(self.prefix, "lib", os.path.basename(os.path.dirname(site)))
        os.makedirs(lib, exist_ok=True)
        link = os.path.join(lib, "site-packages")
        if not os.path.exists(link):
            os.symlink(site, link)
        env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
        version = subprocess.run([self.bin, "--version"], capture_output=True, text=True, env=env)
        self.assertEqual(version.returncode, 0, version.stderr)
        lines = version.stdout.splitlines()
        self.assertTrue(re.fullmatch(r"cnnscope \d+\.\d+\.\d+", lines[0]), lines)
        self.assertTrue(lines[1].startswith("LibTorch 2.15."), lines)
        self.assertEqual(lines[2], f"from {link}/torch/lib/libtorch_cpu.so")
        args = ["predict", fixture("cli_models_resnet18.pth"), "--image",
                os.path.join(SOURCE_DIR, "assets", "chelsea.png"), "--json"]
        got = subprocess.run([self.bin, *args], capture_output=True, text=True, env=env)
        self.assertEqual(got.returncode, 0, got.stderr)
        want = run(*args)
        self.assertEqual(json.loads(got.stdout)["probabilities"],
                         json.loads(want.stdout)["probabilities"])

    def test_completion(self):
        script = os.path.join(self.prefix, "share/bash-completion/completions/cnnscope")
        self.assertEqual(complete(script, "cnnscope", "pre"), ["preprocess", "predict"])
        self.assertIn("--image", complete(script, "cnnscope", "predict", "--ima"))
        self.assertIn("--list-archs", complete(script, "cnnscope", "summary", "--"))
        self.assertEqual(complete(script, "cnnscope", "help", "ser"), ["serve"])
        self.assertEqual(complete(script, "cnnscope", "predict", "x.p"), [])  # files: bash's own

    def test_man_page_has_every_command(self):
        with gzip.open(os.path.join(self.prefix, "share/man/man1/cnnscope.1.gz"), "rt") as f:
            man = f.read()
        self.assertIn(".TH CNNSCOPE", man)
        help_text = run("--help").stdout
        commands = re.findall(r"^  ([a-z]+) ", help_text.split("Subcommands:")[1], re.M)
        self.assertGreater(len(commands), 10)
        for command in commands:
            self.assertIn(f".SS {command}\n", man)
        self.assertIn("\\-\\-image", man)
        self.assertNotIn(os.path.realpath(SOURCE_DIR), man)  # nothing of the machine that built it


if __name__ == "__main__":
    unittest.main()
