// explain::default_cam_layer for every family, the ones without a `features` or `layerN` entry
// included (the fallback: the last top-level module with a convolution, auxiliary heads left
// out), and compute_cam running there: a map [N, H, W] in [0, 1] and a layer map [N, h, w] >= 0.
// Parity with pytorch-grad-cam is tests/explain/test_explain_oracle.py.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "explain/methods.h"
#include "models/network.h"

namespace cnnscope {
namespace {

models::Network fresh(const std::string& arch) {
  return models::init_network({arch, 10, 0});
}

TEST(CamLayer, DefaultPerFamily) {
  const std::vector<std::pair<std::string, std::string>> cases{{"alexnet_seed", "features.12"},
                                                               {"vgg11", "features.20"},
                                                               {"resnet18", "layer4.1"},
                                                               {"resnet50", "layer4.2"},
                                                               {"densenet121", "features.norm5"},
                                                               {"squeezenet1_1", "features.12"},
                                                               {"mobilenet_v2", "features.18"},
                                                               {"efficientnet_b0", "features.8"},
                                                               {"convnext_tiny", "features.7"},
                                                               {"mnasnet0_5", "layers.16"},
                                                               {"googlenet", "inception5b"},
                                                               {"inception_v3", "Mixed_7c"},
                                                               {"shufflenet_v2_x0_5", "conv5"},
                                                               {"regnet_y_400mf", "trunk_output"},
                                                               {"resnet20_cifar", "layer3.2"},
                                                               {"lenet_blitz", "conv2"},
                                                               {"mnist_net", "conv2"}};
  for (const auto& [arch, layer] : cases) {
    const models::Network net = fresh(arch);
    EXPECT_EQ(explain::default_cam_layer(net), layer) << arch;
  }
}

TEST(CamLayer, GradCamRunsAtTheFallbackLayers) {
  for (const char* arch : {"shufflenet_v2_x0_5", "mnasnet0_5", "regnet_y_400mf"}) {
    const models::Network net = fresh(arch);
    const at::Tensor x = torch::randn({2, 3, 64, 64}, torch::TensorOptions().dtype(at::kFloat));
    const explain::CamResult cam =
        explain::compute_cam(net, x, {1, 2}, "gradcam", explain::default_cam_layer(net));
    ASSERT_EQ(cam.map.sizes().vec(), (std::vector<int64_t>{2, 64, 64})) << arch;
    EXPECT_GE(cam.map.min().item<float>(), 0.0f) << arch;
    EXPECT_LE(cam.map.max().item<float>(), 1.0f) << arch;
    ASSERT_EQ(cam.layer_map.dim(), 3) << arch;
    EXPECT_GE(cam.layer_map.min().item<float>(), 0.0f) << arch;
  }
}

TEST(CamLayer, BadLayerAndMethodThrow) {
  const models::Network net = fresh("resnet18");
  const at::Tensor x = torch::randn({1, 3, 64, 64});
  EXPECT_THROW(explain::compute_cam(net, x, {0}, "gradcam", "layer9"), Error);
  EXPECT_THROW(explain::compute_cam(net, x, {0}, "gradcamm", "layer4.1"), Error);
  EXPECT_THROW(explain::compute_cam(net, x, {0}, "gradcam", "fc"), Error);  // not [N, C, h, w]
  EXPECT_THROW(explain::compute_cam(net, x, {10}, "gradcam", "layer4.1"), Error);
}

}  // namespace
}  // namespace cnnscope
