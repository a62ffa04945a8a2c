// image/preprocess_spec.h: the user's preprocessing text resolved against what the network needs
// (channels, fixed size); malformed text refused naming the step, never a command-line flag.
#include <gtest/gtest.h>

#include "common/error.h"
#include "image/preprocess_spec.h"

namespace cnnscope {
namespace {

std::string error_of(const PreprocessSpec& spec, const NetworkInput& net) {
  try {
    resolve_preprocess(spec, net);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(PreprocessSpec, MeanAndStdTakeOneNumberOrOnePerChannel) {
  PreprocessSpec spec;
  spec.mean = "0.25";
  spec.std = "0.5,0.25,0.125";
  const PreprocessOptions o = resolve_preprocess(spec, NetworkInput{"imagenet", 3, 0});
  EXPECT_EQ(o.mean, (std::array<double, 3>{0.25, 0.25, 0.25}));
  EXPECT_EQ(o.std, (std::array<double, 3>{0.5, 0.25, 0.125}));
  spec.std = "0.3081";
  EXPECT_EQ(resolve_preprocess(spec, NetworkInput{"mnist", 1, 28}).std[0], 0.3081);
  spec.std = "0.5,0.5,0.5";
  const std::string e = error_of(spec, {"mnist", 1, 28});
  EXPECT_NE(e.find("std '0.5,0.5,0.5' has 3 numbers for 1 channel"), std::string::npos) << e;
  spec.std = "0.5,x";
  EXPECT_NE(error_of(spec, {"imagenet", 3, 0}).find("is not a list of numbers"), std::string::npos);
}

TEST(PreprocessSpec, TheNetworksChannelsAndSize) {
  // A one-channel network with a colour default preset starts from MNIST's.
  const PreprocessOptions gray =
      resolve_preprocess(PreprocessSpec{}, NetworkInput{"imagenet", 1, 0});
  EXPECT_EQ(gray.name, "mnist");
  EXPECT_EQ(gray.channels, 1);
  // A fixed size replaces a preset that makes another one, unless the user sizes the input.
  const PreprocessOptions fixed =
      resolve_preprocess(PreprocessSpec{}, NetworkInput{"imagenet", 3, 32});
  EXPECT_EQ(fixed.resize_height, 32);
  EXPECT_EQ(fixed.resize_width, 32);
  EXPECT_EQ(fixed.crop_height, 0);
  EXPECT_EQ(fixed.name, "imagenet+32x32");
  EXPECT_EQ(resolve_preprocess(PreprocessSpec{}, NetworkInput{"cifar10", 3, 32}).name,
            "cifar10");  // makes 32x32 already
  PreprocessSpec sized;
  sized.resize = "40";
  sized.crop = 36;
  const PreprocessOptions own = resolve_preprocess(sized, NetworkInput{"imagenet", 3, 32});
  EXPECT_EQ(own.resize_short, 40);
  EXPECT_EQ(own.crop_height, 36);
  PreprocessSpec grayscale;
  grayscale.grayscale = true;
  EXPECT_EQ(resolve_preprocess(grayscale, NetworkInput{"imagenet", 3, 0}).channels, 1);
  // Without a network (preprocess), a preset keeps its own channels.
  PreprocessSpec mnist;
  mnist.preset = "mnist";
  EXPECT_EQ(resolve_preprocess(mnist, "imagenet").channels, 1);
}

TEST(PreprocessSpec, ErrorsNameTheStepNotAFlag) {
  PreprocessSpec spec;
  spec.resize = "0x5";
  const std::string e = error_of(spec, {"imagenet", 3, 0});
  EXPECT_NE(e.find("resize '0' is not a positive size"), std::string::npos) << e;
  EXPECT_EQ(e.find("--"), std::string::npos) << e;
}

}  // namespace
}  // namespace cnnscope
