// The presets named after layout archs and the interpolation choice, against
// tests/oracle/make_image_timm_presets.py and make_image_interpolation.py: load_input with every
// "timm/<name>" preset equals timm's create_transform(resolve_data_config(model)) with Pillow;
// resize_rgb(NEAREST) equals Pillow's Image.resize(size, NEAREST); an interpolation given to
// resolve_preprocess replaces the preset's and equals torchvision's Resize(size, interpolation)
// (all: max difference 0). The seed presets are checked end to end in test_seed_presets.py.
#include <gtest/gtest.h>

#include <set>

#include "common/error.h"
#include "common/npy.h"
#include "image/input.h"
#include "image/oracle_manifest.h"
#include "image/preprocess_spec.h"
#include "image/resize.h"

namespace cnnscope {
namespace {

std::string timm_fixture(const std::string& name) {
  return testing::fixture("image_timm/" + name);
}

std::string interpolation_fixture(const std::string& name) {
  return testing::fixture("image_interpolation/" + name);
}

void expect_equal(const at::Tensor& got, const at::Tensor& expected, const std::string& what) {
  ASSERT_EQ(got.sizes(), expected.sizes()) << what;
  EXPECT_TRUE(got.equal(expected))
      << what << " max diff " << (got - expected).abs().max().item<float>();
}

TEST(TimmPresets, EqualTimmTransforms) {
  const auto cases = testing::manifest("timm", "image_timm");
  std::set<std::string> checked;
  for (const auto& row : cases) {
    const at::Tensor expected = read_npy(timm_fixture(row[2]));  // [3, size, size]
    expect_equal(load_input(timm_fixture(row[1]), preset(row[0])), expected, row[0]);
    checked.insert(row[0]);
  }
  // every timm preset of the table has a case
  for (const std::string& name : preset_names()) {
    if (name.rfind("timm/", 0) == 0) {
      EXPECT_EQ(checked.count(name), 1u) << name;
    }
  }
  EXPECT_GE(checked.size(), 26u) << "oracle manifest missing or short";
}

TEST(LayoutPresets, SeedPresetsResolve) {
  for (const char* name : {"seed/googlenet", "seed/efficientnet_b7", "seed/efficientnetv2_l",
                           "seed/convnext_large", "seed/regnety_400mf", "seed/regnetx_1.6gf"})
    EXPECT_EQ(preset(name).name, name);
  EXPECT_EQ(preset("seed/efficientnet_b3").crop_height, 300);
  EXPECT_EQ(preset("seed/convnext_tiny").resize_short, 255);  // int(224 * 1.14)
}

TEST(Nearest, EqualsPillowNearest) {
  const auto cases = testing::manifest("nearest", "image_interpolation");
  ASSERT_GE(cases.size(), 30u) << "oracle manifest missing or short";
  for (const auto& row : cases) {
    const at::Tensor src = read_npy(interpolation_fixture(row[0]));       // [H, W, 3]
    const at::Tensor expected = read_npy(interpolation_fixture(row[3]));  // [h, w, 3]
    const at::Tensor got =
        resize_rgb(src, std::stoll(row[1]), std::stoll(row[2]), Interpolation::kNearest);
    expect_equal(got, expected, row[0]);
  }
}

TEST(Interpolation, ReplacesThePresetsAsTorchvisionResize) {
  const auto cases = testing::manifest("override", "image_interpolation");
  ASSERT_GE(cases.size(), 6u) << "oracle manifest missing or short";
  for (const auto& row : cases) {
    PreprocessSpec spec;
    spec.interpolation = row[1];
    const PreprocessOptions options = resolve_preprocess(spec, row[0]);
    EXPECT_EQ(options.name, row[0] + "+" + row[1]);
    const at::Tensor expected = read_npy(interpolation_fixture(row[3]));  // [C, h, w]
    expect_equal(load_input(interpolation_fixture(row[2]), options), expected,
                 row[0] + " " + row[1]);
  }
}

TEST(Interpolation, ThePresetsOwnKeepsItsNameAndUnknownSuggests) {
  PreprocessSpec spec;
  spec.interpolation = "bicubic";
  EXPECT_EQ(resolve_preprocess(spec, "timm/resnet50").name, "timm/resnet50");
  spec.interpolation = "bicubc";
  try {
    resolve_preprocess(spec, "imagenet");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'bicubic'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cnnscope
