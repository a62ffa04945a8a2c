// Filter mosaic: kernel values become the colours promised by the scaling (own range or the
// layer's), every mode draws, bad shapes and modes are refused with Error.
#include <gtest/gtest.h>

#include <cairo.h>

#include <cstring>

#include "common/error.h"
#include "render/filter_mosaic.h"
#include "render/png_reader.h"

namespace cnnscope {
namespace {

// Number of pixels of exactly (r, g, b) in a PNG.
int64_t count_colour(const std::string& png, int r, int g, int b) {
  return testing::decode_png(png).count(r, g, b);
}

// One 2x2 RGB kernel over the range -1..1: red, green, blue, and (0, 1, -1) whose 0 lands
// mid-range (a colour no gray text or white paper has).
at::Tensor primary_kernel() {
  at::Tensor k = at::full({1, 3, 2, 2}, -1.0);  // [C_out, C_in, kH, kW]
  k[0][0][0][0] = 1.0;
  k[0][1][0][1] = 1.0;
  k[0][2][1][0] = 1.0;
  k[0][0][1][1] = 0.0;
  k[0][1][1][1] = 1.0;
  return k;
}

TEST(FilterMosaic, EachKernelOnItsOwnRangeGivesPrimaryColours) {
  FilterMosaicOptions options;
  options.title = "conv";
  const std::string png = filter_mosaic(primary_kernel(), options, FigureFormat::kPng);
  const int64_t red = count_colour(png, 255, 0, 0);
  EXPECT_GT(red, 100);  // one kernel pixel is a square of many image pixels
  EXPECT_EQ(count_colour(png, 0, 255, 0), red);
  EXPECT_EQ(count_colour(png, 0, 0, 255), red);
  EXPECT_EQ(count_colour(png, 128, 255, 0), red);  // 0 sits mid-range: round(127.5)
}

TEST(FilterMosaic, LayerScaleSharesOneRange) {
  // Kernel 1 spans -4..4, so kernel 0's ±1 lands at 96/159, not 0/255, under one layer range.
  at::Tensor w = at::cat({primary_kernel(), primary_kernel() * 4}, 0);  // [2, 3, 2, 2]
  FilterMosaicOptions options;
  options.title = "conv";
  options.scale = FilterScale::kLayer;
  const std::string png = filter_mosaic(w, options, FigureFormat::kPng);
  const int64_t saturated = count_colour(png, 255, 0, 0);
  EXPECT_GT(saturated, 100);
  EXPECT_EQ(count_colour(png, 159, 96, 96), saturated);
  options.scale = FilterScale::kKernel;
  const std::string own = filter_mosaic(w, options, FigureFormat::kPng);
  EXPECT_EQ(count_colour(own, 255, 0, 0), 2 * saturated);
  EXPECT_EQ(count_colour(own, 159, 96, 96), 0);
}

TEST(FilterMosaic, DeepLayersDrawAsGrayTilesOrMeans) {
  const at::Tensor w = at::randn({4, 8, 3, 3});  // [C_out, C_in, kH, kW]
  FilterMosaicOptions options;
  options.title = "layer1.0.conv1.weight";
  const std::string channels = filter_mosaic(w, options, FigureFormat::kPng);
  // Each kernel on its own range: its smallest value is black (no text or frame is).
  EXPECT_GT(count_colour(channels, 0, 0, 0), 0);
  options.mode = FilterMode::kMean;
  EXPECT_EQ(filter_mosaic(w, options, FigureFormat::kPdf).rfind("%PDF", 0), 0u);
  options.mode = FilterMode::kRgb;
  EXPECT_THROW(filter_mosaic(w, options, FigureFormat::kPng), Error);
}

TEST(FilterMosaic, RefusesWhatIsNotAConvWeight) {
  FilterMosaicOptions options;
  options.title = "fc.weight";
  EXPECT_THROW(filter_mosaic(at::randn({5, 4}), options, FigureFormat::kPng), Error);
  EXPECT_THROW(filter_mosaic(at::full({2, 3, 3, 3}, NAN), options, FigureFormat::kPng), Error);
  EXPECT_THROW(parse_filter_mode("colour"), Error);
  EXPECT_THROW(parse_filter_scale("global"), Error);
}

}  // namespace
}  // namespace cnnscope
