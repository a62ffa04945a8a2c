"""Oracle for tests/image/test_layout_presets.cpp's interpolation cases: what Pillow 13's
Image.resize(size, NEAREST) makes of made pictures (shrinking, enlarging, mixed, random sizes), and
what torchvision's Resize(size, interpolation) with Pillow makes of a photo when the interpolation
replaces a preset's (--interpolation): nearest, bicubic and bilinear over bilinear, bicubic, fixed
size and one-channel presets.

Usage: make_image_interpolation.py OUT_DIR  (writes OUT_DIR/image_interpolation/..., atomically per
file; manifest.txt rows "nearest SRC H W DST" and "override PRESET FILTER PHOTO NPY")
"""
import os
import sys

import numpy as np
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.dirname(__file__))
from make_image_bicubic import resize_cases  # noqa: E402
from make_image_oracle import atomic_write, save_npy, scene  # noqa: E402

# (source h, w, target h, w): shrink, enlarge, mixed, 1-pixel, one axis, odd ratios.
RESIZES = [(480, 640, 224, 224), (333, 500, 256, 384), (7, 5, 224, 224), (1, 1, 3, 4),
           (100, 100, 99, 101), (600, 10, 1500, 50), (97, 131, 512, 23), (360, 480, 342, 456),
           (3, 1000, 7, 999), (64, 64, 1, 1)]
RANDOM_RESIZES = 30
MODES = {"nearest": transforms.InterpolationMode.NEAREST,
         "bilinear": transforms.InterpolationMode.BILINEAR,
         "bicubic": transforms.InterpolationMode.BICUBIC}
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
HALF = ((0.5,) * 3, (0.5,) * 3)

# (preset, filter, its steps as torchvision writes them with that filter)
OVERRIDES = [
    ("imagenet", "nearest", lambda m: [transforms.Resize(256, m), transforms.CenterCrop(224),
                                       transforms.ToTensor(), transforms.Normalize(*IMAGENET)]),
    ("imagenet", "bicubic", lambda m: [transforms.Resize(256, m), transforms.CenterCrop(224),
                                       transforms.ToTensor(), transforms.Normalize(*IMAGENET)]),
    ("timm/resnet50", "bilinear", lambda m: [transforms.Resize(235, m), transforms.CenterCrop(224),
                                             transforms.ToTensor(),
                                             transforms.Normalize(*IMAGENET)]),
    ("timm/resnet50", "nearest", lambda m: [transforms.Resize(235, m), transforms.CenterCrop(224),
                                            transforms.ToTensor(),
                                            transforms.Normalize(*IMAGENET)]),
    ("alexnet", "nearest", lambda m: [transforms.Resize((224, 224), m), transforms.ToTensor(),
                                      transforms.Normalize(*HALF)]),
    ("mnist", "nearest", lambda m: [transforms.Grayscale(), transforms.Resize(28, m),
                                    transforms.CenterCrop(28), transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))]),
]


def main():
    out = os.path.join(sys.argv[1], "image_interpolation")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261207)
    lines = resize_cases(out, rng, RESIZES, RANDOM_RESIZES, 300, Image.NEAREST, "nearest",
                         "nearest")
    photo = Image.fromarray(scene(377, 503, rng))  # landscape, odd sizes
    photo.save(os.path.join(out, "photo.png.tmp"), format="PNG")
    os.replace(os.path.join(out, "photo.png.tmp"), os.path.join(out, "photo.png"))
    for i, (preset, name, steps) in enumerate(OVERRIDES):
        tensor = transforms.Compose(steps(MODES[name]))(photo).numpy()  # [C, h, w] float32
        save_npy(os.path.join(out, f"override{i}.npy"), tensor)
        lines.append(f"override {preset} {name} photo.png override{i}.npy")
    atomic_write(os.path.join(out, "manifest.txt"), ("\n".join(lines) + "\n").encode())


if __name__ == "__main__":
    main()
