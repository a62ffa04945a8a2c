// load_input end to end against torchvision + Pillow (max difference 0) for every oracle image and
// pipeline, the presets' definitions, .npy inputs used as they are, and errors naming the file.
#include <gtest/gtest.h>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/npy.h"
#include "image/input.h"
#include "image/oracle_manifest.h"

namespace cnnscope {
namespace {

TEST(Input, EqualsTorchvisionForEveryImageAndPipeline) {
  const auto rows = testing::manifest("pipeline");
  ASSERT_GE(rows.size(), 100u);
  for (const auto& row : rows) {
    const Input input =
        load_input_with_picture(testing::image_fixture(row[0]), testing::pipeline_options(row));
    const at::Tensor tensor = read_npy(testing::image_fixture(row[12]));   // [3, h, w] float32
    const at::Tensor picture = read_npy(testing::image_fixture(row[13]));  // [h, w, 3] uint8
    ASSERT_EQ(input.tensor.sizes(), tensor.sizes()) << row[0] << " " << row[1];
    EXPECT_TRUE(input.tensor.equal(tensor)) << row[0] << " " << row[1] << " max diff "
                                            << (input.tensor - tensor).abs().max().item<float>();
    EXPECT_TRUE(input.picture.equal(picture)) << row[0] << " " << row[1];
  }
}

TEST(Input, PresetsMatchTheOraclePipelines) {
  for (const auto& row : testing::manifest("pipeline")) {
    if (row[1] != "alexnet" && row[1] != "imagenet") continue;
    const PreprocessOptions want = testing::pipeline_options(row);
    const PreprocessOptions got = preset(row[1]);
    EXPECT_EQ(got.resize_short, want.resize_short);
    EXPECT_EQ(got.resize_height, want.resize_height);
    EXPECT_EQ(got.resize_width, want.resize_width);
    EXPECT_EQ(got.crop_height, want.crop_height);
    EXPECT_EQ(got.mean, want.mean);
    EXPECT_EQ(got.std, want.std);
  }
}

TEST(Input, UnknownPresetNamesItAndSuggestsOnlyCloseOnes) {
  const auto error_of = [](const std::string& name) {
    try {
      preset(name);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string far = error_of("vgg-weird");
  EXPECT_NE(far.find("unknown preset 'vgg-weird'"), std::string::npos) << far;
  EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
  const std::string near = error_of("imagnet");
  EXPECT_NE(near.find("did you mean 'imagenet'"), std::string::npos) << near;
}

TEST(Input, NpyTensorsAreUsedAsTheyAre) {
  const at::Tensor t = at::randn({3, 17, 9});  // [3, H, W]
  const std::string chw = ::testing::TempDir() + "/input_chw.npy";
  const std::string nchw = ::testing::TempDir() + "/input_nchw.npy";
  write_npy(chw, t);
  write_npy(nchw, t.unsqueeze(0));
  const PreprocessOptions options = preset("imagenet");
  EXPECT_TRUE(load_input(chw, options).equal(t));
  EXPECT_TRUE(load_input(nchw, options).equal(t));
  const Input input = load_input_with_picture(chw, options);
  EXPECT_EQ(input.picture.sizes(), (std::vector<int64_t>{17, 9, 3}));
  EXPECT_EQ(input.picture.scalar_type(), at::kByte);
}

TEST(Input, WrongNpyShapeOrDtypeIsRefused) {
  const std::string wrong_shape = ::testing::TempDir() + "/input_wrong_shape.npy";
  const std::string wrong_dtype = ::testing::TempDir() + "/input_wrong_dtype.npy";
  write_npy(wrong_shape, at::zeros({4, 5, 5}));
  write_npy(wrong_dtype, at::zeros({3, 5, 5}, at::kDouble));
  for (const std::string& path : {wrong_shape, wrong_dtype}) {
    try {
      load_input(path, preset("alexnet"));
      ADD_FAILURE() << "accepted " << path;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(Input, BadImagesNameTheFile) {
  for (const auto& row : testing::manifest("bad")) {
    const std::string path = testing::image_fixture(row[0]);
    try {
      load_input(path, preset("imagenet"));
      ADD_FAILURE() << "accepted " << row[0];
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace cnnscope
