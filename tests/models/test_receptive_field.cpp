// Receptive fields from kernel/stride/padding/dilation: torchvision AlexNet and VGG11 worked out by
// hand (Araujo et al.'s single-path formulas), ResNet18's main path by hand, patches clipped at
// the borders, other branched networks (DenseNet) without one, unknown names refused.
#include <gtest/gtest.h>

#include "common/error.h"
#include "models/receptive_field.h"

namespace cnnscope::models {
namespace {

TEST(ReceptiveField, AlexNetByHand) {
  const Network net = init_network({"alexnet", 10, 0});
  // features.0 Conv2d(3, 64, 11, stride 4, padding 2)
  const auto conv1 = receptive_field(net, "features.0");
  ASSERT_TRUE(conv1.has_value());
  EXPECT_EQ(conv1->size[0], 11);
  EXPECT_EQ(conv1->jump[0], 4);
  EXPECT_EQ(conv1->padding[0], 2);
  // + MaxPool(3, 2): r = 11 + 2*4 = 19, j = 8; + Conv(5, pad 2): r = 19 + 4*8 = 51, p = 2 + 2*8
  // (features.3; features.4 is its ReLU)
  const auto conv2 = receptive_field(net, "features.4");
  ASSERT_TRUE(conv2.has_value());
  EXPECT_EQ(conv2->size[1], 51);
  EXPECT_EQ(conv2->jump[1], 8);
  EXPECT_EQ(conv2->padding[1], 18);
  // features.4 is the ReLU after that conv: it sees what the conv sees
  EXPECT_EQ(receptive_field(net, "features.3")->size[0], 51);
  EXPECT_EQ(conv2->patch(0, 0, 224, 224), (std::array<int64_t, 4>{0, 0, 33, 33}));
  EXPECT_EQ(conv2->patch(26, 1, 224, 224), (std::array<int64_t, 4>{190, 0, 224, 41}));
}

TEST(ReceptiveField, Vgg11WholeFeaturesAndNoneForBranches) {
  const Network vgg = init_network({"vgg11", 10, 0});
  // 8 convs 3x3 and 5 pools 2x2: r = 1 + 2*(1+2+4+4+8+8+16+16) + (1+2+4+8+16) = 150
  const auto all = receptive_field(vgg, "features");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size[0], 150);
  EXPECT_EQ(all->jump[0], 32);
  EXPECT_FALSE(
      receptive_field(init_network({"densenet121", 10, 0}), "features.denseblock1").has_value());
  EXPECT_THROW(receptive_field(vgg, "features.99"), Error);
}

TEST(ReceptiveField, ResNet18MainPathByHand) {
  const Network net = init_network({"resnet18", 10, 0});
  // conv1 7x7/2 pad 3: r 7, j 2, p 3; maxpool 3/2 pad 1: r 11, j 4, p 5; layer1: four 3x3
  // convs, each r += 2*4, p += 4: r 43, p 21; layer2.0.conv1 3x3/2: r 51, j 8, p 25; then three
  // more 3x3 (the downsample's 1x1/2 skipped): r 51 + 3*16 = 99, p 25 + 3*8 = 49.
  const auto layer1 = receptive_field(net, "layer1");
  ASSERT_TRUE(layer1.has_value());
  EXPECT_EQ(layer1->size[0], 43);
  EXPECT_EQ(layer1->jump[0], 4);
  EXPECT_EQ(layer1->padding[0], 21);
  const auto layer2 = receptive_field(net, "layer2");
  ASSERT_TRUE(layer2.has_value());
  EXPECT_EQ(layer2->size[1], 99);
  EXPECT_EQ(layer2->jump[1], 8);
  EXPECT_EQ(layer2->padding[1], 49);
  // Inside a block: layer2.0.conv1 sees layer1's field through one 3x3/2 convolution.
  EXPECT_EQ(receptive_field(net, "layer2.0.conv1")->size[0], 51);
  EXPECT_FALSE(receptive_field(net, "layer2.0.downsample").has_value());
  EXPECT_FALSE(receptive_field(net, "fc").has_value());
}

}  // namespace
}  // namespace cnnscope::models
