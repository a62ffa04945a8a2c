// render/readable.h: small figures magnified by a whole factor, pixel blocks exact.
#include <gtest/gtest.h>

#include "render/readable.h"

namespace cnnscope {
namespace {

TEST(Readable, ZoomReachesTheReadableSide) {
  EXPECT_EQ(readable_zoom(28, 28), 8);  // 224
  EXPECT_EQ(readable_zoom(32, 32), 7);
  EXPECT_EQ(readable_zoom(30, 40), 8);  // the shorter side: 240
  EXPECT_EQ(readable_zoom(224, 224), 1);
  EXPECT_EQ(readable_zoom(500, 300), 1);
  EXPECT_EQ(readable_zoom(1, 2048), 2);  // the longer side stays within 4096
  EXPECT_EQ(readable_zoom(0, 0), 224);
}

TEST(Readable, NearestNeighbourBlocks) {
  RgbImage image{2, 1, {10, 20, 30, 40, 50, 60}};  // two pixels side by side
  const RgbImage big = readable(image);
  ASSERT_EQ(big.width, 2 * kReadableSide);
  ASSERT_EQ(big.height, kReadableSide);
  ASSERT_EQ(big.pixels.size(), static_cast<size_t>(big.width * big.height * 3));
  for (int64_t y : {int64_t{0}, big.height - 1})
    for (int64_t x : {int64_t{0}, kReadableSide - 1, kReadableSide, big.width - 1}) {
      const size_t at = static_cast<size_t>((y * big.width + x) * 3);
      const uint8_t want = x < kReadableSide ? 10 : 40;
      EXPECT_EQ(big.pixels[at], want) << x << "," << y;
    }
  const RgbImage same = readable(RgbImage{300, 300, std::vector<uint8_t>(300 * 300 * 3, 7)});
  EXPECT_EQ(same.width, 300);
}

}  // namespace
}  // namespace cnnscope
