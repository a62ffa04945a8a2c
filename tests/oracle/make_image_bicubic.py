"""Oracle for tests/image/test_resize.cpp's bicubic cases and tests/image/test_presets.cpp: what
Pillow 13's Image.resize(size, BICUBIC) makes of made pictures (shrinking with antialias, enlarging,
mixed, both pass orders), and what torchvision's IMAGENET1K_V1 transforms make of one picture for
every preset cnnscope names after a torchvision builder.

Usage: make_image_bicubic.py OUT_DIR  (writes OUT_DIR/image_bicubic/..., atomically per file)
"""
import os
import sys

import numpy as np
import torchvision.models as M
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from make_image_oracle import atomic_write, save_npy, scene  # noqa: E402

# (source h, w, target h, w): shrink, enlarge, mixed, 1-pixel, one axis, vertical-first order.
RESIZES = [(480, 640, 224, 224), (333, 500, 256, 384), (7, 5, 224, 224), (1, 1, 3, 4),
           (100, 100, 99, 101), (600, 10, 3000, 50), (10, 600, 50, 3000), (256, 300, 256, 224),
           (300, 256, 224, 256), (1000, 3, 17, 2), (64, 64, 1, 1), (97, 131, 512, 23),
           (640, 480, 320, 470), (500, 333, 120, 300), (360, 480, 342, 456)]
RANDOM_RESIZES = 40

# preset name -> torchvision builder whose IMAGENET1K_V1 transforms define it
PRESETS = {"imagenet": "resnet50", "inception_v3": "inception_v3",
           "resnext101_64x4d": "resnext101_64x4d", "mnasnet0_75": "mnasnet0_75",
           "mnasnet1_3": "mnasnet1_3", "shufflenet_v2_x1_5": "shufflenet_v2_x1_5",
           "shufflenet_v2_x2_0": "shufflenet_v2_x2_0",
           **{f"efficientnet_b{i}": f"efficientnet_b{i}" for i in range(8)},
           **{f"efficientnet_v2_{s}": f"efficientnet_v2_{s}" for s in "sml"},
           **{f"convnext_{s}": f"convnext_{s}" for s in ("tiny", "small", "base", "large")}}


def resize_cases(out, rng, sizes, random_count, max_side, resample, kind, stem):
    """Pillow's Image.resize(size, resample) of a scene() at each of `sizes` and `random_count`
    random ones (sources up to `max_side`, targets up to twice as large): OUT/<stem><i>.src.npy
    and .dst.npy, and the manifest rows "KIND SRC H W DST"."""
    sizes = list(sizes)
    for _ in range(random_count):
        h, w = (int(v) for v in rng.integers(1, max_side, 2))
        sizes.append((h, w, int(rng.integers(1, 2 * h + 2)), int(rng.integers(1, 2 * w + 2))))
    lines = []
    for i, (h, w, th, tw) in enumerate(sizes):
        src = scene(h, w, rng)
        dst = np.asarray(Image.fromarray(src).resize((tw, th), resample))
        save_npy(os.path.join(out, f"{stem}{i}.src.npy"), src)
        save_npy(os.path.join(out, f"{stem}{i}.dst.npy"), dst)
        lines.append(f"{kind} {stem}{i}.src.npy {th} {tw} {stem}{i}.dst.npy")
    return lines


def main():
    out = os.path.join(sys.argv[1], "image_bicubic")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261128)  # scene(): gradients, hard edges, noise
    lines = resize_cases(out, rng, RESIZES, RANDOM_RESIZES, 400, Image.BICUBIC, "bicubic",
                         "resize")
    picture = Image.fromarray(scene(420, 560, rng))
    picture.save(os.path.join(out, "scene.png.tmp"), format="PNG")
    os.replace(os.path.join(out, "scene.png.tmp"), os.path.join(out, "scene.png"))
    for name, builder in PRESETS.items():
        t = M.get_model_weights(builder).IMAGENET1K_V1.transforms()
        save_npy(os.path.join(out, f"preset_{name}.npy"), t(picture).numpy())
        lines.append(f"preset {name} scene.png preset_{name}.npy")
    atomic_write(os.path.join(out, "manifest.txt"), ("\n".join(lines) + "\n").encode())


if __name__ == "__main__":
    main()
