// Canvas: the same drawing ends up as a decodable PNG of the asked size, an SVG and a PDF.
#include <gtest/gtest.h>

#include "common/error.h"
#include "render/canvas.h"
#include "render/png_reader.h"

namespace cnnscope {
namespace {

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
  const testing::DecodedPng img = testing::decode_png(png);
  ASSERT_TRUE(img.ok);
  EXPECT_EQ(img.width, 120);
  EXPECT_EQ(img.height, 50);
  EXPECT_EQ(img.at(15, 15), 0xff0000u);  // inside the red square
  EXPECT_EQ(img.at(5, 5), 0xffffffu);    // background
}

TEST(Canvas, DrawPixelsMagnifiesWithoutSmoothing) {
  Canvas c(40, 20, FigureFormat::kPng);
  c.clear(1, 1, 1);
  const uint32_t pixels[] = {0xff0000, 0x00ff00};  // 2 x 1
  c.draw_pixels(pixels, 2, 1, 0, 0, 40, 10);       // each pixel 20 x 10
  const testing::DecodedPng img = testing::decode_png(c.finish());
  ASSERT_TRUE(img.ok);
  EXPECT_EQ(img.count(255, 0, 0), 200);
  EXPECT_EQ(img.count(0, 255, 0), 200);
  EXPECT_EQ(img.at(19, 9), 0xff0000u);
  EXPECT_EQ(img.at(20, 0), 0x00ff00u);
  EXPECT_EQ(img.at(0, 10), 0xffffffu);  // below the rectangle: untouched
}

TEST(Canvas, EncodePngRoundTripsRgbRows) {
  const uint8_t rgb[] = {1, 2, 3, 250, 251, 252, 7, 8, 9, 100, 0, 200};  // 2 x 2
  const testing::DecodedPng img = testing::decode_png(encode_png(rgb, 2, 2));
  ASSERT_TRUE(img.ok);
  EXPECT_EQ(img.width, 2);
  EXPECT_EQ(img.height, 2);
  EXPECT_EQ(img.pixels, (std::vector<uint32_t>{0x010203, 0xfafbfc, 0x070809, 0x6400c8}));
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
