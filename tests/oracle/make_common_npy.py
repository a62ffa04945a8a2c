"""Oracle for tests/common/test_npy.cpp: arrays saved by numpy.save (every dtype cnnscope reads,
0-d, empty, 1-d, Fortran order, a version 2.0 header), each with a .txt listing dtype, shape and
the values in C order, so the reader is checked against numpy's bytes and the writer byte for byte.

Usage: make_common_npy.py OUT_DIR  (writes OUT_DIR/common/npy_*.npy and .txt, atomically)
"""
import io
import os
import sys

import numpy as np


def atomic_write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    out = os.path.join(sys.argv[1], "common")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    arrays = {
        "f32_chw": rng.standard_normal((3, 5, 4)).astype(np.float32),
        "f64_2d": rng.standard_normal((2, 3)),
        "f16_1d": rng.standard_normal(7).astype(np.float16),
        "i64": rng.integers(-2**40, 2**40, (4, 2)),
        "i32": rng.integers(-2**30, 2**30, 6).astype(np.int32),
        "i16": rng.integers(-2**15, 2**15, 6).astype(np.int16),
        "i8": rng.integers(-128, 128, 6).astype(np.int8),
        "u8_hwc": rng.integers(0, 256, (4, 3, 3)).astype(np.uint8),
        "bool": rng.integers(0, 2, 9).astype(bool),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "wide": rng.standard_normal((1, 1, 1, 1, 1, 2, 3)).astype(np.float32),
    }
    listing = []
    for name, arr in arrays.items():
        buf = io.BytesIO()
        np.save(buf, arr)
        atomic_write(os.path.join(out, f"npy_{name}.npy"), buf.getvalue())
        listing.append(name)
        values = " ".join(repr(float(v)) for v in arr.reshape(-1))
        shape = ",".join(str(d) for d in arr.shape) or "-"
        atomic_write(os.path.join(out, f"npy_{name}.txt"),
                     f"{arr.dtype.name} {shape} {values}\n".encode())
    # Fortran order and a version 2.0 header: read only.
    fortran = np.asfortranarray(rng.standard_normal((3, 4)).astype(np.float32))
    buf = io.BytesIO()
    np.lib.format.write_array(buf, fortran, version=(2, 0))
    atomic_write(os.path.join(out, "npy_fortran_v2.npy"), buf.getvalue())
    values = " ".join(repr(float(v)) for v in np.ascontiguousarray(fortran).reshape(-1))
    atomic_write(os.path.join(out, "npy_fortran_v2.txt"), f"float32 3,4 {values}\n".encode())
    atomic_write(os.path.join(out, "npy_list.txt"), ("\n".join(listing) + "\n").encode())


if __name__ == "__main__":
    main()
