// Network: taps that survive later in-place ops (the seed's aliasing, reproduced on purpose as
// features.1/4/7), default and `all` layers per family, name suggestions, input checks, state_dict.
#include <gtest/gtest.h>

#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "models/network.h"
#include "models/parity.h"
#include "testing.h"

namespace cnnscope::models {
namespace {

using parity::kRelTolerance;
using parity::rel_error;

TEST(Taps, ConvOutputSurvivesTheInPlaceReluThatFollows) {
  Network net = build_network(load_state_dict(testing::fixture("models_seed_alexnet.safetensors")));
  StateDict expected =
      load_state_dict(testing::fixture("models_seed_alexnet.expected.safetensors"));
  ForwardResult r = net.run(*expected.find("input"), {"features.0", "features.1"});
  EXPECT_LT(r.find("features.0")->min().item<float>(), 0.0f);  // raw conv: has negatives
  EXPECT_GE(r.find("features.1")->min().item<float>(), 0.0f);
  // The seed's edited forward returns "features.0/3/6" after the in-place ReLU: our features.1/4/7.
  ForwardResult seed = net.run(*expected.find("input"), net.default_layers());
  for (size_t i = 0; i < seed.taps.size(); ++i)
    EXPECT_LT(rel_error(seed.taps[i].tensor, *expected.find("seed." + std::to_string(i))),
              kRelTolerance);
}

TEST(Taps, SeedResNetOutputsAreConv1AndLayer1) {
  Network net =
      build_network(load_state_dict(testing::fixture("models_seed_resnet34.safetensors")));
  StateDict expected =
      load_state_dict(testing::fixture("models_seed_resnet34.expected.safetensors"));
  ASSERT_EQ(net.default_layers(), (std::vector<std::string>{"conv1", "layer1"}));
  ForwardResult r = net.run(*expected.find("input"), net.default_layers());
  EXPECT_LT(rel_error(r.taps[0].tensor, *expected.find("seed.0")), kRelTolerance);
  EXPECT_LT(rel_error(r.taps[1].tensor, *expected.find("seed.1")), kRelTolerance);
}

TEST(Taps, UnknownNameSuggestsClosest) {
  Network net = build_network(load_state_dict(testing::fixture("models_tv_resnet18.safetensors")));
  try {
    net.run(at::zeros({1, 3, 64, 64}), {"layer2.0.conv"});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer2.0.conv1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(net.select_layers("conv1,nope"), Error);
  EXPECT_EQ(net.select_layers(" conv1, layer1 ,conv1"),
            (std::vector<std::string>{"conv1", "layer1"}));
}

TEST(Layers, DefaultsAndAllPerFamily) {
  Network alex =
      build_network(load_state_dict(testing::fixture("models_seed_alexnet.safetensors")));
  EXPECT_EQ(alex.default_layers(),
            (std::vector<std::string>{"features.1", "features.4", "features.7"}));
  EXPECT_EQ(alex.select_layers("all"),
            (std::vector<std::string>{"features.1", "features.4", "features.7", "features.9",
                                      "features.11"}));
  Network vgg = build_network(load_state_dict(testing::fixture("models_tv_vgg11_bn.safetensors")));
  EXPECT_EQ(vgg.default_layers(),
            (std::vector<std::string>{"features.2", "features.6", "features.10"}));
  EXPECT_EQ(vgg.all_layers().size(), 8u);
  Network res = build_network(load_state_dict(testing::fixture("models_tv_resnet18.safetensors")));
  std::vector<std::string> all = res.all_layers();
  ASSERT_EQ(all.size(), 9u);
  EXPECT_EQ(all[0], "conv1");
  EXPECT_EQ(all[8], "layer4.1");
}

TEST(Run, InputThatDoesNotFitIsAnError) {
  Network net = build_network(load_state_dict(testing::fixture("models_seed_alexnet.safetensors")));
  EXPECT_THROW(net.run(at::zeros({1, 3, 128, 128})), Error);  // seed AlexNet: 224 only
  EXPECT_THROW(net.run(at::zeros({3, 224, 224})), Error);
  EXPECT_THROW(net.run(at::zeros({1, 1, 224, 224})), Error);
}

TEST(StateDict, RoundTripsThroughBuild) {
  Network net = build_network(load_state_dict(testing::fixture("models_tv_vgg13_bn.safetensors")));
  StateDict sd = net.state_dict();
  StateDict original = load_state_dict(testing::fixture("models_tv_vgg13_bn.safetensors"));
  ASSERT_EQ(sd.tensors.size(), original.tensors.size());
  for (size_t i = 0; i < sd.tensors.size(); ++i) {
    EXPECT_EQ(sd.tensors[i].name, original.tensors[i].name);
    EXPECT_TRUE(
        sd.tensors[i].tensor.equal(original.tensors[i].tensor.to(sd.tensors[i].tensor.dtype())))
        << sd.tensors[i].name;
  }
}

}  // namespace
}  // namespace cnnscope::models
