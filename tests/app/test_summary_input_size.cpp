// app/summary.h's default input size: the default preset's crop (or fixed resize), so `summary`,
// `report` and `serve` run the tutorial nets at the size they were trained for (CIFAR 32, MNIST's
// 1x28x28) and ImageNet nets at 224, with the network's input channels.
#include <gtest/gtest.h>

#include "app/summary.h"

namespace cnnscope::app {
namespace {

TEST(SummaryInputSize, FollowsTheDefaultPreset) {
  const struct {
    const char* arch;
    int64_t channels, size;
  } cases[] = {{"resnet18", 3, 224},   {"alexnet_seed", 3, 224},  {"inception_v3", 3, 299},
               {"lenet_blitz", 3, 32}, {"resnet20_cifar", 3, 32}, {"mnist_net", 1, 28}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.arch);
    const models::Network net = models::init_network({c.arch, 10, 0});
    EXPECT_EQ(default_input_size(net), c.size);
    const Summary s = summarize(net);
    EXPECT_EQ(s.input_shape, (std::vector<int64_t>{1, c.channels, c.size, c.size}));
    EXPECT_EQ(s.output_shape, (std::vector<int64_t>{1, 10}));
  }
}

}  // namespace
}  // namespace cnnscope::app
