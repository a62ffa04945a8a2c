"""End-to-end, the red team's TorchScript archives (fixtures:
make_models_torchscript_red.py). cnnscope runs archives with its own interpreter: a method the
archive defines under the old tap name never runs; __setstate__ is refused however it is spelled;
a cast to another module class, an attribute set while running and uninitialised memory are
refused while running; an endless loop stops at the step budget and a 2**50-element tensor at
the memory budget, each with one line naming the limit (and the flags raise them); a network's
warnings never reach the terminal; code that does not compile gets a line that says why; code
nested past the compiler's stack, lists of 2**40 items and values of type Any are refused; a module
shared under two names is listed as PyTorch's named_modules() lists it. Each of these broke
(ran code, crashed, hung or printed raw escapes) before cnnscope had its interpreter."""
import json
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_common import assert_forward_close, assert_one_line_error, fixture, run  # noqa: E402

WRITTEN = fixture("models_ts_red_written.pt")
INPUT = fixture("models_ts_red_input.npy")


def archive(name):
    return fixture(f"models_ts_red_{name}.pt")


class Red(unittest.TestCase):
    def setUp(self):
        if os.path.exists(WRITTEN):
            os.remove(WRITTEN)

    def tearDown(self):
        self.assertFalse(os.path.exists(WRITTEN), "the archive's code wrote a file")

    def one_line_error(self, r, *parts):
        return assert_one_line_error(self, r, *parts)

    def predict(self, name, *extra):
        return run("predict", archive(name), "--image", INPUT, "--json", *extra, timeout=120)

    def test_archive_methods_never_run(self):
        # `tap` defines cnnscope_tap (torch.save, torch.from_file("/etc/passwd")): only its forward
        # runs, and the logits are PyTorch's.
        with open(fixture("models_ts_red_expected.json")) as f:
            expected = json.load(f)
        for name in ("tap", "warn"):
            with self.subTest(name):
                r = self.predict(name)
                self.assertEqual(r.returncode, 0, r.stderr)
                assert_forward_close(self, np.array(json.loads(r.stdout)["logits"]),
                                     np.array(expected[name]), "logits")
                self.assertNotIn("\x1b", r.stdout + r.stderr)
                self.assertNotIn("red from the archive", r.stdout + r.stderr)
        r = run("features", archive("tap"), "--image", INPUT, "--layers", "features", "--npy", "-o",
                fixture("models_ts_red_features"), timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_setstate_refused_however_spelled(self):
        self.one_line_error(run("summary", archive("setstate"), "--input-size", "8"),
                            "refused", "__setstate__")

    def test_refused_while_running(self):
        for name, what in (("cast", "prim::unchecked_cast in CastModel.forward"),
                           ("setattr", "sets its attribute 'count'")):
            with self.subTest(name):
                self.one_line_error(self.predict(name), "refused while running", what)

    def test_uninitialised_memory_refused_before_running(self):
        self.one_line_error(self.predict("empty"), "refused: op aten::empty in Plain.forward")

    def test_limits(self):
        self.one_line_error(self.predict("loop"), "step budget of 1000000 nodes")
        line = self.one_line_error(self.predict("zeros"), "memory budget of 8.00 GiB")
        self.assertNotIn("input size", line)
        # The flags set the limits: a budget too small for a benign network.
        self.one_line_error(self.predict("tap", "--max-graph-steps", "5"), "step budget of 5 nodes")
        self.one_line_error(self.predict("zeros", "--max-graph-memory", "16"),
                            "memory budget of 16.00 GiB")

    def test_code_nesting_bounded(self):
        # Nesting is checked before LibTorch's recursive compiler sees the code, and the compiler
        # runs on a large stack: a 15000-deep sum (beyond a default stack) computes PyTorch's
        # logits; 100 nested brackets and a 80 KB statement are refused.
        with open(fixture("models_ts_red_expected.json")) as f:
            expected = json.load(f)
        r = self.predict("chain")
        self.assertEqual(r.returncode, 0, r.stderr)
        assert_forward_close(self, np.array(json.loads(r.stdout)["logits"]),
                             np.array(expected["chain"]), "logits")
        self.one_line_error(self.predict("nesting"), "nests brackets deeper than 64")
        self.one_line_error(self.predict("longline"), "statement longer than 64 KiB")
        # fuzz_torchscript's find (LibTorch 1.13's compiler dereferences the missing annotation)
        self.one_line_error(self.predict("classattr"),
                            "class attribute '__bufoers__' without a type")

    def test_unbounded_values_refused(self):
        self.one_line_error(self.predict("listmul"), "refused while running Plain",
                            "aten::mul in Plain.forward would make a list of over 1048576")
        self.one_line_error(self.predict("any"), "refused: prim::ListConstruct in Plain.forward",
                            "Any[]")

    def test_compile_error_says_why(self):
        line = self.one_line_error(run("summary", archive("syntax"), "--input-size", "8"),
                                   "does not compile: ")
        self.assertGreater(len(line.split("does not compile: ", 1)[1]), 5, line)

    def test_shared_module_as_named_modules(self):
        # A module held twice per level: one entry per path, as PyTorch's named_modules() lists the
        # archive's modules, each path walked once.
        r = run("summary", archive("shared"), "--json", "--input-size", "8", timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(fixture("models_ts_red_expected.json")) as f:
            want = json.load(f)["shared_modules"]
        self.assertEqual([m["name"] for m in json.loads(r.stdout)["layers"]], want)

if __name__ == "__main__":
    unittest.main()
