// Histogram figures: PNG/SVG/PDF bytes of the promised size, bars in the bar colour, the mean and
// ±std lines drawn only when defined, an overview sheet sized by its grid.
#include <gtest/gtest.h>

#include <cairo.h>

#include <cstring>

#include "common/error.h"
#include "render/histogram_plot.h"
#include "render/png_reader.h"

namespace cnnscope {
namespace {

HistogramPanel panel_of(const at::Tensor& t, const std::string& title) {
  return HistogramPanel{title, compute_stats(t), histogram(t, kDefaultHistogramBins)};
}

// Colours of histogram_plot.cpp as 8-bit: bars, mean line, std lines.
constexpr int kBar[] = {31, 119, 180};
constexpr int kMean[] = {214, 39, 40};
constexpr int kStd[] = {255, 127, 14};

TEST(HistogramPlot, PngFigureShowsBarsMeanAndStd) {
  // Several seeds: the lines must be crisp wherever mean and std fall between pixels.
  constexpr int kSeeds = 12;
  for (int seed = 0; seed < kSeeds; ++seed) {
    at::manual_seed(seed);
    const at::Tensor t = at::randn({5000}, at::TensorOptions().dtype(at::kFloat));  // [5000]
    const testing::DecodedPng png = testing::decode_png(
        histogram_figure(panel_of(t, "layer1.0.conv1.weight"), FigureFormat::kPng));
    EXPECT_EQ(png.width, kHistogramFigureWidth);
    EXPECT_EQ(png.height, kHistogramFigureHeight);
    EXPECT_GT(png.count(kBar[0], kBar[1], kBar[2]), 5000) << "seed " << seed;
    EXPECT_GT(png.count(kMean[0], kMean[1], kMean[2]), 200) << "seed " << seed;  // 2-px line
    EXPECT_GT(png.count(kStd[0], kStd[1], kStd[2]), 200) << "seed " << seed;
  }
}

TEST(HistogramPlot, OneValueDrawsNoStdLines) {
  const testing::DecodedPng png = testing::decode_png(
      histogram_figure(panel_of(at::full({1}, 0.5), "one"), FigureFormat::kPng));
  EXPECT_GT(png.count(kMean[0], kMean[1], kMean[2]), 200);
  EXPECT_EQ(png.count(kStd[0], kStd[1], kStd[2]), 0);
}

TEST(HistogramPlot, VectorFormatsHaveTheirSignatures) {
  const HistogramPanel p = panel_of(at::randn({100}), "bias");
  EXPECT_EQ(histogram_figure(p, FigureFormat::kPdf).rfind("%PDF", 0), 0u);
  const std::string svg = histogram_figure(p, FigureFormat::kSvg);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("width=\"800\""), std::string::npos);
}

TEST(HistogramPlot, NonFiniteOnlyTensorStillDraws) {
  const HistogramPanel p = panel_of(at::full({3}, NAN), "all_nan");
  EXPECT_FALSE(p.stats.has_values);
  const testing::DecodedPng png = testing::decode_png(histogram_figure(p, FigureFormat::kPng));
  EXPECT_EQ(png.count(kBar[0], kBar[1], kBar[2]), 0);
}

TEST(HistogramPlot, OverviewIsSizedByItsGrid) {
  std::vector<HistogramPanel> panels;
  for (int i = 0; i < 7; ++i)
    panels.push_back(panel_of(at::randn({200}) * (i + 1), "t" + std::to_string(i)));
  OverviewOptions options;
  options.title = "seven";
  options.columns = 3;
  const testing::DecodedPng png =
      testing::decode_png(histogram_overview(panels, options, FigureFormat::kPng));
  EXPECT_EQ(png.width, 3 * 250);
  EXPECT_EQ(png.height, 40 + 3 * 150);
  EXPECT_GT(png.count(kBar[0], kBar[1], kBar[2]), 7 * 500);
  EXPECT_THROW(histogram_overview({}, options, FigureFormat::kPng), Error);
}

}  // namespace
}  // namespace cnnscope
