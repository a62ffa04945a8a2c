// JPEG (libjpeg-turbo's TurboJPEG API: islow DCT, fancy upsampling, as Pillow) and PNG (libpng)
// decoding to RGB with Pillow's convert("RGB") rules (9.4 to 13), and the dispatch by first bytes
// to the BMP, GIF, WebP and TIFF readers (decode_*.cpp). Leaves out: EXIF rotation (Pillow ignores
// it too), ICC profiles. Spec: Pillow JpegImagePlugin/PngImagePlugin, Convert.c.
#include "image/decode.h"

#include <png.h>
#include <turbojpeg.h>
#include <boost/crc.hpp>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <memory>
#include <vector>

#include "common/error.h"
#include "common/escape.h"
#include "common/mapped_file.h"
#include "image/decode_internal.h"

namespace cnnscope {
namespace {

constexpr uint8_t kPngSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
constexpr uint8_t kNpyMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr int kRgb = 3;
constexpr int kCmyk = 4;
// How far past the end of a PNG libpng may read (zeros) before the file counts as cut short: a
// declared IDAT length (at most 2^31 - 1) that libpng skips after the image; a cut zlib stream
// fails on the zeros long before, and a zero chunk header is an invalid chunk.
constexpr size_t kPngOverrunLimit = size_t{1} << 32;

// Pillow opens CMYK JPEGs with rawmode "CMYK;I" (Adobe's inverted ink), then cmyk2rgb.
void cmyk_inverted_to_rgb(const uint8_t* in, uint8_t* out, int64_t pixels) {
  for (int64_t i = 0; i < pixels; ++i, in += kCmyk, out += kRgb) {
    const uint8_t ink[kCmyk] = {
        static_cast<uint8_t>(255 - in[0]), static_cast<uint8_t>(255 - in[1]),
        static_cast<uint8_t>(255 - in[2]), static_cast<uint8_t>(255 - in[3])};
    cmyk_to_rgb(ink, out);
  }
}

struct TjHandle {
  tjhandle h = tjInitDecompress();
  ~TjHandle() {
    if (h) tjDestroy(h);
  }
};

at::Tensor decode_jpeg(const std::string& path, const uint8_t* data, size_t size) {
  TjHandle tj;
  if (!tj.h) fail(path, "cannot start the JPEG decoder");
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  // libjpeg warnings (e.g. "N extraneous bytes before marker") are not errors: Pillow ignores them.
  if (tjDecompressHeader3(tj.h, data, size, &width, &height, &subsamp, &colorspace) != 0 &&
      (tjGetErrorCode(tj.h) != TJERR_WARNING || width <= 0 || height <= 0))
    fail(path, "bad JPEG header: " + escape_control(tjGetErrorStr2(tj.h)),
         "is the file a complete JPEG?");
  check_dimensions(path, width, height);
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const bool gray = colorspace == TJCS_GRAY;
  const int format = cmyk ? TJPF_CMYK : (gray ? TJPF_GRAY : TJPF_RGB);
  const int channels = tjPixelSize[format];
  std::vector<uint8_t> raw(static_cast<size_t>(width) * height * channels);
  if (tjDecompress2(tj.h, data, size, raw.data(), width, 0, height, format, 0) != 0) {
    const std::string message = tjGetErrorStr2(tj.h);
    // Pillow fails on a truncated JPEG ("image file is truncated") but ignores other warnings.
    if (tjGetErrorCode(tj.h) != TJERR_WARNING || message.find("Premature end") != std::string::npos)
      fail(path, "cannot decode JPEG: " + escape_control(message),
           "the file may be truncated or corrupt");
  }
  at::Tensor rgb = at::empty({height, width, kRgb}, at::kByte);  // [H, W, 3]
  uint8_t* out = rgb.data_ptr<uint8_t>();
  const int64_t pixels = static_cast<int64_t>(width) * height;
  if (format == TJPF_RGB) {
    std::memcpy(out, raw.data(), raw.size());
  } else if (gray) {
    for (int64_t i = 0; i < pixels; ++i) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = raw[i];
  } else {
    cmyk_inverted_to_rgb(raw.data(), out, pixels);
  }
  return rgb;
}

struct PngRead {
  const uint8_t* data;
  size_t size;
  size_t pos;
  char error[256];
};

void png_read_from_memory(png_structp png, png_bytep out, png_size_t length) {
  PngRead* r = static_cast<PngRead*>(png_get_io_ptr(png));
  // Past the end: zeros, which end a cut zlib stream with an error, so a file whose last IDAT
  // declares more bytes than it holds still decodes when its zlib stream is whole (as Pillow).
  const size_t have = r->pos < r->size ? std::min(length, r->size - r->pos) : 0;
  if (have < length && r->pos + length > r->size + kPngOverrunLimit)
    png_error(png, "unexpected end of file (truncated PNG)");
  std::memcpy(out, r->data + std::min(r->pos, r->size), have);
  std::memset(out + have, 0, length - have);
  r->pos += length;
}

// The chunks before the first IDAT, as Pillow's PngStream.crc: each whole and its CRC right.
void check_png_chunks(const std::string& path, const uint8_t* data, size_t size) {
  size_t pos = sizeof(kPngSignature);
  while (pos + 8 <= size) {
    const uint32_t length =
        (uint32_t{data[pos]} << 24) | (data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3];
    const std::string raw_type(reinterpret_cast<const char*>(data + pos + 4), 4);
    if (raw_type == "IDAT") return;
    const std::string type = escape_control(raw_type);  // bytes from the file, for messages
    if (length > size - pos - 8 || size - pos - 8 - length < 4)
      fail(path, "truncated PNG (" + type + " chunk cut short)", "the file is cut short");
    boost::crc_32_type crc;
    crc.process_bytes(data + pos + 4, 4 + static_cast<size_t>(length));
    const uint8_t* stored = data + pos + 8 + length;
    const uint32_t want =
        (uint32_t{stored[0]} << 24) | (stored[1] << 16) | (stored[2] << 8) | stored[3];
    if (crc.checksum() != want)
      fail(path, "broken PNG file (bad checksum in " + type + " chunk)", "Pillow refuses it too");
    pos += 12 + static_cast<size_t>(length);
  }
}

void png_on_error(png_structp png, png_const_charp message) {
  PngRead* r = static_cast<PngRead*>(png_get_io_ptr(png));
  std::snprintf(r->error, sizeof(r->error), "%s", message);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}

// What libpng hands back after our transforms, and how to turn one row into RGB.
struct PngLayout {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int channels = 0;     // after transforms: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  bool gray16 = false;  // 16-bit gray kept at 16 bits: Pillow's mode "I", clipped to 0..255
  size_t row_bytes = 0;
};

// Plain C-style state only: libpng longjmps through this function on errors.
bool png_decode_rows(PngRead* io, PngLayout* layout, std::vector<uint8_t>* pixels,
                     bool* too_large) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, io, png_on_error, png_on_warning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  std::vector<png_bytep>* rows = new std::vector<png_bytep>();
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    delete rows;
    return false;
  }
  png_set_read_fn(png, io, png_read_from_memory);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  // As Pillow: CRCs of IDAT and later chunks are not checked (the chunks before IDAT were, by
  // check_png_chunks), and an IDAT may declare more bytes than it holds or than libpng's 8 MB
  // chunk limit (IDAT is streamed, never allocated whole).
  png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
  png_set_chunk_malloc_max(png, 0);
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  if (static_cast<int64_t>(width) * height > kMaxImagePixels) {
    *too_large = true;
    layout->width = width;
    layout->height = height;
    png_destroy_read_struct(&png, &info, nullptr);
    delete rows;
    return false;
  }
  const int color = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  layout->gray16 = color == PNG_COLOR_TYPE_GRAY && depth == 16;
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16 && !layout->gray16) png_set_strip_16(png);  // Pillow keeps the high byte
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  layout->width = width;
  layout->height = height;
  layout->channels = png_get_channels(png, info);
  layout->row_bytes = png_get_rowbytes(png, info);
  pixels->resize(layout->row_bytes * height);
  rows->resize(height);
  for (png_uint_32 y = 0; y < height; ++y) (*rows)[y] = pixels->data() + y * layout->row_bytes;
  png_read_image(png, rows->data());  // Pillow ignores what follows the image data
  png_destroy_read_struct(&png, &info, nullptr);
  delete rows;
  return true;
}

at::Tensor decode_png(const std::string& path, const uint8_t* data, size_t size) {
  check_png_chunks(path, data, size);
  PngRead io{data, size, 0, {0}};
  PngLayout layout;
  std::vector<uint8_t> pixels;
  bool too_large = false;
  if (!png_decode_rows(&io, &layout, &pixels, &too_large)) {
    if (too_large) check_dimensions(path, layout.width, layout.height);
    fail(path, "cannot decode PNG: " + escape_control(io.error[0] ? io.error : "libpng failed"),
         "the file may be truncated or corrupt");
  }
  check_dimensions(path, layout.width, layout.height);
  const int64_t h = layout.height, w = layout.width;
  at::Tensor rgb = at::empty({h, w, kRgb}, at::kByte);  // [H, W, 3]
  uint8_t* out = rgb.data_ptr<uint8_t>();
  for (int64_t y = 0; y < h; ++y) {
    const uint8_t* row = pixels.data() + y * layout.row_bytes;
    uint8_t* o = out + y * w * kRgb;
    if (layout.gray16) {
      for (int64_t x = 0; x < w; ++x) {
        const int v = (row[2 * x] << 8) | row[2 * x + 1];
        o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = static_cast<uint8_t>(v > 255 ? 255 : v);
      }
    } else if (layout.channels <= 2) {
      for (int64_t x = 0; x < w; ++x)
        o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = row[x * layout.channels];
    } else {
      for (int64_t x = 0; x < w; ++x)
        for (int c = 0; c < kRgb; ++c) o[3 * x + c] = row[x * layout.channels + c];
    }
  }
  return rgb;
}

}  // namespace

void check_dimensions(const std::string& path, int64_t width, int64_t height) {
  if (width <= 0 || height <= 0)
    fail(path,
         "image header gives no pixels (" + std::to_string(width) + "x" + std::to_string(height) +
             ")",
         "the file is truncated or corrupt");
  // Division, not width * height: a BMP header's 32-bit sizes multiply past int64.
  if (width > kMaxImagePixels / height)
    fail(path,
         "image too large: " + std::to_string(width) + "x" + std::to_string(height) +
             " pixels, at most " + std::to_string(kMaxImagePixels) + " allowed",
         "the same limit as Pillow's DecompressionBombError");
}

at::Tensor new_rgb(const std::string& path, int64_t width, int64_t height) {
  check_dimensions(path, width, height);
  return at::empty({height, width, kRgb}, at::kByte);  // [H, W, 3]
}

void cmyk_to_rgb(const uint8_t* cmyk, uint8_t* rgb) {
  const int nk = 255 - cmyk[3];
  for (int c = 0; c < kRgb; ++c) {
    const int v = nk - muldiv255(cmyk[c], nk);
    rgb[c] = static_cast<uint8_t>(v < 0 ? 0 : v);
  }
}

ImageKind sniff_image(const uint8_t* data, size_t size) {
  auto starts = [&](const char* magic, size_t n, size_t at = 0) {
    return size >= at + n && std::memcmp(data + at, magic, n) == 0;
  };
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) return ImageKind::kJpeg;
  if (size >= sizeof(kPngSignature) && std::memcmp(data, kPngSignature, sizeof(kPngSignature)) == 0)
    return ImageKind::kPng;
  if (size >= sizeof(kNpyMagic) && std::memcmp(data, kNpyMagic, sizeof(kNpyMagic)) == 0)
    return ImageKind::kNpy;
  if (starts("BM", 2)) return ImageKind::kBmp;
  if (starts("GIF87a", 6) || starts("GIF89a", 6)) return ImageKind::kGif;
  if (starts("RIFF", 4) && starts("WEBP", 4, 8)) return ImageKind::kWebp;
  if (starts("II\x2a\x00", 4) || starts("MM\x00\x2a", 4) || starts("II\x2b\x00", 4) ||
      starts("MM\x00\x2b", 4))
    return ImageKind::kTiff;
  return ImageKind::kUnknown;
}

at::Tensor decode_rgb(const std::string& path) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  return decode_rgb_bytes(path, file->data(), file->size());
}

at::Tensor decode_rgb_bytes(const std::string& path, const uint8_t* data, size_t size) {
  if (size == 0) fail(path, "empty file", "expected an image");
  switch (sniff_image(data, size)) {
    case ImageKind::kJpeg:
      return decode_jpeg(path, data, size);
    case ImageKind::kPng:
      return decode_png(path, data, size);
    case ImageKind::kBmp:
      return decode_bmp(path, data, size);
    case ImageKind::kGif:
      return decode_gif(path, data, size);
    case ImageKind::kWebp:
      return decode_webp(path, data, size);
    case ImageKind::kTiff:
      return decode_tiff(path, data, size);
    case ImageKind::kNpy:
      fail(path, "a .npy array is not a picture", "pass it as the input tensor itself");
    case ImageKind::kUnknown:
      break;
  }
  fail(path, "not a readable image (unrecognized first bytes)",
       "cnnscope reads JPEG, PNG, BMP, GIF, WebP, TIFF and .npy float32 [3,H,W] inputs");
}

}  // namespace cnnscope
