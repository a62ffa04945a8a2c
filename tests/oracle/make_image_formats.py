"""Oracle for the BMP, GIF, WebP and TIFF readers (and odd JPEG/PNG files): made images of every
format and mode, and what the oracle's Pillow makes of them with Image.open(p).convert("RGB").

Usage: make_image_formats.py OUT_DIR  (writes OUT_DIR/image/formats/..., atomically per file)
Pillow decides each case: a file it decodes gets a `decode NAME NAME.rgb.npy` line in
formats/manifest.txt, a file it refuses a `bad NAME` line (the reader must refuse it too). Files
Pillow cannot write (tiled TIFF, 16-bit BMP, RLE8 BMP, GIF with a frame inside a larger screen)
are written by the small encoders below. Real files from the oracle venv's packages (every image
in matplotlib's sample data and scikit-image's data folder: multi-page TIFFs, an animated GIF,
RGBA and palette PNGs, JPEGs) join as `real_<name>`.
"""
import io
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from make_image_oracle import atomic_write, save_npy, scene  # noqa: E402
import sample_photos  # noqa: E402

REAL_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp")


def real_files():
    """Every image file shipped in the oracle venv's sample-data folders, by name."""
    found = {}
    for d in sample_photos.photo_dirs():
        for name in sorted(os.listdir(d)):
            if name.lower().endswith(REAL_EXTENSIONS):
                with open(os.path.join(d, name), "rb") as f:
                    found["real_" + name] = f.read()
    return found


def saved(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def tiff_bytes(arr, photometric, bps=8, tile=None, compression=1, extras=(), colormap=None,
               big_endian=False):
    """A minimal TIFF writer: one strip or square tiles, contiguous samples, none or Deflate."""
    e = ">" if big_endian else "<"
    h, w = arr.shape[:2]
    spp = 1 if arr.ndim == 2 else arr.shape[2]
    arr = arr.astype(e + ("u2" if bps == 16 else "u1"))
    if tile:
        blocks = []
        for y in range(0, h, tile):
            for x in range(0, w, tile):
                t = np.zeros((tile, tile) + arr.shape[2:], arr.dtype)
                part = arr[y:y + tile, x:x + tile]
                t[:part.shape[0], :part.shape[1]] = part
                blocks.append(t.tobytes())
    else:
        blocks = [arr.tobytes()]
    if compression == 8:
        blocks = [zlib.compress(b) for b in blocks]
    data = b"".join(blocks)
    offsets, pos = [], 8
    for b in blocks:
        offsets.append(pos)
        pos += len(b)
    tags = {256: (4, [w]), 257: (4, [h]), 258: (3, [bps] * spp), 259: (3, [compression]),
            262: (3, [photometric]), 277: (3, [spp])}
    if tile:
        tags.update({322: (4, [tile]), 323: (4, [tile]), 324: (4, offsets),
                     325: (4, [len(b) for b in blocks])})
    else:
        tags.update({273: (4, offsets), 278: (4, [h]), 279: (4, [len(blocks[0])])})
    if extras:
        tags[338] = (3, list(extras))
    if colormap is not None:
        tags[320] = (3, list(colormap))
    ifd_at = pos + (pos & 1)
    extra_at = ifd_at + 2 + 12 * len(tags) + 4
    entries, extra = b"", b""
    for tag in sorted(tags):
        typ, vals = tags[tag]
        raw = b"".join(struct.pack(e + ("H" if typ == 3 else "I"), v) for v in vals)
        if len(raw) <= 4:
            field = raw.ljust(4, b"\0")
        else:
            field = struct.pack(e + "I", extra_at + len(extra))
            extra += raw
        entries += struct.pack(e + "HHI", tag, typ, len(vals)) + field
    head = (b"MM\0*" if big_endian else b"II*\0") + struct.pack(e + "I", ifd_at)
    return (head + data + b"\0" * (ifd_at - pos) + struct.pack(e + "H", len(tags)) + entries
            + b"\0\0\0\0" + extra)


def bmp_bytes(pixel_rows, width, height, bits, compression=0, palette=b"", masks=(),
              top_down=False):
    """A BMP with a 40-byte header (+ masks after it for BITFIELDS), rows given as stored."""
    data = b"".join(pixel_rows)
    offset = 14 + 40 + len(masks) * 4 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, width, -height if top_down else height, 1, bits,
                       compression, len(data), 2835, 2835, len(palette) // 4, 0)
    extra = b"".join(struct.pack("<I", m) for m in masks)
    return b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + info + extra + \
        palette + data


def gif_bytes(screen, frame_box, indices, palette, transparency=None, local=False):
    """A GIF89a with one frame at frame_box (x, y, w, h) inside screen (w, h); LZW with a clear code
    every 2 pixels so the code size never grows (a valid, if poor, encoder)."""
    sw, sh = screen
    x0, y0, fw, fh = frame_box
    bits = max(2, (len(palette) // 3 - 1).bit_length())
    table = b"".join([palette.ljust(3 << bits, b"\0")])
    flags = 0x80 | (bits - 1)
    out = b"GIF89a" + struct.pack("<HHBBB", sw, sh, 0 if local else flags, 0, 0)
    if not local:
        out += table
    if transparency is not None:
        out += b"!\xf9\x04" + bytes([1, 0, 0, transparency]) + b"\0"
    out += b"," + struct.pack("<HHHHB", x0, y0, fw, fh, flags if local else 0)
    if local:
        out += table
    clear, end, size = 1 << bits, (1 << bits) + 1, bits + 1
    acc, nbits, stream = 0, 0, bytearray()

    def put(code):
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += size
        while nbits >= 8:
            stream.append(acc & 255)
            acc >>= 8
            nbits -= 8
    flat = indices.reshape(-1).tolist()
    for i, v in enumerate(flat):
        if i % 2 == 0:
            put(clear)
        put(v)
    put(end)
    if nbits:
        stream.append(acc & 255)
    out += bytes([bits])
    for i in range(0, len(stream), 255):
        out += bytes([len(stream[i:i + 255])]) + stream[i:i + 255]
    return out + b"\0;"


def cases(rng):
    base = scene(61, 83, rng)
    rgb = Image.fromarray(base)
    rgba = Image.fromarray(np.dstack([base, rng.integers(0, 256, base.shape[:2], np.uint8)]))
    pal = rgb.convert("P", palette=Image.ADAPTIVE, colors=50)
    out = {}
    # BMP: Pillow's writer (24-bit, 8-bit palette and gray, 1-bit, 32-bit) and hand-made layouts.
    out["rgb.bmp"] = saved(rgb, "BMP")
    out["palette.bmp"] = saved(pal, "BMP")
    out["gray.bmp"] = saved(rgb.convert("L"), "BMP")
    out["bilevel.bmp"] = saved(rgb.convert("1"), "BMP")
    out["rgba.bmp"] = saved(rgba, "BMP")
    h, w = 13, 21
    v16 = rng.integers(0, 65536, (h, w), dtype=np.uint16)
    rows = [(v16[y].astype("<u2").tobytes()).ljust((w * 2 + 3) & ~3, b"\0") for y in range(h)]
    out["rgb555.bmp"] = bmp_bytes(rows, w, h, 16)
    out["rgb565.bmp"] = bmp_bytes(rows, w, h, 16, 3, masks=(0xF800, 0x7E0, 0x1F))
    out["topdown.bmp"] = bmp_bytes([base[y, :, ::-1].tobytes().ljust((83 * 3 + 3) & ~3, b"\0")
                                    for y in range(61)], 83, 61, 24, top_down=True)
    p16 = bytes(rng.integers(0, 256, 16 * 4, dtype=np.uint8))
    i4 = rng.integers(0, 16, (h, w + 1), dtype=np.uint8)
    rows = [((i4[y, 0::2] << 4) | i4[y, 1::2]).tobytes().ljust(((w * 4 + 31) >> 3) & ~3, b"\0")
            for y in range(h)]
    out["palette4.bmp"] = bmp_bytes(rows, w, h, 4, palette=p16)
    rle = b""
    for y in range(h):  # runs, an absolute run, end of line
        rle += bytes([5, y % 16, 4, 7]) + bytes([0, 5]) + bytes(rng.integers(0, 16, 5)) + b"\0"
        rle += bytes([w - 14, 3]) + b"\0\0"
    out["rle8.bmp"] = bmp_bytes([rle + b"\0\1"], w, h, 8, 1, palette=p16)
    # Header sizes whose product overflows 64 bits (found by fuzz_decode): refused, no pixels.
    out["huge_dims.bmp"] = bmp_bytes([b"\0" * 8], 0x7FFFFFFF, 0x7FFFFFFF, 24)
    # GIF: Pillow's writer (palette, gray, transparency) and a frame inside a larger screen.
    out["palette.gif"] = saved(pal, "GIF")
    out["gray.gif"] = saved(rgb.convert("L"), "GIF")
    out["transparent.gif"] = saved(pal, "GIF", transparency=3)
    out["interlaced.gif"] = saved(pal, "GIF", interlace=True)
    frames = [pal, rgb.rotate(90).convert("P", palette=Image.ADAPTIVE, colors=30)]
    out["animated.gif"] = saved(frames[0], "GIF", save_all=True, append_images=frames[1:])
    idx = rng.integers(0, 8, (9, 11), dtype=np.uint8)
    p8 = bytes(rng.integers(0, 256, 8 * 3, dtype=np.uint8))
    out["subframe.gif"] = gif_bytes((20, 15), (4, 3, 11, 9), idx, p8)
    out["subframe_trns.gif"] = gif_bytes((20, 15), (4, 3, 11, 9), idx, p8, transparency=5)
    out["local_palette.gif"] = gif_bytes((11, 9), (0, 0, 11, 9), idx, p8, local=True)
    # WebP: lossy, lossless, lossy with alpha, an animation's first frame.
    out["lossy.webp"] = saved(rgb, "WEBP", quality=80)
    out["lossless.webp"] = saved(rgb, "WEBP", lossless=True)
    out["alpha.webp"] = saved(rgba, "WEBP", quality=70)
    out["animated.webp"] = saved(rgb, "WEBP", save_all=True, append_images=[rgb.rotate(90)])
    # TIFF: Pillow's writer (modes x compressions) and hand-made tiles, 16 bit, big-endian.
    for comp in ("raw", "tiff_lzw", "tiff_adobe_deflate", "packbits"):
        out[f"rgb_{comp}.tif"] = saved(rgb, "TIFF", compression=comp)
    out["gray.tif"] = saved(rgb.convert("L"), "TIFF", compression="tiff_lzw")
    out["bilevel.tif"] = saved(rgb.convert("1"), "TIFF")
    out["palette.tif"] = saved(pal, "TIFF", compression="packbits")
    out["cmyk.tif"] = saved(rgb.convert("CMYK"), "TIFF", compression="tiff_lzw")
    out["rgba.tif"] = saved(rgba, "TIFF", compression="tiff_adobe_deflate")
    out["jpeg.tif"] = saved(rgb, "TIFF", compression="jpeg")
    g16 = rng.integers(0, 400, (40, 50)).astype(np.uint16)
    out["gray16.tif"] = tiff_bytes(g16, 1, 16)
    out["gray16_be.tif"] = tiff_bytes(g16, 1, 16, big_endian=True)
    out["gray16_white.tif"] = tiff_bytes(g16, 0, 16)
    out["gray_white.tif"] = tiff_bytes(base[..., 0], 0)
    out["tiled.tif"] = tiff_bytes(base, 2, tile=16)
    out["tiled_deflate.tif"] = tiff_bytes(base, 2, tile=32, compression=8)
    rgb16 = rng.integers(0, 65536, (30, 40, 3), dtype=np.uint16)
    out["rgb16.tif"] = tiff_bytes(rgb16, 2, 16, compression=8)
    out["rgb16_be_tiled.tif"] = tiff_bytes(rgb16, 2, 16, tile=16, big_endian=True)
    premult = np.dstack([base, rng.integers(0, 256, base.shape[:2], np.uint8)])
    premult[..., :3] = (premult[..., :3].astype(int) * premult[..., 3:] // 255).astype(np.uint8)
    out["rgba_assoc.tif"] = tiff_bytes(premult, 2, extras=(1,))
    out["rgbx.tif"] = tiff_bytes(premult, 2, extras=(0,))
    cmyk16 = rng.integers(0, 65536, (20, 30, 4), dtype=np.uint16)
    out["cmyk16.tif"] = tiff_bytes(cmyk16, 5, 16)
    # Odd JPEG and PNG files: junk before a marker, damaged entropy data, a bad IDAT CRC, palette
    # indices past the palette, an unknown compression method, an APNG with a sequence error.
    jpg = saved(rgb, "JPEG", quality=90)
    dqt = jpg.find(b"\xff\xdb")
    out["junk_before_marker.jpg"] = jpg[:dqt] + b"\x00\x17junk" + jpg[dqt:]
    sos = jpg.find(b"\xff\xda")
    out["junk_before_sos.jpg"] = jpg[:sos] + b"\x12\x34" + jpg[sos:]
    damaged = bytearray(jpg)
    for i in range(sos + 200, len(jpg) - 200, 97):
        damaged[i] = (damaged[i] * 7 + 1) & 0xFE  # keeps clear of 0xFF (no false markers)
    out["damaged_data.jpg"] = bytes(damaged)
    png = saved(rgb, "PNG")
    idat = png.find(b"IDAT")
    length = struct.unpack(">I", png[idat - 4:idat])[0]
    crc_at = idat + 4 + length
    out["bad_idat_crc.png"] = png[:crc_at] + bytes([png[crc_at] ^ 0x55]) + png[crc_at + 1:]
    out["oversized_idat.png"] = (png[:idat - 4] + struct.pack(">I", length + 100000)
                                 + png[idat:crc_at])  # declares more than the file holds
    out["bad_ihdr_crc.png"] = png[:29] + bytes([png[29] ^ 1]) + png[30:]
    out["unknown_compression.png"] = png[:26] + b"\x01" + png[27:]
    pal_raw = b"".join(b"\x00" + bytes(rng.integers(0, 256, 9, dtype=np.uint8)) for _ in range(5))
    from make_image_oracle import png_bytes
    out["palette_overflow.png"] = png_bytes(pal_raw, 9, 5, 8, 3, bytes(range(12)))
    apng = saved(rgb, "PNG", save_all=True, append_images=[rgb.rotate(90)])
    fctl = apng.find(b"fcTL", apng.find(b"fcTL") + 4)
    out["apng_sequence_error.png"] = apng[:fctl + 4] + b"\x00\x00\x00\x09" + apng[fctl + 8:]
    # Damaged files: every format cut in half, and bad headers.
    for name in ["rgb.bmp", "rle8.bmp", "palette.gif", "lossy.webp", "lossless.webp",
                 "rgb_tiff_lzw.tif", "rgb_raw.tif", "tiled_deflate.tif"]:
        out["cut_" + name] = out[name][: len(out[name]) // 2]
    out["cut_header.bmp"] = out["rgb.bmp"][:30]
    out["cut_header.gif"] = out["palette.gif"][:10]
    out["cut_header.tif"] = out["rgb_raw.tif"][:6]
    big = bytearray(out["rgb.bmp"])
    big[18:26] = struct.pack("<ii", 60000, 60000)
    out["huge.bmp"] = bytes(big)
    out["huge.tif"] = tiff_bytes(np.zeros((1, 1), np.uint8), 1).replace(struct.pack("<HHII", 256, 4, 1, 1),
                                               struct.pack("<HHII", 256, 4, 1, 90000)).replace(
        struct.pack("<HHII", 257, 4, 1, 1), struct.pack("<HHII", 257, 4, 1, 90000))
    out["huge.gif"] = gif_bytes((60000, 60000), (0, 0, 2, 2), np.zeros((2, 2), np.uint8), p8)
    return out


def main():
    out = os.path.join(sys.argv[1], "image", "formats")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261128)
    lines = []
    for name, data in {**cases(rng), **real_files()}.items():
        path = os.path.join(out, name)
        atomic_write(path, data)
        try:
            img = np.asarray(Image.open(path).convert("RGB"))
        except Exception as e:  # Pillow refuses it: so must cnnscope
            lines.append(f"bad {name} {type(e).__name__}")
            continue
        save_npy(os.path.join(out, name + ".rgb.npy"), img)
        lines.append(f"decode {name} {name}.rgb.npy")
    atomic_write(os.path.join(out, "manifest.txt"), ("\n".join(lines) + "\n").encode())
    print("\n".join(lines))


if __name__ == "__main__":
    main()
