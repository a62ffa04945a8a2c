// stats/compare.h and histogram_in_range: figures against float64 formulas written out here,
// the undefined cases, and numpy.histogram's range= rule (values outside left out, edges linspace).
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "stats/compare.h"
#include "stats/histogram.h"

namespace cnnscope {
namespace {

TEST(Compare, DiffFiguresInDouble) {
  const at::Tensor a = at::tensor({3.0f, 4.0f, 0.0f, 1.0f});
  const at::Tensor b = at::tensor({3.0f, 0.0f, 0.0f, 2.0f});
  const TensorDiff d = diff_tensors(a, b);
  EXPECT_EQ(d.numel, 4);
  EXPECT_DOUBLE_EQ(d.l2_a, std::sqrt(26.0));
  EXPECT_DOUBLE_EQ(d.l2_b, std::sqrt(13.0));
  EXPECT_DOUBLE_EQ(d.l2_diff, std::sqrt(17.0));
  EXPECT_DOUBLE_EQ(*d.rel_change, std::sqrt(17.0) / std::sqrt(26.0));
  EXPECT_DOUBLE_EQ(*d.cosine, 11.0 / (std::sqrt(26.0) * std::sqrt(13.0)));
  EXPECT_DOUBLE_EQ(d.max_abs_diff, 4.0);
  EXPECT_DOUBLE_EQ(d.changed_fraction, 0.5);
}

TEST(Compare, UndefinedAndMismatched) {
  const TensorDiff d = diff_tensors(at::zeros({3}), at::ones({3}));
  EXPECT_FALSE(d.rel_change);
  EXPECT_FALSE(d.cosine);
  EXPECT_EQ(diff_tensors(at::zeros({0}), at::zeros({0})).changed_fraction, 0.0);
  EXPECT_THROW(diff_tensors(at::zeros({2, 3}), at::zeros({3, 2})), Error);
  EXPECT_FALSE(relative_change(at::zeros({2, 3}), at::zeros({3, 2})));
  EXPECT_FALSE(relative_change(at::zeros({3}), at::ones({3})));
  // Integer and bfloat16 tensors compare as their float64 values.
  EXPECT_DOUBLE_EQ(*relative_change(at::tensor({2, 0}, at::kLong), at::tensor({2, 2}, at::kLong)),
                   1.0);
  EXPECT_DOUBLE_EQ(
      *relative_change(at::ones({4}, at::kBFloat16), at::full({4}, 3.0, at::kBFloat16)), 2.0);
}

TEST(Compare, MomentsMatchDoubleOps) {
  at::manual_seed(1);
  const at::Tensor t = at::randn({1001}) * 3 + 100;  // [1001] large mean: two-pass std matters
  const at::Tensor x = t.to(at::kDouble);
  const Moments m = moments(t);
  EXPECT_NEAR(*m.mean, x.mean().item<double>(), 1e-12 * 100);
  EXPECT_NEAR(*m.std, x.std().item<double>(), 1e-12 * 3);
  EXPECT_NEAR(*m.l2, x.norm().item<double>(), 1e-12 * x.norm().item<double>());
  EXPECT_EQ(m.lo, x.min().item<double>());
  EXPECT_EQ(m.hi, x.max().item<double>());
  EXPECT_FALSE(moments(at::ones({1})).std);
  EXPECT_FALSE(moments(at::zeros({0})).mean);
}

TEST(HistogramInRange, NumpyRangeRule) {
  // numpy.histogram([0, 0.5, 1, 2, 3, -1], bins=4, range=(0, 2)) -> [1, 1, 1, 1], edges 0..2.
  const Histogram h = histogram_in_range(at::tensor({0.0f, 0.5f, 1.0f, 2.0f, 3.0f, -1.0f}), 4,
                                         HistogramRange{0.0, 2.0});
  EXPECT_EQ(h.counts, (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(h.edges, (std::vector<double>{0.0, 0.5, 1.0, 1.5, 2.0}));
  EXPECT_FALSE(h.float32_edges);
  const Histogram one = histogram_in_range(at::tensor({5.0}), 2, HistogramRange{5.0, 5.0});
  EXPECT_EQ(one.edges, (std::vector<double>{4.5, 5.0, 5.5}));
  EXPECT_EQ(one.counts, (std::vector<int64_t>{0, 1}));
  EXPECT_THROW(histogram_in_range(at::ones({2}), 4, HistogramRange{1.0, 0.0}), Error);
  EXPECT_THROW(histogram_in_range(at::ones({2}), 0, HistogramRange{0.0, 1.0}), Error);
}

}  // namespace
}  // namespace cnnscope
