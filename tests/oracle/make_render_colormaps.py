"""Fixture for tests/render/test_colormap.cpp: matplotlib's own colormap lookups, as golden values.

For each colormap: the 256 float entries (cmap(i)), the 8-bit entries (cmap(i, bytes=True)) and the
8-bit colours matplotlib gives for normalised values t, edges and out-of-range values included.
"""
import json
import os
import sys

import matplotlib
import numpy as np

NAMES = ["gray", "viridis", "magma", "inferno", "plasma", "turbo"]

out = sys.argv[1]
rng = np.random.default_rng(0)
t = np.concatenate([
    [0.0, 1.0, 0.5, -0.25, 1.5, 1 / 256, 255 / 256, 1 - 1e-12, 1e-12, -1e-9, 2 / 256 - 1e-12],
    rng.random(200),
])
doc = {"t": t.tolist(), "maps": {}}
for name in NAMES:
    cmap = matplotlib.colormaps[name]
    idx = np.arange(cmap.N)
    doc["maps"][name] = {
        "float": cmap(idx)[:, :3].tolist(),
        "bytes": cmap(idx, bytes=True)[:, :3].tolist(),
        "t_bytes": cmap(t, bytes=True)[:, :3].tolist(),
    }
path = os.path.join(out, "colormaps.json")
with open(path + ".tmp", "w") as f:
    json.dump(doc, f)
os.replace(path + ".tmp", path)
