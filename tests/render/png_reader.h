// The render tests' one PNG reader: decodes figure bytes through cairo (independent of the
// libpng encoder under test) into pixels packed as 0xRRGGBB, with lookup and colour counts.
#pragma once

#include <cairo.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace cnnscope::testing {

struct DecodedPng {
  bool ok = false;
  int width = 0, height = 0;
  std::vector<uint32_t> pixels;  // row-major, 0x00RRGGBB

  uint32_t at(double x, double y) const {
    return pixels[static_cast<size_t>(static_cast<int>(y) * width + static_cast<int>(x))];
  }
  // Pixels of exactly the colour (r, g, b).
  int64_t count(int r, int g, int b) const {
    const uint32_t want = (uint32_t(r) << 16) | (uint32_t(g) << 8) | uint32_t(b);
    int64_t n = 0;
    for (uint32_t p : pixels) n += p == want;
    return n;
  }
};

inline DecodedPng decode_png(const std::string& bytes) {
  struct Reader {
    const std::string* bytes;
    size_t offset = 0;
  } reader{&bytes};
  const auto read = [](void* closure, unsigned char* data, unsigned int length) {
    auto* r = static_cast<Reader*>(closure);
    if (r->offset + length > r->bytes->size()) return CAIRO_STATUS_READ_ERROR;
    std::memcpy(data, r->bytes->data() + r->offset, length);
    r->offset += length;
    return CAIRO_STATUS_SUCCESS;
  };
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(read, &reader);
  DecodedPng png;
  png.ok = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS;
  EXPECT_TRUE(png.ok) << "not a decodable PNG";
  if (png.ok) {
    png.width = cairo_image_surface_get_width(s);
    png.height = cairo_image_surface_get_height(s);
    const int stride = cairo_image_surface_get_stride(s);
    const unsigned char* data = cairo_image_surface_get_data(s);
    for (int y = 0; y < png.height; ++y)
      for (int x = 0; x < png.width; ++x)
        png.pixels.push_back(reinterpret_cast<const uint32_t*>(data + y * stride)[x] & 0xffffff);
  }
  cairo_surface_destroy(s);
  return png;
}

}  // namespace cnnscope::testing
