// Network::run with RunOptions: gradients through the captured taps and the input, the tap
// values equal to the inference run's, and the per-module hook. Spec: for torchvision's ResNet,
// logits = fc(mean over H, W of layer4), so d logit_k / d layer4[n, c, h, w] = fc.weight[k, c] /
// (H * W) exactly; no oracle needed.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/network.h"

namespace cnnscope::models {
namespace {

Network small_resnet() {
  InitOptions init;
  init.arch = "resnet18";
  init.num_classes = 5;
  init.seed = 3;
  return init_network(init);
}

TEST(RunOptions, GradientOfALogitWithRespectToATapIsTheClassifierWeight) {
  const Network net = small_resnet();
  torch::manual_seed(0);
  const at::Tensor input = torch::randn({2, 3, 64, 64});  // [N, 3, H, W]
  RunOptions options;
  options.taps = {"layer4", "layer1.0.bn1"};
  options.gradients = true;
  const ForwardResult r = net.run(input, options);
  const at::Tensor& layer4 = *r.find("layer4");  // [2, 512, 2, 2]
  ASSERT_TRUE(layer4.requires_grad());
  ASSERT_TRUE(r.logits.requires_grad());

  const int64_t k = 3;
  const at::Tensor grad =
      torch::autograd::grad({r.logits.select(1, k).sum()}, {layer4}, {}, true)[0];  // [2,512,2,2]
  const at::Tensor fc = net.state_dict().find("fc.weight")->select(0, k);           // [512]
  const at::Tensor expected =
      (fc / 4.0).view({1, 512, 1, 1}).expand_as(grad);  // H * W = 2 * 2 positions
  EXPECT_LT((grad - expected).abs().max().item<double>(), 1e-7);

  // The captures hold the same values as an inference run's (the in-place ReLU after layer1.0.bn1
  // runs on the forward's copy, not on the capture).
  const ForwardResult plain = net.run(input, options.taps);
  EXPECT_FALSE(plain.logits.requires_grad());
  for (const std::string& name : options.taps)
    EXPECT_TRUE(torch::equal(r.find(name)->detach(), *plain.find(name))) << name;
  EXPECT_TRUE(torch::allclose(r.logits.detach(), plain.logits, 1e-6, 1e-6));
}

TEST(RunOptions, InputGradientFlowsThroughTheNetwork) {
  const Network net = small_resnet();
  const at::Tensor input = torch::randn({1, 3, 64, 64}).requires_grad_(true);  // [1, 3, H, W]
  RunOptions options;
  options.gradients = true;
  const ForwardResult r = net.run(input, options);
  const at::Tensor grad = torch::autograd::grad({r.logits[0][0]}, {input})[0];
  EXPECT_EQ(grad.sizes(), input.sizes());
  EXPECT_GT(grad.abs().sum().item<double>(), 0.0);
}

TEST(RunOptions, HookReplacesWhatTheForwardContinuesWith) {
  const Network net = small_resnet();
  const at::Tensor input = torch::randn({1, 3, 64, 64});  // [1, 3, H, W]
  int calls = 0;
  RunOptions options;
  options.taps = {"fc"};
  options.hook = [&calls](const std::string& name, const at::Tensor& out) {
    ++calls;
    return name == "fc" ? out * 2 : out;
  };
  const ForwardResult doubled = net.run(input, options);
  const ForwardResult plain = net.run(input, std::vector<std::string>{});
  EXPECT_TRUE(torch::allclose(doubled.logits, plain.logits * 2, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(*doubled.find("fc"), plain.logits * 2, 1e-6, 1e-6));
  EXPECT_GT(calls, 20);  // every module reports: conv1, bn1, relu, ..., each block and its parts
}

}  // namespace
}  // namespace cnnscope::models
