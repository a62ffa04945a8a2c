"""End to end: `ls --json`, `ls --all --json`, `weights --json`, `filters` and `convert` on the
checkpoints from the wild that make_checkpoint_wild.py writes, against what torch.load
(weights_only=False) or torch.jit.load gives in this process: names, dtypes (quantized ones by
their quantized dtype), shapes, quantization, module tree, numpy values; weights' figures on the
dequantized values (mean/min/max as numpy computes them) with the note that says so; a whole
model converted to safetensors holds its state_dict bit for bit."""
import json
import os
import sys
import tempfile
import unittest
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import cli_common as cc  # noqa: E402

warnings.filterwarnings("ignore")


class Net(torch.nn.Module):
    """Stands for the oracle script's own __main__.Net so that torch.load can rebuild it here (as
    a user's script would define it); its state comes from the file."""


def wild(name):
    return cc.fixture("wild", name)


def torch_state_dict(name):
    """(content, {name: tensor}) as PyTorch reads the file."""
    path = wild(name)
    if name.endswith(".pt"):
        return "torchscript", dict(torch.jit.load(path).state_dict())
    obj = torch.load(path, weights_only=False)
    if isinstance(obj, torch.Tensor):
        return "tensor", {"0": obj}
    if isinstance(obj, (list, tuple)):
        return "tensors", {str(i): t for i, t in enumerate(obj)}
    if isinstance(obj, dict) and isinstance(obj.get("model"), torch.nn.Module):
        obj = obj["model"]
    elif isinstance(obj, dict) and "state_dict" in obj:
        obj = obj["state_dict"]
    if isinstance(obj, torch.nn.Module):
        return "model", dict(obj.state_dict())
    out = {}
    for k, v in obj.items():
        if isinstance(v, torch.Tensor):
            out[k] = v
        elif isinstance(v, tuple) and k.endswith("_packed_params"):
            out.update({f"{k}.{i}": t for i, t in enumerate(v) if isinstance(t, torch.Tensor)})
    return "state_dict", out


FILES = ["model_sequential.pth", "model_custom_legacy.pth", "training_model.pth", "script.pt",
         "trace.pt", "quantized_per_channel.pth", "quantized_hand.pth", "tensor.pth",
         "tensor_list.pth", "tensor_tuple.pth"]


class WildCli(unittest.TestCase):
    def ls(self, name, *flags):
        r = cc.run("ls", wild(name), "--json", *flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_ls_lists_what_torch_reads(self):
        for name in FILES:
            with self.subTest(name):
                content, sd = torch_state_dict(name)
                doc = self.ls(name)
                self.assertEqual(doc["content"], content)
                self.assertEqual([t["name"] for t in doc["tensors"]], list(sd))
                for t in doc["tensors"]:
                    want = sd[t["name"]]
                    self.assertEqual(t["dtype"], str(want.dtype)[6:], t["name"])
                    self.assertEqual(t["shape"], list(want.shape), t["name"])
                    if want.is_quantized and want.qscheme() == torch.per_tensor_affine:
                        self.assertEqual(t["quantization"], {"scheme": "per_tensor_affine",
                                                             "scale": want.q_scale(),
                                                             "zero_point": want.q_zero_point()})
                    elif want.is_quantized:
                        q = t["quantization"]
                        self.assertEqual(q["axis"], want.q_per_channel_axis())
                        self.assertEqual(q["scales"], want.q_per_channel_scales().tolist())
                        self.assertEqual(q["zero_points"],
                                         want.q_per_channel_zero_points().tolist())
                    else:
                        self.assertNotIn("quantization", t)

    def test_ls_all_shows_module_tree_and_numpy_values(self):
        doc = self.ls("training_model.pth", "--all")
        model = torch.load(wild("training_model.pth"), weights_only=False)
        self.assertEqual([m["path"] for m in doc["modules"]],
                         [p for p, _ in model["model"].named_modules()])
        convs = {m["path"]: m for m in doc["modules"]}
        stem = model["model"].stem[0]
        self.assertEqual(convs["stem.0"]["class"], "torch.nn.modules.conv.Conv2d")
        for key in ("kernel_size", "stride", "padding", "in_channels", "out_channels", "groups"):
            self.assertEqual(convs["stem.0"]["hparams"][key], repr(getattr(stem, key)), key)
        self.assertEqual(convs[""]["class"], "__main__.Net")
        values = {v["path"]: v["value"] for v in doc["values"]}
        self.assertEqual(values["loss"], repr(model["loss"]))
        self.assertEqual(values["acc"], repr(model["acc"]))
        self.assertEqual(values["dtype"], repr(model["dtype"]))
        self.assertEqual(values["epoch"], "4")
        tensors = [t["name"] for t in doc["tensors"]]
        self.assertEqual(tensors, ["model." + k for k in model["model"].state_dict()])

    def test_ls_text_says_what_the_file_holds(self):
        for name, words in (("model_custom.pth", "whole model __main__.Net"),
                            ("script.pt", "TorchScript module"),
                            ("tensor.pth", "a single tensor"),
                            ("tensor_list.pth", "a list of 3 tensors")):
            r = cc.run("ls", wild(name))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(words, r.stdout.splitlines()[0])

    def test_weights_on_dequantized_values(self):
        for name in ("quantized_per_channel.pth", "quantized_hand.pth", "script.pt"):
            with self.subTest(name):
                _, sd = torch_state_dict(name)
                r = cc.run("weights", wild(name), "--json")
                self.assertEqual(r.returncode, 0, r.stderr)
                for t in json.loads(r.stdout)["tensors"]:
                    want = sd[t["name"]]
                    values = (want.dequantize() if want.is_quantized else want).detach().double().numpy()
                    self.assertEqual(t["min"], values.min(), t["name"])
                    self.assertEqual(t["max"], values.max(), t["name"])
                    self.assertAlmostEqual(t["mean"], values.mean(), delta=1e-12 * (
                        1 + abs(values).max()))
                    if want.is_quantized:
                        self.assertTrue(t["quantized"].startswith(str(want.dtype)[6:]))
                        self.assertIn("dequantized", t["note"])
                    else:
                        self.assertNotIn("quantized", t)

    def test_convert_whole_model_and_torchscript_to_safetensors(self):
        for name in ("model_custom_legacy.pth", "script.pt"):
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "m.safetensors")
                r = cc.run("convert", wild(name), out)
                self.assertEqual(r.returncode, 0, r.stderr)
                got = cc.read_safetensors(out)
                _, sd = torch_state_dict(name)
                self.assertEqual(list(got), list(sd))
                for k, v in sd.items():
                    np.testing.assert_array_equal(got[k].numpy(), v.detach().numpy(), k)

    def test_gadgets_stay_refused(self):
        with open(wild("wild_hostile.txt")) as f:
            for line in f:
                name, words = line.rstrip("\n").split("\t")
                r = cc.run("ls", wild(name))
                self.assertEqual(r.returncode, 1, name)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                for w in words.split("|"):
                    self.assertIn(w, r.stderr)


if __name__ == "__main__":
    unittest.main()
