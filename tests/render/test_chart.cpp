// render/chart.h: every chart decodes at its promised size, draws its series in their colours,
// and refuses inconsistent input.
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "render/chart.h"
#include "render/png_reader.h"

namespace cnnscope {
namespace {

int64_t count_colour(const testing::DecodedPng& png, const Color& c) {
  return png.count(static_cast<int>(std::lround(c.r * 255)),
                   static_cast<int>(std::lround(c.g * 255)),
                   static_cast<int>(std::lround(c.b * 255)));
}

TEST(Chart, LineChartDrawsEverySeries) {
  LineChartOptions o;
  o.title = "drift";
  o.x = {0, 1, 2, 5};
  const std::vector<Series> series = {{"conv1", {0, 0.5, 1.0, 2.0}}, {"fc", {0, NAN, 0.2, 0.3}}};
  const testing::DecodedPng png = testing::decode_png(line_chart(series, o, FigureFormat::kPng));
  ASSERT_TRUE(png.ok);
  EXPECT_EQ(png.width, o.width);
  EXPECT_EQ(png.height, o.height);
  EXPECT_GT(count_colour(png, series_color(0)), 50);
  EXPECT_GT(count_colour(png, series_color(1)), 20);
  EXPECT_THROW(line_chart({{"x", {1.0}}}, o, FigureFormat::kPng), Error);
  EXPECT_FALSE(line_chart(series, o, FigureFormat::kSvg).empty());
}

TEST(Chart, BarsOverlaysAndHeatMaps) {
  const testing::DecodedPng bars =
      testing::decode_png(bar_chart({"a", "b", "c"}, {0.5, NAN, 2.0}, {}, FigureFormat::kPng));
  ASSERT_TRUE(bars.ok);
  EXPECT_GT(count_colour(bars, series_color(0)), 100);
  EXPECT_THROW(bar_chart({"a"}, {}, {}, FigureFormat::kPng), Error);

  const HistogramSet set{"w", {0, 1, 2, 3}, {{1, 5, 2}, {0, 3, 7}}, {"A", "B"}};
  const testing::DecodedPng overlay =
      testing::decode_png(overlay_histograms("layer", {set, set}, FigureFormat::kPng));
  ASSERT_TRUE(overlay.ok);
  EXPECT_GT(count_colour(overlay, series_color(1)), 50);
  HistogramSet bad = set;
  bad.labels.pop_back();
  EXPECT_THROW(overlay_histograms("layer", {bad}, FigureFormat::kPng), Error);

  const testing::DecodedPng heat = testing::decode_png(
      histogram_heatmap("w", {0, 1, 2}, {{0, 4}, {4, 0}}, {"0", "1"}, "gray", FigureFormat::kPng));
  ASSERT_TRUE(heat.ok);
  // Cells: rows of 28 px from y = 44, two bins of 378 px from x = 120; gray maps 0 to black and
  // the largest count to white.
  EXPECT_EQ(heat.at(130, 50), 0x000000u);             // step 0, bin 0: count 0
  EXPECT_EQ(heat.at(120 + 378 + 10, 50), 0xffffffu);  // step 0, bin 1: count 4
  EXPECT_EQ(heat.at(130, 44 + 28 + 6), 0xffffffu);    // step 1, bin 0: count 4
  EXPECT_EQ(heat.at(120 + 378 + 10, 44 + 28 + 6), 0x000000u);
  EXPECT_THROW(histogram_heatmap("w", {0, 1}, {{1, 2}}, {"0"}, "gray", FigureFormat::kPng), Error);
}

}  // namespace
}  // namespace cnnscope
