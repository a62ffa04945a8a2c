// app/predictions.h: probabilities are the softmax of the logits (computed here in double as the
// reference), the top k is ordered and labelled, k is clipped, k < 1 is refused.
#include <gtest/gtest.h>

#include <cmath>

#include "app/predictions.h"
#include "common/error.h"

namespace cnnscope::app {
namespace {

TEST(Predictions, SoftmaxAndTopK) {
  const std::vector<double> logits{0.5, -1.0, 2.0, 1.25};
  const Predictions p = predict_top(at::tensor(std::vector<float>(logits.begin(), logits.end())), 2,
                                    {"daisy", "dandelion", "roses", "sunflowers"});
  double z = 0;
  for (double l : logits) z += std::exp(l);
  ASSERT_EQ(p.probabilities.size(), 4u);
  for (size_t i = 0; i < logits.size(); ++i) {
    EXPECT_NEAR(p.probabilities[i], std::exp(logits[i]) / z, 1e-6) << i;
    EXPECT_NEAR(p.logits[i], logits[i], 1e-7) << i;
  }
  ASSERT_EQ(p.top.size(), 2u);
  EXPECT_EQ(p.top[0].index, 2);
  EXPECT_EQ(p.top[0].label, "roses");
  EXPECT_EQ(p.top[1].index, 3);
  EXPECT_EQ(p.top[1].label, "sunflowers");
  EXPECT_DOUBLE_EQ(p.top[0].probability, p.probabilities[2]);
}

TEST(Predictions, KClippedIndexLabelsAndBadK) {
  const Predictions p = predict_top(at::tensor({1.0f, 3.0f}), 5, {});
  ASSERT_EQ(p.top.size(), 2u);
  EXPECT_EQ(p.top[0].label, "1");
  EXPECT_EQ(p.top[1].label, "0");
  EXPECT_THROW(predict_top(at::tensor({1.0f}), 0, {}), Error);
}

}  // namespace
}  // namespace cnnscope::app
