// resize_rgb against Pillow's Image.resize((w, h), BILINEAR) on made pictures: shrinking
// (antialiased), enlarging, mixed, 1-pixel and one-axis-only cases. Exact: max difference 0.
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/npy.h"
#include "image/oracle_manifest.h"
#include "image/resize.h"

namespace cnnscope {
namespace {

TEST(Resize, EqualsPillowBilinear) {
  const auto rows = testing::manifest("resize");
  ASSERT_GE(rows.size(), 10u) << "oracle manifest missing or short";
  for (const auto& row : rows) {
    const at::Tensor src = read_npy(testing::image_fixture(row[0]));       // [H, W, 3]
    const at::Tensor expected = read_npy(testing::image_fixture(row[3]));  // [h, w, 3]
    const at::Tensor got =
        resize_rgb(src, std::stoll(row[1]), std::stoll(row[2]), Interpolation::kBilinear);
    ASSERT_EQ(got.sizes(), expected.sizes()) << row[0];
    EXPECT_EQ((got.to(at::kInt) - expected.to(at::kInt)).abs().max().item<int64_t>(), 0) << row[0];
  }
}

TEST(Resize, SameSizeIsACopy) {
  at::Tensor img = at::randint(0, 256, {5, 7, 3}, at::kByte);
  at::Tensor out = resize_rgb(img, 5, 7, Interpolation::kBilinear);
  EXPECT_TRUE(out.equal(img));
  EXPECT_NE(out.data_ptr(), img.data_ptr());
}

TEST(Resize, RejectsBadArguments) {
  at::Tensor img = at::zeros({4, 4, 3}, at::kByte);
  EXPECT_THROW(resize_rgb(img, 0, 4, Interpolation::kBilinear), Error);
  EXPECT_THROW(resize_rgb(at::zeros({4, 4}, at::kByte), 2, 2, Interpolation::kBicubic), Error);
  EXPECT_THROW(resize_rgb(at::zeros({4, 4, 3}, at::kFloat), 2, 2, Interpolation::kBicubic), Error);
}

}  // namespace
}  // namespace cnnscope
