// The tutorial nets: the 60-minute blitz CNN, the seed's LeNet, pytorch/examples' MNIST Net
// (1-channel input; its revisions of 2019 and 2018) and akamaster's CIFAR ResNets (option A
// shortcuts). Parity with the classes written from their public definitions (oracle:
// make_models_tutorial.py): logits, inner taps, named_modules() names, classes, reprs and every
// module's output shape; detection of every --arch from its state_dict's names and shapes alone;
// init with the classes' keys.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "models/parity.h"

namespace cnnscope::models {
namespace {

class TutorialParity : public ::testing::TestWithParam<const char*> {};

TEST_P(TutorialParity, LogitsTapsModulesAndShapes) {
  parity::check_parity(GetParam(), "tutorial");
}

INSTANTIATE_TEST_SUITE_P(Builders, TutorialParity,
                         ::testing::Values("lenet_blitz", "lenet_seed", "mnist_net",
                                           "mnist_net_2018", "resnet20_cifar",
                                           "resnet20_cifar_option_b"));

TEST(TutorialInfo, MnistNet2018) {
  const StateDict sd = parity::oracle("models_tutorial_mnist_net_2018.safetensors");
  const ArchInfo info = build_network(sd).info();
  EXPECT_EQ(info.input_size, 28);
  EXPECT_EQ(info.input_channels, 1);
  EXPECT_EQ(info.default_preset, "mnist");
  EXPECT_NE(info.description.find("of 2018-2019 (5x5 kernels"), std::string::npos)
      << info.description;
}
TEST(TutorialInfo, CifarResNet20OptionB) {
  const StateDict sd = parity::oracle("models_tutorial_resnet20_cifar_option_b.safetensors");
  EXPECT_NE(build_network(sd).info().description.find("option B shortcuts"), std::string::npos);
}

constexpr int64_t kShapesClasses = 17;  // make_models_tutorial.py's num_classes for the shapes

const nlohmann::json& shapes() {
  return parity::manifest("models_tutorial_shapes.json");
}

TEST(TutorialDetect, EveryArchFromItsKeysAndShapesAlone) {
  ASSERT_EQ(shapes().size(), 9u);  // 2 LeNets, MNIST's Net (2 revisions), ResNet-20/32/44/56/110
  for (const auto& [arch, keys] : shapes().items()) {
    SCOPED_TRACE(arch);
    Network net = build_network(parity::zeros_like(arch, keys));
    EXPECT_EQ(net.info().arch, arch);
    EXPECT_EQ(net.info().num_classes, kShapesClasses);
    EXPECT_EQ(net.info().input_channels, arch.rfind("mnist_net", 0) == 0 ? 1 : 3);
    parity::check_init(arch, kShapesClasses, keys);
  }
}

TEST(TutorialDetect, OneChannelInputChecked) {
  Network net = init_network({"mnist_net", 10, 0});
  EXPECT_EQ(net.run(at::zeros({2, 1, 28, 28})).logits.sizes().vec(), (std::vector<int64_t>{2, 10}));
  try {
    net.run(at::zeros({1, 3, 28, 28}));
    ADD_FAILURE() << "ran";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[N, 1, H, W]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(init_network({"lenet_blitz", 10, 0}).run(at::zeros({1, 1, 32, 32})), Error);
}

TEST(TutorialInit, AkamastersKaimingNormal) {
  // _weights_init: kaiming_normal_ (fan_in, gain sqrt(2)) for convolutions and the Linear.
  StateDict sd = init_network({"resnet56_cifar", 10, 0}).state_dict();
  EXPECT_NEAR(sd.find("layer3.0.conv2.weight")->std().item<double>(), std::sqrt(2.0 / 576), 0.003);
  EXPECT_NEAR(sd.find("linear.weight")->std().item<double>(), std::sqrt(2.0 / 64), 0.03);
  EXPECT_EQ(init_network({"resnet1202_cifar", 10, 0})
                .info()
                .description.rfind("resnet1202_cifar, CIFAR ResNet-1202", 0),
            0u);
}

TEST(TutorialLayers, DefaultsAllLayersAndPresets) {
  for (const char* arch : {"lenet_blitz", "lenet_seed", "mnist_net", "resnet20_cifar"}) {
    SCOPED_TRACE(arch);
    Network net = init_network({arch, 5, 0});
    for (const std::string& name : net.default_layers()) EXPECT_NO_THROW(net.check_tap(name));
    for (const std::string& name : net.all_layers()) EXPECT_NO_THROW(net.check_tap(name));
    EXPECT_GT(net.all_layers().size(), net.default_layers().size());
  }
  EXPECT_EQ(init_network({"lenet_blitz", 5, 0}).info().default_preset, "cifar10");
  EXPECT_EQ(init_network({"lenet_seed", 5, 0}).info().default_preset, "cifar10");
  EXPECT_EQ(init_network({"resnet32_cifar", 5, 0}).info().default_preset, "cifar10_imagenet");
  EXPECT_EQ(init_network({"mnist_net", 5, 0}).info().default_preset, "mnist");
  EXPECT_EQ(init_network({"resnet20_cifar", 5, 0}).all_layers().size(), 10u);  // conv1 + 9 blocks
}

}  // namespace
}  // namespace cnnscope::models
