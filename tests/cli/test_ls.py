"""End-to-end `cnnscope ls`: JSON names/dtypes/shapes in file order equal what torch.load gives,
--all lists optimizer tensors by path and plain values, --key, the table's totals, and every
hostile file exits 1 with one line on stderr and nothing on stdout."""
import json
import os
import sys
import unittest

import torch

from cli_common import fixture, run  # noqa: E402


def walk(obj, path=""):
    """(path, value) for every leaf of a torch.load result, as `ls --all` names them."""
    if isinstance(obj, torch.Tensor):
        yield path, obj
    elif isinstance(obj, dict) and obj:
        for k, v in obj.items():
            yield from walk(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, (list, tuple)) and any(
            isinstance(x, (torch.Tensor, dict, list, tuple)) for x in obj):
        for i, v in enumerate(obj):
            yield from walk(v, f"{path}.{i}" if path else str(i))
    else:
        yield path, obj


class Ls(unittest.TestCase):
    def check_json(self, name, expected, fmt, *extra):
        r = run("ls", fixture(name), "--json", *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["file"], fixture(name))
        self.assertEqual(doc["format"], fmt)
        got = [(t["name"], t["dtype"], t["shape"], t["numel"]) for t in doc["tensors"]]
        want = [(k, str(v.dtype)[6:], list(v.shape), v.numel()) for k, v in expected.items()]
        self.assertEqual(got, want)

    def test_json_matches_torch_load(self):
        self.check_json("ckpt_dtypes.pth", torch.load(fixture("ckpt_dtypes.pth")), "zip")
        self.check_json("ckpt_legacy.pth", torch.load(fixture("ckpt_legacy.pth")), "legacy")
        ck = torch.load(fixture("ckpt_training.pth"))
        self.check_json("ckpt_training.pth", ck["state_dict"], "zip")
        self.check_json("ckpt_training.pth", ck["state_dict"], "zip", "--key", "state_dict")
        sd = torch.load(fixture("ckpt_dataparallel.pth"))
        self.check_json("ckpt_dataparallel.pth",
                        {k[len("module."):]: v for k, v in sd.items()}, "zip")

    def test_all_lists_every_tensor_and_value(self):
        r = run("ls", fixture("ckpt_training.pth"), "--all", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        leaves = list(walk(torch.load(fixture("ckpt_training.pth"))))
        tensors = [(p, list(v.shape)) for p, v in leaves if isinstance(v, torch.Tensor)]
        self.assertEqual([(t["name"], t["shape"]) for t in doc["tensors"]], tensors)
        self.assertIn("optimizer.state.0.momentum_buffer", [t["name"] for t in doc["tensors"]])
        values = {v["path"]: v["value"] for v in doc["values"]}
        self.assertEqual(values["epoch"], "7")
        self.assertEqual(values["arch"], "'smallnet'")
        self.assertEqual(values["config.nested.depth"], "2")
        self.assertEqual(values["history"], "[0.5, 0.25]")
        self.assertEqual(values["optimizer.param_groups.0.lr"], "0.1")
        text = run("ls", fixture("ckpt_training.pth"), "--all")
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn("\nepoch: 7\n", text.stdout)

    def test_table_totals(self):
        r = run("ls", fixture("ckpt_dtypes.pth"))
        self.assertEqual(r.returncode, 0, r.stderr)
        sd = torch.load(fixture("ckpt_dtypes.pth"))
        numel = sum(v.numel() for v in sd.values())
        nbytes = sum(v.numel() * v.element_size() for v in sd.values())
        self.assertIn(f"{len(sd)} tensors, {numel} elements", r.stdout)
        self.assertIn(f"({nbytes} bytes)", r.stdout)
        self.assertRegex(r.stdout, r"\nbf16 +bfloat16 +\[2, 2\] +4 +8\n")

    def test_bad_key(self):
        r = run("ls", fixture("ckpt_training.pth"), "--key", "nope")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no key 'nope'", r.stderr)
        self.assertIn("epoch", r.stderr)

    def test_hostile_files_exit_1_with_one_line(self):
        hostile = fixture("ckpt_hostile")
        with open(os.path.join(hostile, "hostile.txt")) as f:
            names = [line.split("\t") for line in f]
        self.assertGreaterEqual(len(names), 10)
        cases = [(os.path.join(hostile, n), w.strip().split("|")) for n, w in names]
        cases.append((os.path.join(hostile, "does-not-exist.pth"), ["cannot open"]))
        for path, words in cases:
            r = run("ls", path)
            self.assertEqual(r.returncode, 1, (path, r.stdout, r.stderr))
            self.assertEqual(r.stdout, "")
            lines = r.stderr.splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertTrue(lines[0].startswith(f"cnnscope: error: {path}: "), lines[0])
            for w in words:
                self.assertIn(w, lines[0])
        self.assertFalse(os.path.exists("/tmp/cnnscope-pwned"))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]])
