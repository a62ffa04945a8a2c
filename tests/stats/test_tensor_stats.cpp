// compute_stats against numpy (the oracle's FILE.expect.json): mean, std (ddof=1), min, max, L2,
// zero share and percentiles to 1e-6 relative on AlexNet, ResNet34, fp16/bf16 and edge tensors;
// NaN/Inf counted; undefined std reported as such.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "stats/tensor_stats.h"
#include "testing.h"

namespace cnnscope {
namespace {

constexpr double kRelative = 1e-6;
// Figures near zero (a mean of ±1e-9 over values of 0.1) are compared against the tensor's scale.
constexpr double kScaleFloor = 1e-12;

nlohmann::json expectations(const std::string& file) {
  std::ifstream in(testing::fixture(file) + ".expect.json");
  EXPECT_TRUE(in.good()) << "missing oracle output for " << file;
  return nlohmann::json::parse(in);
}

void expect_close(double got, double want, double scale, const std::string& what) {
  const double tolerance = kRelative * std::abs(want) + kScaleFloor * scale;
  EXPECT_NEAR(got, want, tolerance) << what;
}

void check_file(const std::string& file) {
  const nlohmann::json expect = expectations(file);
  const StateDict sd = load_state_dict(testing::fixture(file));
  ASSERT_EQ(sd.tensors.size(), expect.size()) << file;
  for (const NamedTensor& t : sd.tensors) {
    SCOPED_TRACE(file + " " + t.name);
    const nlohmann::json& e = expect.at(t.name);
    const TensorStats s = compute_stats(t.tensor);
    EXPECT_EQ(s.dtype, e["dtype"].get<std::string>());
    EXPECT_EQ(s.numel, e["numel"].get<int64_t>());
    EXPECT_EQ(s.finite, e["finite"].get<int64_t>());
    EXPECT_EQ(s.nan_count, e["nan"].get<int64_t>());
    EXPECT_EQ(s.posinf_count, e["posinf"].get<int64_t>());
    EXPECT_EQ(s.neginf_count, e["neginf"].get<int64_t>());
    EXPECT_EQ(s.has_values, e.contains("mean"));
    if (!e.contains("mean")) continue;
    const double scale =
        std::max(std::abs(e["min"].get<double>()), std::abs(e["max"].get<double>()));
    EXPECT_EQ(s.min, e["min"].get<double>());
    EXPECT_EQ(s.max, e["max"].get<double>());
    expect_close(s.mean, e["mean"].get<double>(), scale, "mean");
    expect_close(s.l2, e["l2"].get<double>(), scale, "l2");
    expect_close(s.zero_fraction, e["zero_fraction"].get<double>(), 1.0, "zero_fraction");
    expect_close(s.p1, e["p1"].get<double>(), scale, "p1");
    expect_close(s.p50, e["p50"].get<double>(), scale, "p50");
    expect_close(s.p99, e["p99"].get<double>(), scale, "p99");
    if (e["std"].is_null()) {
      EXPECT_FALSE(s.std.has_value()) << "std must be undefined for one value";
    } else {
      ASSERT_TRUE(s.std.has_value());
      expect_close(*s.std, e["std"].get<double>(), scale, "std");
    }
  }
}

TEST(TensorStats, SeedAlexNetMatchesNumpy) {
  check_file("stats_alexnet.pth");
}
TEST(TensorStats, SeedResNet34MatchesNumpy) {
  check_file("stats_resnet34.pth");
}
TEST(TensorStats, Float16MatchesNumpy) {
  check_file("stats_alexnet_fp16.pth");
}
TEST(TensorStats, BFloat16MatchesNumpy) {
  check_file("stats_alexnet_bf16.pth");
}
TEST(TensorStats, EdgeCasesMatchNumpy) {
  check_file("stats_edge.safetensors");
}

TEST(TensorStats, NonContiguousViewsCountTheirOwnValues) {
  const at::Tensor base = at::arange(24, at::kFloat).reshape({6, 4});  // [6, 4]
  const at::Tensor view = base.t().narrow(0, 1, 2);                    // [2, 6], strided
  const TensorStats s = compute_stats(view);
  const TensorStats c = compute_stats(view.contiguous());
  EXPECT_EQ(s.numel, 12);
  EXPECT_EQ(s.mean, c.mean);
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 22.0);
}

// Red team: an expanded view (stride 0) is summarised from its stored values, never copied out.
TEST(TensorStats, ExpandedViewsAsTheirValues) {
  const at::Tensor base = at::tensor({1.5, -2.0, 0.0, 4.25, std::nan("")}, at::kFloat).view({5, 1});
  const at::Tensor view = base.expand({5, 3001});
  const TensorStats s = compute_stats(view);
  const TensorStats c = compute_stats(view.contiguous());
  const auto exact = [](const TensorStats& t) {  // counts, extremes, ranks: no rounding
    return std::vector<double>{static_cast<double>(t.numel),
                               static_cast<double>(t.finite),
                               static_cast<double>(t.nan_count),
                               t.min,
                               t.max,
                               t.zero_fraction,
                               t.p1,
                               t.p50,
                               t.p99};
  };
  EXPECT_EQ(exact(s), exact(c));
  expect_close(s.mean, c.mean, 1, "mean");
  expect_close(*s.std, *c.std, 1, "std");
  expect_close(s.l2, c.l2, 1, "l2");
  // 2^42 values over 5 stored floats: the copy would take 16 TiB.
  const TensorStats huge = compute_stats(base.expand({5, int64_t{1} << 40}));
  EXPECT_EQ(huge.numel, int64_t{5} << 40);
  EXPECT_EQ(huge.nan_count, int64_t{1} << 40);
  EXPECT_EQ(huge.mean, s.mean);
  EXPECT_EQ(huge.p50, s.p50);
}

TEST(TensorStats, OverlappingViewsRefused) {
  const at::Tensor base = at::arange(2000, at::kFloat);
  EXPECT_THROW(compute_stats(base.as_strided({1000, 1000}, {1, 1})), Error);
}

TEST(TensorStats, OneValueHasNoStd) {
  const TensorStats s = compute_stats(at::full({1}, 2.5));
  EXPECT_TRUE(s.has_values);
  EXPECT_FALSE(s.std.has_value());
  EXPECT_EQ(s.p1, 2.5);
  EXPECT_EQ(s.p99, 2.5);
}

TEST(TensorStats, EmptyTensorHasNoValues) {
  const TensorStats s = compute_stats(at::zeros({0, 3}));
  EXPECT_FALSE(s.has_values);
  EXPECT_EQ(s.numel, 0);
  EXPECT_EQ(s.shape, (std::vector<int64_t>{0, 3}));
}

TEST(TensorStats, PercentileFollowsNumpyLinearRule) {
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 100), 4);
  EXPECT_NEAR(percentile_sorted(v, 1), 1.03, 1e-12);
}

}  // namespace
}  // namespace cnnscope
