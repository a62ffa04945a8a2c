// checkpoint/state_dict.h queries: the BatchNorm counter rule, conv weights, glob key matching and
// its closest-key hint.
#include <gtest/gtest.h>

#include "checkpoint/state_dict.h"
#include "common/error.h"

namespace cnnscope {
namespace {

StateDict sample() {
  StateDict sd;
  sd.file = "model.pth";
  sd.tensors = {{"features.0.weight", at::zeros({4, 3, 3, 3})},
                {"features.0.bias", at::zeros({4})},
                {"bn.num_batches_tracked", at::zeros({}, at::kLong)},
                {"features.3.weight", at::zeros({8, 4, 3, 3})},
                {"index", at::zeros({2, 2, 2, 2}, at::kLong)},
                {"fc.weight", at::zeros({5, 8})}};
  return sd;
}

std::vector<std::string> names(const std::vector<const NamedTensor*>& ts) {
  std::vector<std::string> out;
  for (const NamedTensor* t : ts) out.push_back(t->name);
  return out;
}

TEST(StateDictQueries, BatchCounterRule) {
  EXPECT_TRUE(is_batch_counter("bn1.num_batches_tracked"));
  EXPECT_TRUE(is_batch_counter("num_batches_tracked"));
  EXPECT_FALSE(is_batch_counter("bn1.my_num_batches_tracked"));
  EXPECT_FALSE(is_batch_counter("bn1.running_mean"));
}

TEST(StateDictQueries, ConvWeightsAreFloating4D) {
  const StateDict sd = sample();
  EXPECT_TRUE(is_conv_weight(sd.tensors[0].tensor));
  EXPECT_FALSE(is_conv_weight(sd.tensors[4].tensor));  // integer
  EXPECT_FALSE(is_conv_weight(sd.tensors[5].tensor));  // 2-D
  ASSERT_NE(first_conv_weight(sd), nullptr);
  EXPECT_EQ(first_conv_weight(sd)->name, "features.0.weight");
  EXPECT_EQ(conv_weights_hint(sd), "conv weights: features.0.weight, features.3.weight");
  EXPECT_EQ(first_conv_weight(StateDict{}), nullptr);
}

TEST(StateDictQueries, GlobsMatchInFileOrder) {
  const StateDict sd = sample();
  EXPECT_EQ(names(match_keys(sd, {})).size(), sd.tensors.size());
  EXPECT_EQ(names(match_keys(sd, {"fc.*", "features.?.weight"})),
            (std::vector<std::string>{"features.0.weight", "features.3.weight", "fc.weight"}));
}

TEST(StateDictQueries, GlobWithoutMatchNamesFileAndClosestKeys) {
  try {
    match_keys(sample(), {"features.0.wieght"});
    FAIL() << "expected Error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("model.pth: no tensor key matches 'features.0.wieght'", 0), 0u) << m;
    EXPECT_NE(m.find("similar keys: features.0.weight"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace cnnscope
