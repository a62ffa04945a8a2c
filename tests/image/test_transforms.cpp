// torchvision's Resize size rule, CenterCrop (offsets rounded half to even, zero padding when the
// crop is larger) and ToTensor+Normalize, each checked against the oracle's pictures and tensors.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"
#include "common/npy.h"
#include "image/oracle_manifest.h"
#include "image/transforms.h"

namespace cnnscope {
namespace {

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

TEST(Transforms, ResizeAndCropEqualTorchvision) {
  const auto rows = testing::manifest("pipeline");
  ASSERT_GE(rows.size(), 100u);
  std::string decoded_for;
  at::Tensor rgb;
  for (const auto& row : rows) {
    if (decoded_for != row[0]) {
      std::string stem = row[0];
      std::replace(stem.begin(), stem.end(), '.', '_');
      rgb = read_npy(testing::image_fixture(stem + ".rgb.npy"));  // Pillow's decode, [H, W, 3]
      decoded_for = row[0];
    }
    const PreprocessOptions options = testing::pipeline_options(row);
    const at::Tensor expected = read_npy(testing::image_fixture(row[13]));  // [h, w, 3]
    const at::Tensor got = resize_and_crop(rgb, options);
    ASSERT_EQ(got.sizes(), expected.sizes()) << row[0] << " " << row[1];
    EXPECT_EQ(max_abs_diff(got, expected), 0) << row[0] << " " << row[1];
  }
}

TEST(Transforms, ToTensorNormalizeIsBitExact) {
  for (const auto& row : testing::manifest("pipeline")) {
    const PreprocessOptions options = testing::pipeline_options(row);
    const at::Tensor picture = read_npy(testing::image_fixture(row[13]));   // [h, w, 3] uint8
    const at::Tensor expected = read_npy(testing::image_fixture(row[12]));  // [3, h, w] float32
    const at::Tensor got = to_normalized_tensor(picture, options.mean, options.std);
    ASSERT_EQ(got.scalar_type(), at::kFloat);
    ASSERT_EQ(got.sizes(), expected.sizes()) << row[0] << " " << row[1];
    EXPECT_TRUE(got.equal(expected)) << row[0] << " " << row[1];
  }
}

TEST(Transforms, ResizeTargetFollowsTheShorterSide) {
  PreprocessOptions o;
  o.resize_short = 256;
  // int(256 * 500 / 333) = 384; int(256 * 640 / 480) = 341.
  EXPECT_EQ(resize_target({333, 500}, o).width, 384);
  EXPECT_EQ(resize_target({333, 500}, o).height, 256);
  EXPECT_EQ(resize_target({640, 480}, o).height, 341);
  EXPECT_EQ(resize_target({640, 480}, o).width, 256);
  o.resize_short = 0;
  EXPECT_EQ(resize_target({10, 20}, o).height, 10);
}

TEST(Transforms, ZeroStdIsAnError) {
  at::Tensor img = at::zeros({2, 2, 3}, at::kByte);
  EXPECT_THROW(to_normalized_tensor(img, {0, 0, 0}, {1, 0, 1}), Error);
}

}  // namespace
}  // namespace cnnscope
