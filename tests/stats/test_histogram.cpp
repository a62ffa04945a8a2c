// histogram() against numpy.histogram (the oracle's FILE.expect.json): edges and counts equal
// exactly for 50, 7 and 1 bins on AlexNet, ResNet34, fp16/bf16 and edge tensors (values on
// edges, ULP steps, denormals, constants, NaN/Inf left out, integers, bools).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "stats/histogram.h"
#include "testing.h"

namespace cnnscope {
namespace {

void check_file(const std::string& file) {
  std::ifstream in(testing::fixture(file) + ".expect.json");
  ASSERT_TRUE(in.good()) << "missing oracle output for " << file;
  const nlohmann::json expect = nlohmann::json::parse(in);
  const StateDict sd = load_state_dict(testing::fixture(file));
  ASSERT_EQ(sd.tensors.size(), expect.size());
  for (const NamedTensor& t : sd.tensors) {
    for (const auto& [bins, e] : expect.at(t.name)["histograms"].items()) {
      SCOPED_TRACE(file + " " + t.name + " bins=" + bins);
      const Histogram h = histogram(t.tensor, std::stoi(bins));
      EXPECT_EQ(h.edges, e["edges"].get<std::vector<double>>());
      EXPECT_EQ(h.counts, e["counts"].get<std::vector<int64_t>>());
      EXPECT_EQ(h.float32_edges, e["float32_edges"].get<bool>());  // false: numpy refused float32
    }
  }
}

TEST(Histogram, SeedAlexNetMatchesNumpyExactly) {
  check_file("stats_alexnet.pth");
}
TEST(Histogram, SeedResNet34MatchesNumpyExactly) {
  check_file("stats_resnet34.pth");
}
TEST(Histogram, Float16MatchesNumpyExactly) {
  check_file("stats_alexnet_fp16.pth");
}
TEST(Histogram, BFloat16MatchesNumpyExactly) {
  check_file("stats_alexnet_bf16.pth");
}
TEST(Histogram, EdgeCasesMatchNumpyExactly) {
  check_file("stats_edge.safetensors");
}

TEST(Histogram, CountsSumToFiniteValues) {
  const at::Tensor t = at::tensor({1.0, NAN, 2.0, INFINITY, 3.0});
  const Histogram h = histogram(t, 4);
  int64_t total = 0;
  for (int64_t c : h.counts) total += c;
  EXPECT_EQ(total, 3);
  EXPECT_EQ(h.edges.front(), 1.0);
  EXPECT_EQ(h.edges.back(), 3.0);
}

TEST(Histogram, ZeroBinsIsAnError) {
  EXPECT_THROW(histogram(at::ones({3}), 0), Error);
}

// Red team: an expanded view's counts are its stored values' counts times the repeat.
TEST(Histogram, ExpandedViewsAsTheirValues) {
  const at::Tensor base = at::tensor({1.5, -2.0, 0.0, 4.25}, at::kFloat).view({4, 1});
  const at::Tensor view = base.expand({4, 777});
  EXPECT_EQ(histogram(view, 7).counts, histogram(view.contiguous(), 7).counts);
  EXPECT_EQ(histogram_in_range(view, 5, {-3, 3}).counts,
            histogram_in_range(view.contiguous(), 5, {-3, 3}).counts);
  const Histogram huge = histogram(base.expand({4, int64_t{1} << 40}), 3);
  EXPECT_EQ(huge.counts,
            (std::vector<int64_t>{int64_t{2} << 40, int64_t{1} << 40, int64_t{1} << 40}));
}

}  // namespace
}  // namespace cnnscope
