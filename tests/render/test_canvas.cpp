// Canvas: the same drawing ends up as a decodable PNG of the asked size, an SVG and a PDF.
#include <gtest/gtest.h>

#include "common/error.h"
#include "render/canvas.h"

namespace cnnscope {
namespace {

struct Reader {
  const std::string& bytes;
  size_t pos = 0;
};

cairo_status_t read_bytes(void* closure, unsigned char* data, unsigned int length) {
  auto* r = static_cast<Reader*>(closure);
  if (r->pos + length > r->bytes.size()) return CAIRO_STATUS_READ_ERROR;
  std::copy_n(r->bytes.data() + r->pos, length, data);
  r->pos += length;
  return CAIRO_STATUS_SUCCESS;
}

void draw(Canvas& c) {
  c.clear(1, 1, 1);
  cairo_set_source_rgb(c.cr(), 1, 0, 0);
  cairo_rectangle(c.cr(), 10, 10, 20, 20);
  cairo_fill(c.cr());
  cairo_set_source_rgb(c.cr(), 0, 0, 0);
  c.text("features.1", 40, 30, 12);
}

TEST(Canvas, PngDecodesWithSizeAndPixels) {
  Canvas c(120, 50, FigureFormat::kPng);
  draw(c);
  std::string png = c.finish();
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  Reader r{png};
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(read_bytes, &r);
  ASSERT_EQ(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  EXPECT_EQ(cairo_image_surface_get_width(s), 120);
  EXPECT_EQ(cairo_image_surface_get_height(s), 50);
  const unsigned char* px = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  auto pixel = [&](int x, int y) {
    return *reinterpret_cast<const uint32_t*>(px + y * stride + 4 * x) & 0xffffff;
  };
  EXPECT_EQ(pixel(15, 15), 0xff0000u);  // inside the red square
  EXPECT_EQ(pixel(5, 5), 0xffffffu);    // background
  cairo_surface_destroy(s);
}

TEST(Canvas, VectorFormats) {
  Canvas svg(100, 40, FigureFormat::kSvg);
  draw(svg);
  EXPECT_NE(svg.finish().find("<svg"), std::string::npos);
  Canvas pdf(100, 40, FigureFormat::kPdf);
  draw(pdf);
  EXPECT_EQ(pdf.finish().substr(0, 5), "%PDF-");
}

TEST(Canvas, UnknownFormatIsAnError) {
  EXPECT_THROW(parse_figure_format("bmp"), Error);
}

}  // namespace
}  // namespace cnnscope
