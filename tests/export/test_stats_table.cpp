// export/stats_table.h: the `weights` JSON (nulls and notes for undefined figures, totals), CSV
// quoting and the grouped table, built from statistics computed here on small tensors.
#include <gtest/gtest.h>

#include <sstream>

#include "export/stats_table.h"

namespace cnnscope {
namespace {

WeightsReport sample() {
  WeightsReport r;
  r.file = "m.pth";
  r.format = "zip";
  r.bins = 4;
  const at::Tensor w = at::arange(24, at::kFloat).reshape({2, 3, 2, 2});  // [2, 3, 2, 2]
  const at::Tensor one = at::full({1}, 0.5);
  const at::Tensor odd = at::tensor({1.0f, NAN, 3.0f});
  for (const auto& [name, t] : std::vector<std::pair<std::string, at::Tensor>>{
           {"conv.weight", w}, {"conv.bias", one}, {"odd,name", odd}})
    r.tensors.push_back({name, compute_stats(t), histogram(t, r.bins)});
  r.skipped = {"bn.num_batches_tracked"};
  return r;
}

TEST(StatsTable, JsonHasFiguresNullsNotesAndTotals) {
  const nlohmann::json j = weights_json(sample());
  EXPECT_EQ(j["file"], "m.pth");
  EXPECT_EQ(j["bins"], 4);
  ASSERT_EQ(j["tensors"].size(), 3u);
  const auto& w = j["tensors"][0];
  EXPECT_EQ(w["shape"], (std::vector<int64_t>{2, 3, 2, 2}));
  EXPECT_DOUBLE_EQ(w["mean"].get<double>(), 11.5);
  EXPECT_DOUBLE_EQ(w["min"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(w["max"].get<double>(), 23.0);
  EXPECT_EQ(w["histogram"]["counts"], (std::vector<int64_t>{6, 6, 6, 6}));
  EXPECT_EQ(w["histogram"]["edge_dtype"], "float32");
  EXPECT_FALSE(w.contains("note"));
  const auto& one = j["tensors"][1];
  EXPECT_TRUE(one["std"].is_null());
  EXPECT_NE(one["note"].get<std::string>().find("one value"), std::string::npos);
  const auto& odd = j["tensors"][2];
  EXPECT_EQ(odd["nan"], 1);
  EXPECT_EQ(odd["finite"], 2);
  EXPECT_EQ(j["totals"]["tensors"], 3);
  EXPECT_EQ(j["totals"]["numel"], 28);
  EXPECT_EQ(j["totals"]["bytes"], 28 * 4);
  EXPECT_EQ(j["skipped"], (std::vector<std::string>{"bn.num_batches_tracked"}));
}

TEST(StatsTable, CsvQuotesFieldsAndLeavesUndefinedEmpty) {
  std::istringstream csv(weights_csv(sample()));
  std::string header, conv, bias, odd;
  std::getline(csv, header);
  std::getline(csv, conv);
  std::getline(csv, bias);
  std::getline(csv, odd);
  EXPECT_EQ(header.rfind("name,layer,dtype,shape,numel,", 0), 0u);
  EXPECT_EQ(conv.rfind("conv.weight,conv,float32,2x3x2x2,24,24,0,0,0,11.5,", 0), 0u) << conv;
  EXPECT_EQ(bias.rfind("conv.bias,conv,float32,1,1,1,0,0,0,0.5,,0.5,", 0), 0u) << bias;
  EXPECT_EQ(odd.rfind("\"odd,name\",\"odd,name\",float32,3,3,2,1,0,0,2,", 0), 0u) << odd;
}

TEST(StatsTable, TableGroupsByLayerWithTotals) {
  const std::string t = weights_table(sample());
  EXPECT_NE(t.find("conv  (25 values)\n"), std::string::npos) << t;
  const size_t weight = t.find("\n  weight ");
  ASSERT_NE(weight, std::string::npos) << t;
  const std::string row = t.substr(weight + 1, t.find('\n', weight + 1) - weight - 1);
  EXPECT_NE(row.find("float32  2\u00d73\u00d72\u00d72"), std::string::npos) << row;
  EXPECT_NE(row.find(" 11.5 "), std::string::npos) << row;
  EXPECT_NE(t.find("std undefined: one value (ddof=1)"), std::string::npos) << t;
  EXPECT_NE(t.find("total: 3 tensors, 28 values, 112 B (1 num_batches_tracked left out)"),
            std::string::npos)
      << t;
  EXPECT_EQ(layer_of("features.0.weight"), "features.0");
  EXPECT_EQ(layer_of("scale"), "scale");
}

}  // namespace
}  // namespace cnnscope
