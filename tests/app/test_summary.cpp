// app/summary.h: output shapes of the forward, mult-adds by torchinfo's rule (recomputed here from
// each conv/linear weight and output shape), containers summing their leaves, input-size checks.
#include <gtest/gtest.h>

#include <map>

#include "app/summary.h"
#include "common/error.h"

namespace cnnscope::app {
namespace {

TEST(Summary, MultAddsFollowTorchinfo) {
  const models::Network net = models::init_network({"resnet18", 10, 0});
  const Summary s = summarize(net, 64);
  EXPECT_EQ(s.input_shape, (std::vector<int64_t>{1, 3, 64, 64}));
  EXPECT_EQ(s.output_shape, (std::vector<int64_t>{1, 10}));
  EXPECT_EQ(s.params, net.num_parameters());
  std::map<std::string, const SummaryRow*> rows;
  for (const SummaryRow& r : s.rows) rows[r.tap->name] = &r;
  ASSERT_TRUE(rows.count("conv1") && rows.count("fc") && rows.count("layer1"));
  EXPECT_EQ(rows["conv1"]->output_shape, (std::vector<int64_t>{1, 64, 32, 32}));
  EXPECT_EQ(rows["conv1"]->mult_adds, int64_t{64 * 3 * 7 * 7} * 32 * 32);
  EXPECT_EQ(rows["fc"]->mult_adds, 512 * 10);
  EXPECT_EQ(rows["bn1"]->mult_adds, 0);
  int64_t leaves = 0, layer1 = 0;
  for (const SummaryRow& r : s.rows) {
    if (!r.tap->leaf) continue;
    leaves += r.mult_adds;
    if (r.tap->name.rfind("layer1.", 0) == 0) layer1 += r.mult_adds;
  }
  EXPECT_EQ(s.mult_adds, leaves);
  EXPECT_EQ(rows["layer1"]->mult_adds, layer1);
  EXPECT_GT(layer1, 0);
}

TEST(Summary, InputSizeChecked) {
  const models::Network net = models::init_network({"resnet18", 10, 0});
  EXPECT_THROW(summarize(net, 0), Error);
  EXPECT_THROW(summarize(net, 5000), Error);
}

}  // namespace
}  // namespace cnnscope::app
