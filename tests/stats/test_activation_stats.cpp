// Activation statistics: values worked out by hand, ddof=1 std, exact-zero fractions, top channels.
#include <gtest/gtest.h>

#include "common/error.h"
#include "stats/activation_stats.h"

namespace cnnscope {
namespace {

TEST(ActivationStats, PerChannelAndLayerByHand) {
  // channel 0: 0,0,2,2 ; channel 1: 1,2,3,4 ; channel 2: all zero (dead after ReLU)
  const at::Tensor a = torch::tensor({0.f, 0.f, 2.f, 2.f, 1.f, 2.f, 3.f, 4.f, 0.f, 0.f, 0.f, 0.f})
                           .reshape({3, 2, 2});  // [C, H, W]
  const ActivationStats s = activation_stats(a);
  EXPECT_EQ(s.shape, (std::vector<int64_t>{3, 2, 2}));
  ASSERT_EQ(s.channels.size(), 3u);
  EXPECT_DOUBLE_EQ(s.channels[0].mean, 1.0);
  EXPECT_DOUBLE_EQ(s.channels[0].std, std::sqrt(4.0 / 3.0));  // sum of squares 4, ddof=1
  EXPECT_DOUBLE_EQ(s.channels[0].zero_fraction, 0.5);
  EXPECT_DOUBLE_EQ(s.channels[1].mean, 2.5);
  EXPECT_DOUBLE_EQ(s.channels[1].std, std::sqrt(5.0 / 3.0));
  EXPECT_DOUBLE_EQ(s.channels[1].min, 1.0);
  EXPECT_DOUBLE_EQ(s.channels[1].max, 4.0);
  EXPECT_DOUBLE_EQ(s.channels[1].zero_fraction, 0.0);
  EXPECT_DOUBLE_EQ(s.channels[2].std, 0.0);
  EXPECT_DOUBLE_EQ(s.channels[2].zero_fraction, 1.0);
  EXPECT_DOUBLE_EQ(s.layer.mean, 14.0 / 12.0);
  EXPECT_DOUBLE_EQ(s.layer.min, 0.0);
  EXPECT_DOUBLE_EQ(s.layer.max, 4.0);
  EXPECT_DOUBLE_EQ(s.layer.zero_fraction, 6.0 / 12.0);
}

TEST(ActivationStats, MatchesTorchOnRandomHalfAndFloat) {
  torch::manual_seed(3);
  const at::Tensor a = torch::randn({5, 7, 3}).relu();  // [C, H, W]
  for (const at::ScalarType type : {at::kFloat, at::kDouble, at::kHalf}) {
    const at::Tensor x = a.to(type);
    const ActivationStats s = activation_stats(x);
    const at::Tensor d = x.to(at::kDouble).reshape({5, -1});
    for (int64_t c = 0; c < 5; ++c) {
      const auto& cs = s.channels[static_cast<size_t>(c)];
      EXPECT_NEAR(cs.mean, d[c].mean().item<double>(), 1e-12);
      EXPECT_NEAR(cs.std, d[c].std().item<double>(), 1e-12);
      EXPECT_EQ(cs.max, d[c].max().item<double>());
      EXPECT_NEAR(cs.zero_fraction, d[c].eq(0).to(at::kDouble).mean().item<double>(), 1e-15);
    }
  }
}

TEST(ActivationStats, SingleValueChannelsHaveZeroStd) {
  const ActivationStats s = activation_stats(torch::tensor({1.5f, -2.f}).reshape({2, 1, 1}));
  EXPECT_EQ(s.channels[0].std, 0.0);
  EXPECT_EQ(s.channels[1].min, -2.0);
}

TEST(ActivationStats, TopChannelsByMeanLargestFirst) {
  const at::Tensor a = torch::tensor({1.f, 5.f, 3.f, 5.f, 0.f}).reshape({5, 1, 1});
  const ActivationStats s = activation_stats(a);
  EXPECT_EQ(top_channels(s, 3), (std::vector<int64_t>{1, 3, 2}));  // tie: lower index first
  EXPECT_EQ(top_channels(s, 99).size(), 5u);
  EXPECT_TRUE(top_channels(s, 0).empty());
}

TEST(ActivationStats, EmptyAndIntegerTensorsAreErrors) {
  EXPECT_THROW(activation_stats(torch::zeros({0, 3, 3})), Error);
  EXPECT_THROW(activation_stats(torch::tensor(1.0f)), Error);
  EXPECT_THROW(activation_stats(torch::ones({2, 2}, at::kLong)), Error);
}

}  // namespace
}  // namespace cnnscope
