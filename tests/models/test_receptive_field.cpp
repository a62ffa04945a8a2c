// Receptive fields from kernel/stride/padding/dilation: torchvision AlexNet and VGG11 worked out by
// hand (Araujo et al.'s single-path formulas), patches clipped at the borders, branched networks
// (ResNet) without one, unknown names refused.
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
  EXPECT_FALSE(receptive_field(init_network({"resnet18", 10, 0}), "layer1").has_value());
  EXPECT_THROW(receptive_field(vgg, "features.99"), Error);
}

}  // namespace
}  // namespace cnnscope::models
