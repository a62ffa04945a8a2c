"""Helpers shared by the end-to-end CLI tests (tests/cli/test_*.py): paths from CTest's
environment (CNNSCOPE_BIN, CNNSCOPE_FIXTURES, CNNSCOPE_SOURCE_DIR, set by cmake/Tests.cmake),
running the CLI, fixture paths, PNG pixels, a safetensors reader independent of cnnscope, and the
one parity rule for float32 forwards (tolerance 1e-4 of the reference's largest magnitude).
Leaves out whatever only one test file uses. Imports the oracle folder (tests/oracle) on sys.path.
"""
import collections
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

BIN = os.environ.get("CNNSCOPE_BIN", "build/cnnscope")
FIXTURES = os.environ.get("CNNSCOPE_FIXTURES", "build/fixtures")
SOURCE_DIR = os.environ.get("CNNSCOPE_SOURCE_DIR",
                            os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ORACLE_DIR = os.path.join(SOURCE_DIR, "tests", "oracle")
sys.path.insert(0, ORACLE_DIR)

# Logits, taps and softmax of a float32 forward against PyTorch's: oneDNN/MKL kernels differ in
# summation order, so 1e-4 of the reference's largest magnitude (the parity bar).
FORWARD_TOLERANCE = 1e-4


def run(*args, timeout=300, **kw):
    """Runs the CLI with `args`; returns the CompletedProcess (text stdout/stderr)."""
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout, **kw)


def assert_one_line_error(case, r, *needles):
    """`r` failed as every refusal must: exit 1, nothing on stdout, one line `cnnscope: error: ...`
    on stderr holding each of `needles`. Returns that line."""
    case.assertEqual(r.returncode, 1, r.stdout + r.stderr)
    case.assertEqual(r.stdout, "")
    lines = r.stderr.strip().splitlines()
    case.assertEqual(len(lines), 1, r.stderr)
    case.assertTrue(lines[0].startswith("cnnscope: error: "), lines[0])
    for needle in needles:
        case.assertIn(needle, lines[0])
    return lines[0]


def fixture(*parts):
    """A path under the fixtures folder (what the oracle scripts wrote)."""
    return os.path.join(FIXTURES, *parts)


def pixels(path):
    """A PNG (any mode) as an int array [H, W, 3] of its RGB values, as Pillow converts it."""
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def assert_forward_close(case, got, want, what=""):
    """Every element of `got` within FORWARD_TOLERANCE x max|want| of `want` (same shape)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    case.assertEqual(got.shape, want.shape, what)
    scale = np.abs(want).max() if want.size else 0.0
    if want.size:
        case.assertLess(np.abs(got - want).max(), FORWARD_TOLERANCE * scale, what)


SAFETENSORS_DTYPES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64",
                      "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
                      "BOOL": "bool", "U16": "uint16", "U32": "uint32", "U64": "uint64",
                      "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}


def read_safetensors(path):
    """A safetensors file as an OrderedDict of torch tensors in file order (its own parser)."""
    import torch
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n], object_pairs_hook=collections.OrderedDict)
    data = raw[8 + n:]
    out = collections.OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=torch.uint8) if e > b else \
            torch.zeros(0, dtype=torch.uint8)
        out[name] = t.view(getattr(torch, SAFETENSORS_DTYPES[info["dtype"]])).reshape(info["shape"])
    return out


CHROMIUM = shutil.which("chromium")


def chromium(html, *extra):
    """Runs headless Debian Chromium on a local page; returns (stdout, stderr). Network features
    are off; a throwaway profile."""
    return chromium_url("file://" + os.path.abspath(html), *extra)


def chromium_url(url, *extra):
    """chromium() on any URL (a local server's page)."""
    profile = tempfile.mkdtemp(prefix="cnnscope-chromium-")
    try:
        r = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=5000", *extra, url],
            capture_output=True, text=True, timeout=180)
        return r.stdout, r.stderr
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def console_problems(stderr):
    """Console errors and CSP refusals in Chromium's log."""
    return [line for line in stderr.splitlines()
            if ("CONSOLE" in line and ("Uncaught" in line or "Error" in line)) or "Refused to" in line]


def check_init_loads(case, arch, size, builder_kwargs=None, num_classes=7):
    """`cnnscope init ARCH` for seeds 1, 1, 2: torchvision's builder loads the first with
    load_state_dict(strict=True) in its key order and runs a size x size input to num_classes
    logits; equal seeds give equal tensors, different seeds different ones."""
    import torch
    import torchvision
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, f"{arch}_{i}.pth") for i in range(3)]
        for path, seed in zip(paths, ("1", "1", "2")):
            r = run("init", arch, "--num-classes", str(num_classes), "--seed", seed, "-o", path)
            case.assertEqual(r.returncode, 0, r.stderr)
        a, b, c = (torch.load(p, weights_only=True) for p in paths)
        model = getattr(torchvision.models, arch)(num_classes=num_classes, **(builder_kwargs or {}))
        model.load_state_dict(a, strict=True)
        case.assertEqual(list(a.keys()), list(model.state_dict().keys()))
        case.assertTrue(all(torch.equal(a[k], b[k]) for k in a))
        case.assertFalse(all(torch.equal(a[k], c[k]) for k in a))
        with torch.no_grad():
            case.assertEqual(model.eval()(torch.zeros(1, 3, size, size)).shape, (1, num_classes))
