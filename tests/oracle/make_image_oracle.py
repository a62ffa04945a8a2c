"""Oracle for tests/image/: photos and made images of every kind, and what the oracle's Pillow and
torchvision (scripts/oracle-requirements.txt) make of them (decoded RGB, resized pixels, preprocessed tensors), as .npy files.

Usage: make_image_oracle.py OUT_DIR  (writes OUT_DIR/image/..., atomically per file)
Real photos come from the oracle venv's packages (sample_photos.py): matplotlib's sample data
(grace_hopper.jpg) and scikit-image's data folder; made images cover gray, RGBA, LA, palette,
1/4/16-bit PNG, progressive and CMYK JPEG, tiny images that upscale and long strips.
"""
import io
import os
import shutil
import struct
import sys
import zlib

import numpy as np
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.dirname(__file__))
import sample_photos  # noqa: E402

REAL_PHOTOS = sample_photos.photos(
    "grace_hopper.jpg", "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "retina.jpg",
    "hubble_deep_field.jpg", "motorcycle_left.png", "camera.png", "coins.png")

# name -> (resize: int | (h, w) | None, crop: int | None, mean, std)
PIPELINES = {
    "alexnet": ((224, 224), None, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "imagenet": (256, 224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "small": (100, 64, (0.1, 0.2, 0.3), (0.9, 0.8, 0.7)),
    "padded": ((120, 60), 128, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
    "short33": (33, None, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
}

# (source h, w, target h, w) for the raw resize tests: shrink, enlarge, mixed, 1-pixel, identity axis.
RESIZES = [(480, 640, 224, 224), (333, 500, 256, 384), (7, 5, 224, 224), (1, 1, 3, 4),
           (100, 100, 99, 101), (600, 10, 3000, 50), (10, 600, 50, 3000), (256, 300, 256, 224),
           (300, 256, 224, 256), (1000, 3, 17, 2), (64, 64, 1, 1), (97, 131, 512, 23)]


def atomic_write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def save_npy(path, arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    atomic_write(path, buf.getvalue())


def save_image(path, img, **kw):
    buf = io.BytesIO()
    img.save(buf, format="JPEG" if path.endswith(".jpg") else "PNG", **kw)
    atomic_write(path, buf.getvalue())


def png_bytes(raw, width, height, bit_depth, color_type, palette=None, interlace=0):
    """A minimal PNG encoder for layouts Pillow cannot write (16-bit RGB/RGBA, 4-bit gray)."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if palette is not None:
        out += chunk(b"PLTE", palette)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def scene(h, w, rng):
    """Smooth gradients plus noise and hard edges: exercises every resampling tap."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 127.5 + 127.5 * np.sin(x / max(w, 1) * 7.0 + y / max(h, 1) * 3.0)
    g = 255.0 * (x + y) / max(h + w - 2, 1)
    b = np.where(((x // 9 + y // 7) % 2) == 0, 230.0, 20.0)
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def made_images(d, rng):
    names = []
    base = scene(333, 500, rng)
    rgb = Image.fromarray(base)

    def add(name, img, **kw):
        save_image(os.path.join(d, name), img, **kw)
        names.append(name)

    add("baseline420.jpg", rgb, quality=90)
    add("baseline444.jpg", rgb, quality=95, subsampling=0)
    add("baseline422.jpg", rgb, quality=75, subsampling=1)
    add("progressive.jpg", rgb, quality=85, progressive=True)
    add("gray.jpg", rgb.convert("L"), quality=90)
    add("cmyk.jpg", rgb.convert("CMYK"), quality=90)
    add("portrait.jpg", Image.fromarray(scene(500, 333, rng)), quality=90)
    add("tiny3x5.jpg", Image.fromarray(scene(3, 5, rng)), quality=95)
    add("rgb.png", rgb)
    rgba = np.dstack([base, rng.integers(0, 256, base.shape[:2], dtype=np.uint8)])
    add("rgba.png", Image.fromarray(rgba, "RGBA"))
    add("gray.png", rgb.convert("L"))
    add("la.png", rgb.convert("LA"))
    add("palette.png", rgb.convert("P", palette=Image.ADAPTIVE, colors=200))
    pal = rgb.convert("P", palette=Image.ADAPTIVE, colors=16)
    add("palette_trns.png", pal, transparency=3)
    add("bilevel.png", rgb.convert("1"))
    add("tiny1x1.png", Image.fromarray(scene(1, 1, rng)))
    add("strip600x10.png", Image.fromarray(scene(600, 10, rng)))
    add("strip10x600.png", Image.fromarray(scene(10, 600, rng)))
    add("exact224.png", Image.fromarray(scene(224, 224, rng)))
    add("exact256x300.png", Image.fromarray(scene(256, 300, rng)))
    add("exact256x301.png", Image.fromarray(scene(256, 301, rng)))  # crop offset 38.5 -> 38
    add("exact303x256.png", Image.fromarray(scene(303, 256, rng)))  # crop offset 39.5 -> 40
    g16 = (rng.integers(0, 400, (40, 60))).astype(">u2")  # mostly above 255: Pillow's clipping
    add("gray16.png", Image.fromarray(g16.astype(np.uint16)))  # mode I;16 (Pillow 13 infers it)

    h, w = 45, 70
    rgb16 = rng.integers(0, 65536, (h, w, 3), dtype=np.uint16).astype(">u2")
    raw = b"".join(b"\x00" + rgb16[y].tobytes() for y in range(h))
    atomic_write(os.path.join(d, "rgb16.png"), png_bytes(raw, w, h, 16, 2))
    rgba16 = rng.integers(0, 65536, (h, w, 4), dtype=np.uint16).astype(">u2")
    raw = b"".join(b"\x00" + rgba16[y].tobytes() for y in range(h))
    atomic_write(os.path.join(d, "rgba16.png"), png_bytes(raw, w, h, 16, 6))
    la16 = rng.integers(0, 65536, (h, w, 2), dtype=np.uint16).astype(">u2")
    raw = b"".join(b"\x00" + la16[y].tobytes() for y in range(h))
    atomic_write(os.path.join(d, "la16.png"), png_bytes(raw, w, h, 16, 4))
    g4 = rng.integers(0, 16, (h, w), dtype=np.uint8)
    packed = (g4[:, 0::2] << 4) | g4[:, 1::2]
    raw = b"".join(b"\x00" + packed[y].tobytes() for y in range(h))
    atomic_write(os.path.join(d, "gray4.png"), png_bytes(raw, w, h, 4, 0))
    p2 = rng.integers(0, 4, (h, w + 2), dtype=np.uint8)
    packed = (p2[:, 0::4] << 6) | (p2[:, 1::4] << 4) | (p2[:, 2::4] << 2) | p2[:, 3::4]
    raw = b"".join(b"\x00" + packed[y].tobytes() for y in range(h))
    palette = bytes([10, 20, 30, 200, 100, 50, 0, 255, 0, 255, 255, 255])
    atomic_write(os.path.join(d, "palette2.png"), png_bytes(raw, w + 2, h, 2, 3, palette))
    # Adam7 interlaced 8-bit RGB: seven passes of sub-images, each row with filter type 0.
    adam7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
             (0, 1, 1, 2)]
    inter = scene(37, 53, rng)
    raw = b""
    for x0, y0, dx, dy in adam7:
        sub = inter[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\x00" + row.tobytes() for row in sub)
    atomic_write(os.path.join(d, "interlaced.png"), png_bytes(raw, 53, 37, 8, 2, interlace=1))
    if not np.array_equal(np.asarray(Image.open(os.path.join(d, "interlaced.png"))), inter):
        raise SystemExit("oracle: the interlaced PNG does not decode to its pixels")
    names += ["rgb16.png", "rgba16.png", "la16.png", "gray4.png", "palette2.png", "interlaced.png"]
    return names


def bad_images(d, good_jpg, good_png):
    """Files every reader must refuse with a one-line error (names listed in bad.txt)."""
    jpg = open(good_jpg, "rb").read()
    png = open(good_png, "rb").read()
    atomic_write(os.path.join(d, "bad_empty.jpg"), b"")
    atomic_write(os.path.join(d, "bad_truncated.jpg"), jpg[: len(jpg) // 2])
    atomic_write(os.path.join(d, "bad_truncated.png"), png[: len(png) // 2])
    atomic_write(os.path.join(d, "bad_header_only.jpg"), jpg[:20])
    atomic_write(os.path.join(d, "bad_text.png"), b"this is not an image at all\n")
    # A valid PNG header announcing 100000 x 100000 pixels, and a JPEG announcing 60000 x 60000.
    huge = png_bytes(b"\x00" * 4, 100000, 100000, 8, 2)
    atomic_write(os.path.join(d, "bad_huge.png"), huge)
    sof = jpg.find(b"\xff\xc0")
    big = bytearray(jpg)
    big[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    atomic_write(os.path.join(d, "bad_huge.jpg"), bytes(big))
    names = ["bad_empty.jpg", "bad_truncated.jpg", "bad_truncated.png", "bad_header_only.jpg",
             "bad_text.png", "bad_huge.png", "bad_huge.jpg"]
    for n in names:  # the oracle agrees they are bad
        try:
            Image.open(os.path.join(d, n)).convert("RGB")
        except Exception:
            continue
        raise SystemExit(f"oracle: Pillow accepted {n}")
    return names


def pipeline(name):
    resize, crop, mean, std = PIPELINES[name]
    steps = [transforms.Resize(resize)]  # bilinear, PIL path
    if crop:
        steps.append(transforms.CenterCrop(crop))
    return transforms.Compose(steps), transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize(mean, std)])


def pipeline_fields(name):
    resize, crop, mean, std = PIPELINES[name]
    short = resize if isinstance(resize, int) else 0
    rh, rw = (0, 0) if isinstance(resize, int) else resize
    return [str(short), str(rh), str(rw), str(crop or 0)] + [repr(float(v)) for v in mean + std]


def main():
    out = os.path.join(sys.argv[1], "image")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20240604)
    names = made_images(out, rng)
    for src in REAL_PHOTOS:
        if os.path.exists(src):
            name = "photo_" + os.path.basename(src)
            shutil.copyfile(src, os.path.join(out, name + ".tmp"))
            os.replace(os.path.join(out, name + ".tmp"), os.path.join(out, name))
            names.append(name)
    lines = []
    for name in names:
        img = Image.open(os.path.join(out, name)).convert("RGB")
        stem = name.replace(".", "_")
        save_npy(os.path.join(out, stem + ".rgb.npy"), np.asarray(img))
        lines.append(f"decode {name} {stem}.rgb.npy")
        for p in PIPELINES:
            geometry, to_tensor = pipeline(p)
            picture = geometry(img)
            save_npy(os.path.join(out, f"{stem}.{p}.picture.npy"), np.asarray(picture))
            save_npy(os.path.join(out, f"{stem}.{p}.tensor.npy"), to_tensor(picture).numpy())
            lines.append(" ".join(["pipeline", name, p] + pipeline_fields(p)
                                  + [f"{stem}.{p}.tensor.npy", f"{stem}.{p}.picture.npy"]))
    for i, (h, w, th, tw) in enumerate(RESIZES):
        src = scene(h, w, rng)
        dst = np.asarray(Image.fromarray(src).resize((tw, th), Image.BILINEAR))
        save_npy(os.path.join(out, f"resize{i}.src.npy"), src)
        save_npy(os.path.join(out, f"resize{i}.dst.npy"), dst)
        lines.append(f"resize resize{i}.src.npy {th} {tw} resize{i}.dst.npy")
    for bad in bad_images(out, os.path.join(out, "baseline420.jpg"), os.path.join(out, "rgb.png")):
        lines.append(f"bad {bad}")
    atomic_write(os.path.join(out, "manifest.txt"), ("\n".join(lines) + "\n").encode())


if __name__ == "__main__":
    main()
