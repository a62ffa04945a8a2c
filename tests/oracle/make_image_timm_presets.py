"""Oracle for tests/image/test_layout_presets.cpp's timm presets, and the generator and check of
their C++ table: for each timm arch cnnscope knows, the preset "timm/<name>" is
timm.data.create_transform(**resolve_data_config({}, model=timm.create_model(name))) (timm's
pretrained_cfg of the default tag: interpolation, crop_pct, mean/std, input size; crop_mode
'center', Resize(floor(size / crop_pct)) of the shorter side, CenterCrop(size)).

Usage: make_image_timm_presets.py OUT_DIR   checks src/image/presets.cpp's "timm/" rows equal
                                            timm's configs (exit 1 naming the first that differs)
                                            and writes OUT_DIR/image_timm/: two photos as PNG,
                                            timm's tensor of each distinct pipeline on one of
                                            them, in turn (.npy) and manifest.txt ("timm PRESET
                                            PHOTO NPY")
       make_image_timm_presets.py --table   prints the C++ rows (paste them into presets.cpp)
Leaves out configs other than crop_mode 'center' with a square input size (refused: none of these
archs has one in timm 1.0.31).
"""
import math
import os
import re
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from make_image_oracle import atomic_write, save_npy  # noqa: E402
import sample_photos  # noqa: E402

ARCHS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet50d",
         "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "seresnext50_32x4d",
         "wide_resnet50_2", "wide_resnet101_2", "efficientnet_b0", "efficientnet_b1",
         "efficientnet_b2", "efficientnet_b3", "tf_efficientnet_b0", "tf_efficientnetv2_s",
         "mobilenetv2_100", "mobilenetv3_large_100", "mobilenetv3_small_100", "convnext_tiny",
         "convnext_small", "convnext_base", "convnext_large", "convnext_xlarge", "regnetx_008",
         "regnety_008", "regnety_016", "regnety_032", "densenet121", "inception_v3"]

# presets.cpp's constant names for the mean/std tuples timm uses
CONSTANTS = {(0.485, 0.456, 0.406): "kImageNetMean", (0.229, 0.224, 0.225): "kImageNetStd",
             (0.5, 0.5, 0.5): "kHalf"}
INTERPOLATIONS = {"bilinear": "kBilinear", "bicubic": "kBicubic", "nearest": "kNearest"}
PRESETS_CPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "image",
                           "presets.cpp")


def data_config(name):
    """timm's resolved data config of `name` (the model built on the meta device: same config,
    no weights allocated)."""
    import timm
    import timm.data
    with torch.device("meta"):
        model = timm.create_model(name, pretrained=False)
    return timm.data.resolve_data_config({}, model=model)


def row(name, cfg):
    """The C++ table row of timm/<name> (resize = floor(size / crop_pct), crop = size)."""
    _, h, w = cfg["input_size"]
    if h != w or cfg.get("crop_mode", "center") != "center":
        sys.exit(f"timm/{name}: input {h}x{w}, crop_mode {cfg.get('crop_mode')}: not supported")
    resize = math.floor(h / cfg["crop_pct"])
    mean, std = (CONSTANTS[tuple(cfg[k])] for k in ("mean", "std"))
    return (f'{{"timm/{name}", {resize}, {h}, {INTERPOLATIONS[cfg["interpolation"]]}, {mean}, '
            f'{std}}},')


def check_table(rows):
    """presets.cpp's timm rows must be `rows`, in order."""
    with open(PRESETS_CPP) as f:
        have = [line.strip() for line in f if re.match(r'\s*\{"timm/', line)]
    for want, got in zip(rows, have + [""] * len(rows)):
        if want != got:
            sys.exit(f"src/image/presets.cpp differs from timm: want\n  {want}\ngot\n  {got}\n"
                     f"(regenerate with {os.path.basename(__file__)} --table)")
    if len(have) != len(rows):
        sys.exit(f"src/image/presets.cpp has {len(have)} timm rows, timm {len(rows)}")


def main():
    import timm.data
    configs = {name: data_config(name) for name in ARCHS}
    rows = [row(name, cfg) for name, cfg in configs.items()]
    if sys.argv[1] == "--table":
        print("\n".join(rows))
        return
    check_table(rows)
    out = os.path.join(sys.argv[1], "image_timm")
    os.makedirs(out, exist_ok=True)
    # a portrait photo larger than every crop, a landscape one whose shorter side (300) is enlarged
    # by the larger presets
    paths = sample_photos.photos("grace_hopper.jpg", "chelsea.png")
    if len(paths) != 2:
        sys.exit("sample photos missing (matplotlib, scikit-image in the oracle venv)")
    photos = []
    for i, path in enumerate(paths):
        name = f"photo{i}.png"
        Image.open(path).convert("RGB").save(os.path.join(out, name + ".tmp"), format="PNG")
        os.replace(os.path.join(out, name + ".tmp"), os.path.join(out, name))
        photos.append(name)
    lines, written = [], {}
    for arch, cfg in configs.items():
        transform = timm.data.create_transform(**cfg)
        key = repr(transform)  # one .npy per distinct pipeline, the photos taking turns
        if key not in written:
            written[key] = len(written)
            photo = photos[written[key] % len(photos)]
            with Image.open(os.path.join(out, photo)) as img:
                tensor = transform(img.convert("RGB")).numpy()  # [3, size, size] float32
            save_npy(os.path.join(out, f"pipeline{written[key]}.npy"), tensor)
        photo = photos[written[key] % len(photos)]
        lines.append(f"timm timm/{arch} {photo} pipeline{written[key]}.npy")
    atomic_write(os.path.join(out, "manifest.txt"), ("\n".join(lines) + "\n").encode())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main()
