// Streaming channel statistics: moments worked out by hand, Chan et al.'s merge of any split equal
// to one pass, top-k ordering and ties, spatial maxima positions (first maximum, NaN ignored).
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "stats/channel_stats.h"

namespace cnnscope {
namespace {

TEST(ChannelStats, MomentsByHand) {
  // [N=2, C=2, 1, 2]: channel 0 holds -1, 3, 0, 2; channel 1 holds 1, 1, 1, 1
  const at::Tensor maps =
      torch::tensor({-1.f, 3.f, 1.f, 1.f, 0.f, 2.f, 1.f, 1.f}).reshape({2, 2, 1, 2});
  const std::vector<ChannelMoments> m = channel_moments(maps);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].count, 4);
  EXPECT_DOUBLE_EQ(m[0].mean, 1.0);
  EXPECT_DOUBLE_EQ(m[0].m2, 4.0 + 4.0 + 1.0 + 1.0);
  EXPECT_DOUBLE_EQ(m[0].std(), std::sqrt(10.0 / 3.0));
  EXPECT_DOUBLE_EQ(m[0].min, -1.0);
  EXPECT_DOUBLE_EQ(m[0].max, 3.0);
  EXPECT_EQ(m[0].positive, 2);
  EXPECT_DOUBLE_EQ(m[0].positive_fraction(), 0.5);
  EXPECT_FALSE(m[0].dead());
  EXPECT_FALSE(m[0].always_on());
  EXPECT_TRUE(m[1].dead());  // constant: zero variance
  EXPECT_TRUE(m[1].always_on());
  EXPECT_THROW(channel_moments(at::zeros({0, 2, 1, 1})), Error);
}

TEST(ChannelStats, MergeOfAnySplitEqualsOnePass) {
  const at::Tensor maps = at::randn({7, 3, 5, 4}, at::kDouble) * 3 + 1;  // [N, C, H, W]
  const std::vector<ChannelMoments> whole = channel_moments(maps);
  for (int64_t split = 1; split < 7; ++split) {
    std::vector<ChannelMoments> merged(3);
    for (const at::Tensor& part : {maps.slice(0, 0, split), maps.slice(0, split)}) {
      const std::vector<ChannelMoments> m = channel_moments(part);
      for (size_t c = 0; c < 3; ++c) merge_moments(merged[c], m[c]);
    }
    for (size_t c = 0; c < 3; ++c) {
      EXPECT_EQ(merged[c].count, whole[c].count);
      EXPECT_NEAR(merged[c].mean, whole[c].mean, 1e-12 * std::abs(whole[c].mean) + 1e-15);
      EXPECT_NEAR(merged[c].std(), whole[c].std(), 1e-12 * whole[c].std());
      EXPECT_EQ(merged[c].min, whole[c].min);
      EXPECT_EQ(merged[c].max, whole[c].max);
      EXPECT_EQ(merged[c].positive, whole[c].positive);
    }
  }
  ChannelMoments empty;
  ChannelMoments copy = whole[0];
  merge_moments(copy, empty);
  EXPECT_EQ(copy.m2, whole[0].m2);
  merge_moments(empty, whole[0]);
  EXPECT_EQ(empty.mean, whole[0].mean);
}

TEST(ChannelStats, TopKKeepsLargestWithLowerImageOnTies) {
  TopK top(3);
  top.offer({1.0, 5, 0, 0});
  top.offer({2.0, 9, 0, 0});
  top.offer({1.0, 2, 0, 0});
  top.offer({0.5, 0, 0, 0});  // below the third: dropped
  top.offer({1.0, 7, 0, 0});  // a tie with a higher image index: dropped
  ASSERT_EQ(top.hits().size(), 3u);
  EXPECT_EQ(top.hits()[0].image, 9);
  EXPECT_EQ(top.hits()[1].image, 2);
  EXPECT_EQ(top.hits()[2].image, 5);
  TopK other(3);
  other.offer({3.0, 1, 0, 0});
  top.merge(other);
  EXPECT_EQ(top.hits()[0].image, 1);
  EXPECT_EQ(top.hits()[2].image, 2);
}

TEST(ChannelStats, SpatialMaximaFirstPositionNanIgnored) {
  at::Tensor maps = at::zeros({2, 2, 2, 3});  // [B, C, H, W]
  maps[0][0][1][2] = 5;
  maps[0][0][0][1] = 5;  // same value earlier in row-major order: this one
  maps[1][0][1][0] = 7;
  maps[0][1].fill_(std::nan(""));  // image 0, channel 1: nothing to offer
  maps[1][1][1][1] = -1;
  maps[1][1] -= 2;
  std::vector<TopK> top(2, TopK(2));
  offer_spatial_maxima(maps, {10, 11}, top);
  ASSERT_EQ(top[0].hits().size(), 2u);
  EXPECT_EQ(top[0].hits()[0].image, 11);
  EXPECT_EQ(top[0].hits()[0].y, 1);
  EXPECT_EQ(top[0].hits()[0].x, 0);
  EXPECT_EQ(top[0].hits()[1].image, 10);
  EXPECT_EQ(top[0].hits()[1].y, 0);
  EXPECT_EQ(top[0].hits()[1].x, 1);
  ASSERT_EQ(top[1].hits().size(), 1u);
  EXPECT_DOUBLE_EQ(top[1].hits()[0].value, -2.0);
  EXPECT_EQ(top[1].hits()[0].y, 0);
  EXPECT_EQ(top[1].hits()[0].x, 0);
  EXPECT_THROW(offer_spatial_maxima(maps, {1}, top), Error);
}

}  // namespace
}  // namespace cnnscope
