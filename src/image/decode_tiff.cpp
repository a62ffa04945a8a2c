// TIFF, first page, through Debian's libtiff (strips and tiles, contiguous or separate planes,
// every compression that libtiff reads: none, LZW, Deflate, PackBits, JPEG, ...), then Pillow's
// mode rules (OPEN_INFO) and convert("RGB"): gray 1/2/4/8 bit (min-is-white inverted), 16-bit gray
// clipped to 255, RGB(A/X) 8/16 bit (16 bit keeps the high byte; associated alpha divided out),
// palette 1/2/4/8 bit (16-bit colormap, high byte), CMYK 8/16 bit (Pillow's cmyk2rgb), JPEG YCbCr
// as RGB. Leaves out (refused with the layout named): float and 32-bit samples, 12-bit, LAB,
// uncompressed YCbCr, associated-alpha gray. Spec: Pillow TiffImagePlugin.py (OPEN_INFO, _setup),
// Unpack.c, TIFF 6.0. A tile larger than both the image and 1024x1024 pixels is refused before
// any buffer exists (strips are bounded by the image, whose size is checked first).
#include <tiffio.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstring>
#include <memory>
#include <vector>

#include "common/error.h"
#include "common/escape.h"
#include "image/decode_internal.h"

namespace cnnscope {
namespace {

// The largest tile accepted whatever the image's size (1024x1024 pixels; common tiles are 256x256).
constexpr uint64_t kMaxTilePixels = uint64_t{1} << 20;

struct TiffMemory {
  const uint8_t* data;
  size_t size;
  uint64_t pos;
  std::string error;
};

tsize_t tiff_read(thandle_t h, tdata_t out, tsize_t n) {
  TiffMemory* m = static_cast<TiffMemory*>(h);
  if (n <= 0 || m->pos >= m->size) return 0;
  const size_t count = std::min<uint64_t>(static_cast<uint64_t>(n), m->size - m->pos);
  std::memcpy(out, m->data + m->pos, count);
  m->pos += count;
  return static_cast<tsize_t>(count);
}
tsize_t tiff_write(thandle_t, tdata_t, tsize_t) {
  return -1;
}
toff_t tiff_seek(thandle_t h, toff_t offset, int whence) {
  TiffMemory* m = static_cast<TiffMemory*>(h);
  const uint64_t base = whence == SEEK_SET ? 0 : (whence == SEEK_CUR ? m->pos : m->size);
  m->pos = base + offset;
  return m->pos;
}
int tiff_close(thandle_t) {
  return 0;
}
toff_t tiff_size(thandle_t h) {
  return static_cast<TiffMemory*>(h)->size;
}
int tiff_map(thandle_t, tdata_t*, toff_t*) {
  return 0;
}
void tiff_unmap(thandle_t, tdata_t, toff_t) {}

int tiff_on_error(TIFF*, void* user, const char* module, const char* format, va_list args) {
  TiffMemory* m = static_cast<TiffMemory*>(user);
  if (m->error.empty()) {
    char text[256];
    std::vsnprintf(text, sizeof(text), format, args);
    m->error = escape_control(std::string(module ? module : "libtiff") + ": " + text);
  }
  return 1;
}
int tiff_on_warning(TIFF*, void*, const char*, const char*, va_list) {
  return 1;
}

struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};

// How the samples of one pixel become RGB (Pillow's mode after OPEN_INFO, then convert).
enum class Kind { kGray, kGrayInverted, kGray16, kRgb, kRgbPremultiplied, kPalette, kCmyk };

struct Layout {
  Kind kind = Kind::kGray;
  int bits = 8;
  int samples = 1;
};

[[noreturn]] void unsupported(const std::string& path, const std::string& what) {
  fail(path, "unsupported TIFF layout: " + what,
       "cnnscope reads gray, palette, RGB(A) and CMYK TIFFs of 1 to 16 bits");
}

Layout pick_layout(const std::string& path, TIFF* tif, uint16_t photometric, uint16_t compression) {
  uint16_t bits = 1, samples = 1, format = SAMPLEFORMAT_UINT, extra_count = 0;
  uint16_t* extra = nullptr;
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &extra_count, &extra);
  std::vector<uint16_t> extras(extra, extra + (extra ? extra_count : 0));
  const std::string described = "photometric " + std::to_string(photometric) + ", " +
                                std::to_string(samples) + " x " + std::to_string(bits) +
                                " bit, sample format " + std::to_string(format);
  if (format != SAMPLEFORMAT_UINT) unsupported(path, described);
  Layout l{Kind::kGray, bits, samples};
  // Extra samples after the colour ones: Pillow knows none (only for RGBA), 0 (X), 1 (a), 2 (A).
  auto extras_are = [&](std::initializer_list<uint16_t> want) {
    return extras.size() == want.size() && std::equal(want.begin(), want.end(), extras.begin());
  };
  switch (photometric) {
    case PHOTOMETRIC_MINISWHITE:
    case PHOTOMETRIC_MINISBLACK:
      if (samples == 1 && (bits == 1 || bits == 2 || bits == 4 || bits == 8)) {
        l.kind = photometric == PHOTOMETRIC_MINISWHITE ? Kind::kGrayInverted : Kind::kGray;
        return l;
      }
      // Pillow's I;16 (little-endian files of either photometric, big-endian min-is-black).
      if (samples == 1 && bits == 16 &&
          (photometric == PHOTOMETRIC_MINISBLACK || !TIFFIsBigEndian(tif))) {
        l.kind = Kind::kGray16;
        return l;
      }
      if (photometric == PHOTOMETRIC_MINISBLACK && samples == 2 && bits == 8 &&
          (extras_are({0}) || extras_are({2})))
        return l;
      break;
    case PHOTOMETRIC_RGB:
      if (bits != 8 && bits != 16) break;
      if ((samples == 3 && extras.empty()) ||
          (samples == 4 && (extras.empty() || extras_are({0}) || extras_are({2}) ||
                            (bits == 8 && extras_are({999})))) ||
          (bits == 8 && samples == 5 && (extras_are({0, 0}) || extras_are({2, 0}))) ||
          (bits == 8 && samples == 6 && (extras_are({0, 0, 0}) || extras_are({2, 0, 0})))) {
        l.kind = Kind::kRgb;
        return l;
      }
      if ((samples == 4 && extras_are({1})) || (bits == 8 && samples == 5 && extras_are({1, 0})) ||
          (bits == 8 && samples == 6 && extras_are({1, 0, 0}))) {
        l.kind = Kind::kRgbPremultiplied;
        return l;
      }
      break;
    case PHOTOMETRIC_PALETTE:
      if ((samples == 1 && (bits == 1 || bits == 2 || bits == 4 || bits == 8)) ||
          (samples == 2 && bits == 8 && (extras_are({0}) || extras_are({2})))) {
        l.kind = Kind::kPalette;
        return l;
      }
      break;
    case PHOTOMETRIC_SEPARATED:
      if ((bits == 8 && ((samples == 4 && extras.empty()) || (samples == 5 && extras_are({0})) ||
                         (samples == 6 && extras_are({0, 0})))) ||
          (bits == 16 && samples == 4 && extras.empty())) {
        l.kind = Kind::kCmyk;
        return l;
      }
      break;
    case PHOTOMETRIC_YCBCR:
      if (samples == 3 && bits == 8 && compression == COMPRESSION_JPEG) {
        TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);  // libjpeg makes RGB
        l.kind = Kind::kRgb;
        return l;
      }
      if (samples == 1 && bits == 8) return l;
      break;
    default:
      break;
  }
  unsupported(path, described);
}

// Reads the first page's samples into `raw`: rows of `row_bytes`, samples contiguous, 16-bit ones
// in host order (libtiff swaps them).
void read_samples(const std::string& path, TIFF* tif, TiffMemory* io, const Layout& l,
                  uint32_t width, uint32_t height, size_t row_bytes, std::vector<uint8_t>* raw) {
  uint16_t planar = PLANARCONFIG_CONTIG;
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  const bool separate = planar == PLANARCONFIG_SEPARATE && l.samples > 1;
  if (separate && l.bits % 8 != 0) unsupported(path, "separate planes below 8 bits");
  const int planes = separate ? l.samples : 1;
  const size_t sample_bytes = static_cast<size_t>(l.bits) / 8;  // separate planes only
  auto broken = [&](const char* what) {
    fail(path,
         std::string("cannot decode TIFF ") + what + (io->error.empty() ? "" : ": ") + io->error,
         "the file may be truncated or corrupt");
  };
  // Copies `rows` rows of `cols` pixels of one plane (or all samples) from a decoded block.
  auto place = [&](const uint8_t* block, size_t block_row_bytes, uint32_t x0, uint32_t y0,
                   uint32_t rows, uint32_t cols, int plane) {
    for (uint32_t r = 0; r < rows; ++r) {
      const uint8_t* src = block + r * block_row_bytes;
      uint8_t* dst = raw->data() + (y0 + r) * row_bytes;
      if (!separate) {
        // Contiguous blocks start at pixel x0, which is a byte boundary for tiles (width % 16).
        const size_t begin = static_cast<size_t>(x0) * l.samples * l.bits / 8;
        const size_t bytes = (static_cast<size_t>(cols) * l.samples * l.bits + 7) / 8;
        std::memcpy(dst + begin, src, std::min(bytes, row_bytes - begin));
      } else {
        for (uint32_t x = 0; x < cols; ++x)
          std::memcpy(dst + ((x0 + x) * l.samples + plane) * sample_bytes, src + x * sample_bytes,
                      sample_bytes);
      }
    }
  };
  if (TIFFIsTiled(tif)) {
    uint32_t tw = 0, th = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
    const tmsize_t tile_size = TIFFTileSize(tif);
    const tmsize_t tile_row = TIFFTileRowSize(tif);
    if (tw == 0 || th == 0 || tile_size <= 0 || tile_row <= 0) broken("tiles");
    // A tile is one buffer: no larger than the image (already within kMaxImagePixels), or than
    // kMaxTilePixels for small images, so a tiny image cannot declare a gigabyte tile.
    if (uint64_t{tw} * th > std::max<uint64_t>(uint64_t{width} * height, kMaxTilePixels))
      fail(path,
           "TIFF tile of " + std::to_string(tw) + "x" + std::to_string(th) + " pixels for a " +
               std::to_string(width) + "x" + std::to_string(height) + " image",
           "the file is corrupt");
    std::vector<uint8_t> tile(static_cast<size_t>(tile_size));
    for (int plane = 0; plane < planes; ++plane)
      for (uint32_t y = 0; y < height; y += th)
        for (uint32_t x = 0; x < width; x += tw) {
          const ttile_t index = TIFFComputeTile(tif, x, y, 0, static_cast<uint16_t>(plane));
          if (TIFFReadEncodedTile(tif, index, tile.data(), tile_size) < 0) broken("tile");
          place(tile.data(), static_cast<size_t>(tile_row), x, y, std::min(th, height - y),
                std::min(tw, width - x), plane);
        }
    return;
  }
  uint32_t rows_per_strip = height;
  TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
  rows_per_strip = std::clamp<uint32_t>(rows_per_strip, 1, height);
  const tmsize_t strip_size = TIFFStripSize(tif);
  const tmsize_t strip_row =
      separate ? static_cast<tmsize_t>(width) * sample_bytes : static_cast<tmsize_t>(row_bytes);
  if (strip_size <= 0) broken("strips");
  std::vector<uint8_t> strip(static_cast<size_t>(strip_size));
  for (int plane = 0; plane < planes; ++plane)
    for (uint32_t y = 0; y < height; y += rows_per_strip) {
      const tstrip_t index = TIFFComputeStrip(tif, y, static_cast<uint16_t>(plane));
      const uint32_t rows = std::min(rows_per_strip, height - y);
      const tmsize_t got = TIFFReadEncodedStrip(tif, index, strip.data(), strip_size);
      if (got < 0 || got < strip_row * rows) broken("strip");
      place(strip.data(), static_cast<size_t>(strip_row), 0, y, rows, width, plane);
    }
}

// Sample `i` of a row of `bits`-bit samples (MSB first), as an int.
inline int sample_at(const uint8_t* row, int64_t i, int bits) {
  if (bits == 8) return row[i];
  if (bits == 16) {
    uint16_t v;
    std::memcpy(&v, row + 2 * i, 2);
    return v;
  }
  const int64_t bit = i * bits;
  return (row[bit >> 3] >> (8 - bits - (bit & 7))) & ((1 << bits) - 1);
}

}  // namespace

at::Tensor decode_tiff(const std::string& path, const uint8_t* data, size_t size) {
  TiffMemory io{data, size, 0, {}};
  std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> options(TIFFOpenOptionsAlloc(),
                                                                       TIFFOpenOptionsFree);
  TIFFOpenOptionsSetErrorHandlerExtR(options.get(), tiff_on_error, &io);
  TIFFOpenOptionsSetWarningHandlerExtR(options.get(), tiff_on_warning, nullptr);
  TIFFOpenOptionsSetMaxSingleMemAlloc(options.get(), tmsize_t{1} << 31);
  std::unique_ptr<TIFF, TiffCloser> tif(
      TIFFClientOpenExt(path.c_str(), "rm", &io, tiff_read, tiff_write, tiff_seek, tiff_close,
                        tiff_size, tiff_map, tiff_unmap, options.get()));
  if (!tif)
    fail(path, "cannot open TIFF" + (io.error.empty() ? "" : ": " + io.error),
         "the file may be truncated or corrupt");
  uint32_t width = 0, height = 0;
  uint16_t photometric = PHOTOMETRIC_MINISWHITE, compression = COMPRESSION_NONE;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height);
  TIFFGetField(tif.get(), TIFFTAG_PHOTOMETRIC, &photometric);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_COMPRESSION, &compression);
  check_dimensions(path, width, height);
  const Layout l = pick_layout(path, tif.get(), photometric, compression);
  std::array<std::array<uint8_t, 3>, 256> palette{};
  if (l.kind == Kind::kPalette) {
    uint16_t *r = nullptr, *g = nullptr, *b = nullptr;
    if (!TIFFGetField(tif.get(), TIFFTAG_COLORMAP, &r, &g, &b))
      fail(path, "palette TIFF without a colormap", "the file is corrupt");
    for (int i = 0; i < (1 << std::min(l.bits, 8)); ++i)
      palette[i] = {static_cast<uint8_t>(r[i] >> 8), static_cast<uint8_t>(g[i] >> 8),
                    static_cast<uint8_t>(b[i] >> 8)};
  }
  const size_t row_bytes = (static_cast<size_t>(width) * l.samples * l.bits + 7) / 8;
  std::vector<uint8_t> raw(row_bytes * height);
  read_samples(path, tif.get(), &io, l, width, height, row_bytes, &raw);
  at::Tensor rgb = new_rgb(path, width, height);  // [H, W, 3]
  uint8_t* out = rgb.data_ptr<uint8_t>();
  const int max_value = (1 << l.bits) - 1;
  for (uint32_t y = 0; y < height; ++y) {
    const uint8_t* row = raw.data() + y * row_bytes;
    uint8_t* o = out + static_cast<size_t>(y) * width * 3;
    for (int64_t x = 0; x < width; ++x, o += 3) {
      const int64_t s = x * l.samples;
      // 8-bit value of sample c of this pixel: 16-bit samples keep their high byte.
      auto v8 = [&](int c) {
        const int v = sample_at(row, s + c, l.bits);
        return l.bits == 16 ? v >> 8 : v;
      };
      switch (l.kind) {
        case Kind::kGray:
        case Kind::kGrayInverted: {
          int v = sample_at(row, s, l.bits) * 255 / max_value;
          if (l.kind == Kind::kGrayInverted) v = 255 - v;
          o[0] = o[1] = o[2] = static_cast<uint8_t>(v);
          break;
        }
        case Kind::kGray16: {
          const int v = sample_at(row, s, 16);
          o[0] = o[1] = o[2] = static_cast<uint8_t>(std::min(v, 255));
          break;
        }
        case Kind::kRgb:
          for (int c = 0; c < 3; ++c) o[c] = static_cast<uint8_t>(v8(c));
          break;
        case Kind::kRgbPremultiplied: {
          const int a = v8(3);
          for (int c = 0; c < 3; ++c)
            o[c] = static_cast<uint8_t>(a == 0 ? 0 : std::min(255, v8(c) * 255 / a));
          break;
        }
        case Kind::kPalette:
          std::memcpy(o, palette[sample_at(row, s, l.bits)].data(), 3);
          break;
        case Kind::kCmyk: {
          const uint8_t cmyk[4] = {static_cast<uint8_t>(v8(0)), static_cast<uint8_t>(v8(1)),
                                   static_cast<uint8_t>(v8(2)), static_cast<uint8_t>(v8(3))};
          cmyk_to_rgb(cmyk, o);
          break;
        }
      }
    }
  }
  return rgb;
}

}  // namespace cnnscope
