// render/heatmap.h: CAM colouring as show_cam_on_image (uint8(255 * v) into the colormap, the
// overlay divided by its max), the signed map's red/white/blue and the magnitude map's scaling.
#include <gtest/gtest.h>

#include "render/colormap.h"
#include "render/heatmap.h"

namespace cnnscope {
namespace {

std::vector<uint8_t> rgb(Rgb8 c) {
  return {c.r, c.g, c.b};
}

std::vector<uint8_t> pixel(const RgbImage& image, int64_t i) {
  const auto at = image.pixels.begin() + i * 3;
  return {at, at + 3};
}

TEST(Heatmap, CamTakesTheColormapEntryOfTruncatedBytes) {
  const Colormap& jet = colormap("jet");
  const at::Tensor map = at::tensor({0.0f, 0.5f, 0.999f, 1.0f}).reshape({2, 2});  // [H, W]
  const RgbImage heat = cam_heatmap(map, jet);
  EXPECT_EQ(heat.width, 2);
  EXPECT_EQ(heat.height, 2);
  EXPECT_EQ(pixel(heat, 0), rgb(jet.entry(0)));
  EXPECT_EQ(pixel(heat, 1), rgb(jet.entry(127)));  // 127.5 truncated
  EXPECT_EQ(pixel(heat, 2), rgb(jet.entry(254)));
  EXPECT_EQ(pixel(heat, 3), rgb(jet.entry(255)));
}

TEST(Heatmap, OverlayBlendsAndDividesByItsMax) {
  RgbImage heat{1, 2, {200, 0, 0, 100, 0, 0}};
  const at::Tensor picture = at::full({2, 1, 3}, 0, at::kByte);  // [H, W, 3] black
  const RgbImage over = cam_overlay(heat, picture, 0.5);
  EXPECT_EQ(pixel(over, 0), (std::vector<uint8_t>{255, 0, 0}));  // the max becomes 255
  EXPECT_EQ(pixel(over, 1), (std::vector<uint8_t>{127, 0, 0}));  // half of it, truncated
  const at::Tensor white = at::full({2, 1, 3}, 255, at::kByte);
  const RgbImage pale = cam_overlay(heat, white, 0.0);  // the picture alone
  EXPECT_EQ(pixel(pale, 1), (std::vector<uint8_t>{255, 255, 255}));
  const RgbImage alone = cam_overlay(heat, at::Tensor(), 1.0);  // no picture: heat over black
  EXPECT_EQ(pixel(alone, 1), (std::vector<uint8_t>{127, 0, 0}));
}

TEST(Heatmap, SignedMapIsRedPositiveBlueNegativeWhiteAtZero) {
  const at::Tensor map = at::tensor({2.0f, -4.0f, 0.0f, -2.0f}).reshape({1, 4});  // [H, W]
  const RgbImage s = signed_heatmap(map);
  EXPECT_EQ(pixel(s, 0), (std::vector<uint8_t>{255, 128, 128}));  // +0.5: 255 * 0.5 rounded
  EXPECT_EQ(pixel(s, 1), (std::vector<uint8_t>{0, 0, 255}));      // the largest magnitude
  EXPECT_EQ(pixel(s, 2), (std::vector<uint8_t>{255, 255, 255}));
  EXPECT_EQ(pixel(s, 3), (std::vector<uint8_t>{128, 128, 255}));
}

TEST(Heatmap, MagnitudeMapIsScaledByItsMax) {
  const Colormap& viridis = colormap("viridis");
  const at::Tensor map = at::tensor({0.0f, 3.0f, 6.0f}).reshape({3, 1});  // [H, W]
  const RgbImage m = magnitude_heatmap(map, viridis);
  EXPECT_EQ(pixel(m, 0), rgb(viridis.map(0.0)));
  EXPECT_EQ(pixel(m, 1), rgb(viridis.map(0.5)));
  EXPECT_EQ(pixel(m, 2), rgb(viridis.map(1.0)));
  const RgbImage zero = magnitude_heatmap(at::zeros({2, 2}), viridis);
  EXPECT_EQ(pixel(zero, 3), rgb(viridis.entry(0)));
}

}  // namespace
}  // namespace cnnscope
