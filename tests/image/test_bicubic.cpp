// Pillow-exact bicubic resize and the named presets, against tests/oracle/make_image_bicubic.py:
// resize_rgb(BICUBIC) equals Image.resize(size, BICUBIC) on made pictures (shrinking with
// antialias, enlarging, both pass orders, 40 random sizes; max difference 0), and load_input with
// each preset equals torchvision's IMAGENET1K_V1 transforms() of that builder (max difference 0).
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/npy.h"
#include "image/input.h"
#include "image/oracle_manifest.h"
#include "image/resize.h"

namespace cnnscope {
namespace {

std::string bicubic_fixture(const std::string& name) {
  return testing::fixture("image_bicubic/" + name);
}

std::vector<std::vector<std::string>> rows(const std::string& kind) {
  return testing::manifest(kind, "image_bicubic");
}

TEST(Bicubic, EqualsPillowBicubic) {
  const auto cases = rows("bicubic");
  ASSERT_GE(cases.size(), 50u) << "oracle manifest missing or short";
  for (const auto& row : cases) {
    const at::Tensor src = read_npy(bicubic_fixture(row[0]));       // [H, W, 3]
    const at::Tensor expected = read_npy(bicubic_fixture(row[3]));  // [h, w, 3]
    const at::Tensor got =
        resize_rgb(src, std::stoll(row[1]), std::stoll(row[2]), Interpolation::kBicubic);
    ASSERT_EQ(got.sizes(), expected.sizes()) << row[0];
    EXPECT_EQ((got.to(at::kInt) - expected.to(at::kInt)).abs().max().item<int64_t>(), 0)
        << row[0] << " " << src.sizes() << " -> " << expected.sizes();
  }
}

TEST(Bicubic, DiffersFromBilinear) {
  const at::Tensor src = read_npy(bicubic_fixture("resize0.src.npy"));  // [480, 640, 3]
  EXPECT_FALSE(resize_rgb(src, 224, 224, Interpolation::kBicubic)
                   .equal(resize_rgb(src, 224, 224, Interpolation::kBilinear)));
}

TEST(Presets, EqualTorchvisionWeightsTransforms) {
  const auto cases = rows("preset");
  ASSERT_GE(cases.size(), 20u) << "oracle manifest missing or short";
  for (const auto& row : cases) {
    const at::Tensor expected = read_npy(bicubic_fixture(row[2]));  // [3, crop, crop]
    const at::Tensor got = load_input(bicubic_fixture(row[1]), preset(row[0]));
    ASSERT_EQ(got.sizes(), expected.sizes()) << row[0];
    EXPECT_TRUE(got.equal(expected))
        << row[0] << " max diff " << (got - expected).abs().max().item<float>();
  }
}

TEST(Presets, EveryNameResolvesAndUnknownSuggestsTheClosest) {
  for (const std::string& name : preset_names()) EXPECT_EQ(preset(name).name, name);
  try {
    preset("efficientnet_b9");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("did you mean 'efficientnet_b"), std::string::npos) << what;
    EXPECT_LE(what.size(), 200u) << what;  // the closest names, not the whole table
  }
}

}  // namespace
}  // namespace cnnscope
