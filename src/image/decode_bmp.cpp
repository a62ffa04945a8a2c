// BMP, read here (Pillow uses its own reader, not a library, and Debian has no BMP library that
// follows Pillow's choices): OS/2 (12-byte) and Windows (40..124-byte) headers, 1/4/8-bit palettes,
// RLE4/RLE8, 16/24/32-bit raw and the bitfield layouts Pillow knows, bottom-up and top-down.
// Leaves out (refused like Pillow): JPEG/PNG payloads, other bitfield masks, other depths.
// Spec: Pillow BmpImagePlugin.py (BmpImageFile._bitmap, BmpRleDecoder), Unpack.c.
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "image/decode_internal.h"

namespace cnnscope {
namespace {

constexpr uint32_t kRaw = 0, kRle8 = 1, kRle4 = 2, kBitfields = 3;

uint32_t u16(const uint8_t* p) {
  return p[0] | (p[1] << 8);
}
uint32_t u32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// How one stored pixel becomes RGB.
enum class Layout {
  kPalette,
  kBgr15,
  kBgr16,
  kBgr,
  kBgrx,
  kXbgr,
  kBgxr,
  kAbgr,
  kRgba,
  kBgra,
  kBgar
};

struct Bmp {
  int64_t width = 0, height = 0;
  bool top_down = false;
  int bits = 0;
  uint32_t compression = kRaw;
  uint32_t colors = 0;
  Layout layout = Layout::kPalette;
  bool gray = false;  // Pillow's mode "1"/"L": the pixel is its index (palette is the ramp)
  std::array<std::array<uint8_t, 3>, 256> palette{};
  size_t offset = 0;  // pixel data
};

Layout bitfield_layout(const std::string& path, int bits, const std::array<uint32_t, 4>& m) {
  auto is = [&](uint32_t r, uint32_t g, uint32_t b, uint32_t a) {
    return m[0] == r && m[1] == g && m[2] == b && m[3] == a;
  };
  auto is_rgb = [&](uint32_t r, uint32_t g, uint32_t b) {
    return m[0] == r && m[1] == g && m[2] == b;
  };
  if (bits == 32) {
    if (is(0xFF0000, 0xFF00, 0xFF, 0)) return Layout::kBgrx;
    if (is(0xFF000000, 0xFF0000, 0xFF00, 0)) return Layout::kXbgr;
    if (is(0xFF000000, 0xFF00, 0xFF, 0)) return Layout::kBgxr;
    if (is(0xFF000000, 0xFF0000, 0xFF00, 0xFF)) return Layout::kAbgr;
    if (is(0xFF, 0xFF00, 0xFF0000, 0xFF000000)) return Layout::kRgba;
    if (is(0xFF0000, 0xFF00, 0xFF, 0xFF000000)) return Layout::kBgra;
    if (is(0xFF000000, 0xFF00, 0xFF, 0xFF0000)) return Layout::kBgar;
    if (is(0, 0, 0, 0)) return Layout::kBgra;
  } else if (bits == 24 && is_rgb(0xFF0000, 0xFF00, 0xFF)) {
    return Layout::kBgr;
  } else if (bits == 16 && is_rgb(0xF800, 0x7E0, 0x1F)) {
    return Layout::kBgr16;
  } else if (bits == 16 && is_rgb(0x7C00, 0x3E0, 0x1F)) {
    return Layout::kBgr15;
  }
  fail(path, "unsupported BMP bitfields layout", "Pillow refuses it too");
}

Bmp read_header(const std::string& path, const uint8_t* data, size_t size) {
  auto need = [&](size_t end) {
    if (end > size) fail(path, "truncated BMP header", "the file is cut short");
  };
  need(18);
  Bmp bmp;
  bmp.offset = u32(data + 10);
  const uint32_t header_size = u32(data + 14);
  need(14 + static_cast<size_t>(header_size));
  const uint8_t* h = data + 18;   // the header after its size field
  size_t pos = 14 + header_size;  // where the file is read on (masks, palette)
  int palette_padding = 4;
  std::array<uint32_t, 4> masks{};
  if (header_size == 12) {
    bmp.width = u16(h);
    bmp.height = u16(h + 2);
    bmp.bits = static_cast<int>(u16(h + 6));
    palette_padding = 3;
  } else if (header_size == 40 || header_size == 52 || header_size == 56 || header_size == 64 ||
             header_size == 108 || header_size == 124) {
    bmp.top_down = h[7] == 0xFF;
    bmp.width = u32(h);
    bmp.height = bmp.top_down ? (int64_t{1} << 32) - u32(h + 4) : u32(h + 4);
    bmp.bits = static_cast<int>(u16(h + 10));
    bmp.compression = u32(h + 12);
    bmp.colors = u32(h + 28);
    if (bmp.compression == kBitfields) {
      if (header_size - 4 >= 48) {
        for (int i = 0; i < (header_size - 4 >= 52 ? 4 : 3); ++i) masks[i] = u32(h + 36 + 4 * i);
      } else {
        need(pos + 12);
        for (int i = 0; i < 3; ++i) masks[i] = u32(data + pos + 4 * i);
        pos += 12;
      }
    }
  } else {
    fail(path, "unsupported BMP header type (" + std::to_string(header_size) + ")",
         "Pillow refuses it too");
  }
  check_dimensions(path, bmp.width, bmp.height);
  if (bmp.colors == 0) bmp.colors = bmp.bits < 32 ? 1u << bmp.bits : 0;
  if (bmp.offset == 14 + header_size && bmp.bits <= 8)
    bmp.offset += static_cast<size_t>(palette_padding) * bmp.colors;
  switch (bmp.bits) {
    case 1:
    case 4:
    case 8:
      bmp.layout = Layout::kPalette;
      break;
    case 16:
      bmp.layout = Layout::kBgr15;
      break;
    case 24:
      bmp.layout = Layout::kBgr;
      break;
    case 32:
      bmp.layout = Layout::kBgrx;
      break;
    default:
      fail(path, "unsupported BMP pixel depth (" + std::to_string(bmp.bits) + ")",
           "Pillow refuses it too");
  }
  if (bmp.compression == kBitfields) {
    bmp.layout = bitfield_layout(path, bmp.bits, masks);
  } else if (bmp.compression != kRaw && bmp.compression != kRle8 && bmp.compression != kRle4) {
    fail(path, "unsupported BMP compression (" + std::to_string(bmp.compression) + ")",
         "Pillow refuses it too (JPEG or PNG inside a BMP)");
  }
  if (bmp.layout == Layout::kPalette) {
    if (bmp.colors == 0 || bmp.colors > 65536)
      fail(path, "unsupported BMP palette size (" + std::to_string(bmp.colors) + ")",
           "Pillow refuses it too");
    // Pillow reads what is there (a short read gives a short palette).
    const size_t bytes = std::min<size_t>(size - std::min(size, pos),
                                          static_cast<size_t>(palette_padding) * bmp.colors);
    const uint8_t* p = data + pos;
    bmp.gray = true;
    for (uint32_t i = 0; i < bmp.colors; ++i) {
      const uint32_t want = bmp.colors == 2 ? (i ? 255 : 0) : i;
      const size_t at = static_cast<size_t>(i) * palette_padding;
      // A palette entry cut short compares unequal, as Python's bytes slices do.
      if (at + 3 > bytes || p[at] != want || p[at + 1] != want || p[at + 2] != want)
        bmp.gray = false;
    }
    for (size_t i = 0; i < std::min<size_t>(256, bmp.colors); ++i) {
      const size_t at = i * palette_padding;
      if (at + 3 <= bytes) bmp.palette[i] = {p[at + 2], p[at + 1], p[at]};
    }
  }
  return bmp;
}

// Pillow's BmpRleDecoder: indices in file order (bottom row first unless top-down). Returns
// false when the data ends before every pixel is set (Pillow: "not enough image data").
bool decode_rle(const Bmp& bmp, const uint8_t* data, size_t size, std::vector<uint8_t>* out) {
  const bool rle4 = bmp.compression == kRle4;
  const size_t xsize = static_cast<size_t>(bmp.width);
  const size_t total = xsize * static_cast<size_t>(bmp.height);
  std::vector<uint8_t>& d = *out;
  d.clear();
  d.reserve(total);
  size_t pos = bmp.offset, x = 0;
  while (d.size() < total) {
    if (pos + 2 > size) break;
    size_t count = data[pos];
    const uint8_t byte = data[pos + 1];
    pos += 2;
    if (count) {
      if (x + count > xsize) count = x < xsize ? xsize - x : 0;
      for (size_t i = 0; i < count; ++i)
        d.push_back(rle4 ? (i % 2 == 0 ? byte >> 4 : byte & 0x0F) : byte);
      x += count;
    } else if (byte == 0) {
      while (d.size() % xsize != 0) d.push_back(0);
      x = 0;
    } else if (byte == 1) {
      break;
    } else if (byte == 2) {
      if (pos + 2 > size) break;
      const size_t right = data[pos], up = data[pos + 1];
      pos += 2;
      d.resize(d.size() + std::min(total - d.size(), right + up * xsize), 0);
      x = d.size() % xsize;
    } else {
      const size_t wanted = std::min<size_t>(total - d.size(), byte);
      const size_t byte_count = rle4 ? (wanted + 1) / 2 : wanted;
      const size_t got = std::min(byte_count, size - std::min(size, pos));
      for (size_t i = 0; i < got; ++i) {
        const uint8_t b = data[pos + i];
        if (rle4) {
          d.push_back(b >> 4);
          if (i * 2 + 1 < wanted) d.push_back(b & 0x0F);
        } else {
          d.push_back(b);
        }
      }
      pos += got;
      if (got < byte_count || d.size() == total) break;
      x += byte;
      if (pos % 2 != 0) ++pos;
    }
  }
  if (d.size() > total) d.resize(total);
  return d.size() == total;
}

void store_pixel(const Bmp& bmp, const uint8_t* p, uint8_t* o) {
  // Pillow's BGR;15 / BGR;16 unpackers: v * 255 / max, truncated.
  auto scale5 = [](uint32_t v) { return static_cast<uint8_t>(v * 255 / 31); };
  auto scale6 = [](uint32_t v) { return static_cast<uint8_t>(v * 255 / 63); };
  switch (bmp.layout) {
    case Layout::kBgr15: {
      const uint32_t v = u16(p);
      o[0] = scale5((v >> 10) & 31), o[1] = scale5((v >> 5) & 31), o[2] = scale5(v & 31);
      return;
    }
    case Layout::kBgr16: {
      const uint32_t v = u16(p);
      o[0] = scale5((v >> 11) & 31), o[1] = scale6((v >> 5) & 63), o[2] = scale5(v & 31);
      return;
    }
    case Layout::kBgr:
    case Layout::kBgrx:
    case Layout::kBgra:
      o[0] = p[2], o[1] = p[1], o[2] = p[0];
      return;
    case Layout::kXbgr:
    case Layout::kAbgr:
      o[0] = p[3], o[1] = p[2], o[2] = p[1];
      return;
    case Layout::kBgxr:
    case Layout::kBgar:
      o[0] = p[3], o[1] = p[1], o[2] = p[0];
      return;
    case Layout::kRgba:
      o[0] = p[0], o[1] = p[1], o[2] = p[2];
      return;
    case Layout::kPalette:
      return;
  }
}

}  // namespace

at::Tensor decode_bmp(const std::string& path, const uint8_t* data, size_t size) {
  const Bmp bmp = read_header(path, data, size);
  const int64_t w = bmp.width, h = bmp.height;
  auto color = [&](uint32_t index, uint8_t* o) {
    if (bmp.gray) {
      // Mode "1" (two-entry ramp) maps 1 to 255 as the raw 1-bit unpacker does.
      const uint8_t v = bmp.colors == 2 && bmp.bits == 1 ? (index ? 255 : 0) : index;
      o[0] = o[1] = o[2] = v;
    } else {
      std::memcpy(o, bmp.palette[index].data(), 3);
    }
  };
  at::Tensor rgb = new_rgb(path, w, h);  // [H, W, 3]
  uint8_t* out = rgb.data_ptr<uint8_t>();
  if (bmp.compression == kRle4 || bmp.compression == kRle8) {
    std::vector<uint8_t> indices;  // [h * w], file row order
    if (!decode_rle(bmp, data, size, &indices))
      fail(path, "not enough BMP image data (RLE stream ends early)", "the file is truncated");
    for (int64_t r = 0; r < h; ++r) {
      uint8_t* o = out + (bmp.top_down ? r : h - 1 - r) * w * 3;
      for (int64_t x = 0; x < w; ++x) color(indices[r * w + x], o + 3 * x);
    }
    return rgb;
  }
  const size_t stride = ((static_cast<size_t>(w) * bmp.bits + 31) >> 3) & ~size_t{3};
  if (bmp.offset > size || (size - bmp.offset) / stride < static_cast<size_t>(h))
    fail(path, "BMP pixel data is truncated", "the file is cut short");
  const int step = bmp.bits / 8;
  for (int64_t r = 0; r < h; ++r) {
    const uint8_t* row = data + bmp.offset + r * stride;
    uint8_t* o = out + (bmp.top_down ? r : h - 1 - r) * w * 3;
    for (int64_t x = 0; x < w; ++x) {
      if (bmp.layout != Layout::kPalette) {
        store_pixel(bmp, row + x * step, o + 3 * x);
      } else if (bmp.bits == 8) {
        color(row[x], o + 3 * x);
      } else {
        const int per_byte = 8 / bmp.bits;
        const int shift = 8 - bmp.bits * (1 + static_cast<int>(x % per_byte));
        color((row[x / per_byte] >> shift) & ((1 << bmp.bits) - 1), o + 3 * x);
      }
    }
  }
  return rgb;
}

}  // namespace cnnscope
