// Feature grid: the PNG decodes to the planned size, tiles sit on a near-square grid (3x4 for 12),
// each tile shows its channel through the colormap exactly (per-channel or one layer range), gaps
// stay background, the colorbar appears only for a layer range; SVG/PDF; bad shapes are errors.
#include <gtest/gtest.h>

#include "common/error.h"
#include "render/colormap.h"
#include "render/feature_grid.h"
#include "render/png_reader.h"

#include <cairo.h>

#include <set>

namespace cnnscope {
namespace {

constexpr uint32_t kWhite = 0xffffff;

uint32_t packed(Rgb8 c) {
  return (uint32_t{c.r} << 16) | (uint32_t{c.g} << 8) | c.b;
}

// [C, H, W] with channel c = c * 0.5 + (a ramp over the cells), so every channel differs.
at::Tensor ramps(int64_t c, int64_t h, int64_t w) {
  const at::Tensor ramp = torch::arange(h * w, torch::kFloat).reshape({1, h, w});      // [1, H, W]
  const at::Tensor offset = torch::arange(c, torch::kFloat).reshape({c, 1, 1}) * 0.5;  // [C, 1, 1]
  return ramp * (offset + 1) + offset;                                                 // [C, H, W]
}

TEST(FeatureGrid, NearSquareGrids) {
  auto shape = [](int n) {
    const GridShape g = near_square_grid(n);
    return std::make_pair(g.rows, g.cols);
  };
  EXPECT_EQ(shape(12), std::make_pair(3, 4));  // the seed's 3x4
  EXPECT_EQ(shape(1), std::make_pair(1, 1));
  EXPECT_EQ(shape(2), std::make_pair(1, 2));
  EXPECT_EQ(shape(10), std::make_pair(3, 4));
  EXPECT_EQ(shape(16), std::make_pair(4, 4));
  EXPECT_EQ(shape(48), std::make_pair(7, 7));
  EXPECT_EQ(shape(64), std::make_pair(8, 8));
  for (int n = 1; n < 300; ++n) {
    const GridShape g = near_square_grid(n);
    EXPECT_GE(g.rows * g.cols, n);
    EXPECT_LT((g.rows - 1) * g.cols, n);  // no empty row
    EXPECT_LE(g.rows, g.cols);
  }
}

TEST(FeatureGrid, SeedLayerFitsAScreenWithTilesInRows) {
  FeatureGridOptions options;
  const FeatureGridLayout layout =
      feature_grid_layout({48, 55, 55}, options);  // AlexNet features.1
  EXPECT_EQ(layout.grid.rows, 3);
  EXPECT_EQ(layout.grid.cols, 4);
  ASSERT_EQ(layout.tiles.size(), 12u);
  EXPECT_GE(layout.zoom, 3);  // magnified, not a thumbnail
  EXPECT_LE(layout.width, options.max_width);
  EXPECT_LE(layout.height, options.max_height);
  for (size_t i = 0; i < 12; ++i) {
    const Box& t = layout.tiles[i];
    EXPECT_EQ(t.w, 55.0 * layout.zoom);
    EXPECT_EQ(t.y, layout.tiles[i / 4 * 4].y);  // same row, same top
    EXPECT_EQ(t.x, layout.tiles[i % 4].x);      // same column, same left
    if (i % 4) {
      EXPECT_GT(t.x, layout.tiles[i - 1].x + layout.tiles[i - 1].w);
    }
    EXPECT_LE(t.x + t.w, layout.width);
    EXPECT_LE(t.y + t.h, layout.height);
  }
  EXPECT_EQ(layout.colorbar.w, 0);
}

TEST(FeatureGrid, PngTilesShowEachChannelThroughTheColormap) {
  const at::Tensor a = ramps(16, 6, 9);  // [C, H, W]
  FeatureGridOptions options;
  options.layer = "features.1";
  options.image = "roses.jpg";
  const FeatureGridLayout layout = feature_grid_layout({16, 6, 9}, options);
  const testing::DecodedPng img =
      testing::decode_png(render_feature_grid(a, options, FigureFormat::kPng));
  ASSERT_EQ(img.width, layout.width);
  ASSERT_EQ(img.height, layout.height);
  ASSERT_EQ(layout.tiles.size(), 12u);  // default: the first 12 channels
  const Colormap& cmap = colormap("viridis");
  for (size_t i = 0; i < layout.tiles.size(); ++i) {
    const Box& t = layout.tiles[i];
    std::set<uint32_t> colours;
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 9; ++x) {
        const double v = a[static_cast<int64_t>(i)][y][x].item<double>();
        const double lo = a[static_cast<int64_t>(i)].min().item<double>();
        const double hi = a[static_cast<int64_t>(i)].max().item<double>();
        const uint32_t got = img.at(t.x + (x + 0.5) * layout.zoom, t.y + (y + 0.5) * layout.zoom);
        EXPECT_EQ(got, packed(cmap.map((v - lo) / (hi - lo))))
            << "tile " << i << " " << y << "," << x;
        colours.insert(got);
      }
    EXPECT_GT(colours.size(), 40u) << "tile " << i << " is (nearly) blank";
    // between this tile and the next one on its row: background
    if (i % 4 != 3) {
      EXPECT_EQ(img.at(t.x + t.w + 6, t.y + t.h / 2), kWhite);
    }
  }
  // the title is drawn: dark pixels in the header band
  int dark = 0;
  for (int y = 0; y < layout.tiles[0].y - 20; ++y)
    for (int x = 0; x < img.width; ++x) dark += (img.at(x, y) & 0xff) < 0x60;
  EXPECT_GT(dark, 50);
}

TEST(FeatureGrid, LayerScaleUsesOneRangeAndDrawsAColorbar) {
  const at::Tensor a = torch::arange(8, torch::kFloat).reshape({8, 1, 1}).expand({8, 5, 5}) * 2;
  FeatureGridOptions options;
  options.scale = FeatureScale::kLayer;
  options.colormap = "gray";
  options.channels = {7, 0, 3};
  const FeatureGridLayout layout = feature_grid_layout({8, 5, 5}, options);
  const testing::DecodedPng img =
      testing::decode_png(render_feature_grid(a, options, FigureFormat::kPng));
  ASSERT_EQ(layout.tiles.size(), 3u);
  EXPECT_EQ(layout.grid.rows, 2);
  EXPECT_EQ(layout.grid.cols, 2);
  const Colormap& gray = colormap("gray");
  for (size_t i = 0; i < 3; ++i) {
    const Box& t = layout.tiles[i];
    const double value = 2.0 * static_cast<double>(options.channels[i]);
    EXPECT_EQ(img.at(t.x + t.w / 2, t.y + t.h / 2), packed(gray.map(value / 14.0))) << i;
  }
  ASSERT_GT(layout.colorbar.w, 0);
  const Box& bar = layout.colorbar;
  EXPECT_EQ(img.at(bar.x + bar.w / 2, bar.y), packed(gray.entry(255)));  // top row: max
  EXPECT_EQ(img.at(bar.x + bar.w / 2, bar.y + bar.h - 1), packed(gray.entry(0)));
  EXPECT_LE(bar.x + bar.w, layout.width);
}

TEST(FeatureGrid, ConstantChannelIsTheLowestColour) {
  const at::Tensor a =
      torch::full({1, 4, 4}, 3.0f);  // matplotlib's Normalize gives 0 for an empty range
  const FeatureGridLayout layout = feature_grid_layout({1, 4, 4}, {});
  const testing::DecodedPng img =
      testing::decode_png(render_feature_grid(a, {}, FigureFormat::kPng));
  const Box& t = layout.tiles[0];
  EXPECT_EQ(img.at(t.x + 1, t.y + 1), packed(colormap("viridis").entry(0)));
}

TEST(FeatureGrid, VectorFormats) {
  const at::Tensor a = ramps(4, 7, 7);
  EXPECT_NE(render_feature_grid(a, {}, FigureFormat::kSvg).find("<svg"), std::string::npos);
  EXPECT_EQ(render_feature_grid(a, {}, FigureFormat::kPdf).substr(0, 5), "%PDF-");
}

TEST(FeatureGrid, BadInputsAreErrors) {
  EXPECT_THROW(render_feature_grid(torch::zeros({4, 4}), {}, FigureFormat::kPng), Error);
  EXPECT_THROW(render_feature_grid(torch::zeros({2, 4, 4}, torch::kLong), {}, FigureFormat::kPng),
               Error);
  FeatureGridOptions out_of_range;
  out_of_range.channels = {0, 5};
  EXPECT_THROW(render_feature_grid(ramps(3, 4, 4), out_of_range, FigureFormat::kPng), Error);
  FeatureGridOptions huge;
  huge.channels.assign(4000, 0);
  EXPECT_THROW(feature_grid_layout({1, 300, 300}, huge), Error);
  FeatureGridOptions bad_cmap;
  bad_cmap.colormap = "cividis";
  EXPECT_THROW(render_feature_grid(ramps(3, 4, 4), bad_cmap, FigureFormat::kPng), Error);
  EXPECT_THROW(parse_feature_scale("global"), Error);
}

}  // namespace
}  // namespace cnnscope
