// torch.save readers against the oracle: zip (protocols 2-5, any archive folder), legacy, every
// dtype, views into shared storages, training dicts and the DataParallel prefix give exactly the
// names, dtypes, shapes and values torch.load gives; hostile files are refused with a clear error.
#include <gtest/gtest.h>
#include <torch/version.h>

#include <fstream>
#include <sstream>

#include "checkpoint/dtype.h"
#include "checkpoint/oracle_listing.h"
#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "stats/histogram.h"
#include "stats/tensor_stats.h"
#include "testing.h"

namespace cnnscope {
namespace {

class PthFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(PthFixture, MatchesTorchLoadExactly) {
  const std::string path = testing::fixture(GetParam());
  StateDict sd = load_state_dict(path);
  EXPECT_EQ(sd.file, path);
  EXPECT_EQ(sd.format,
            std::string(GetParam()).find("legacy") != std::string::npos ? "legacy" : "zip");
  testing::expect_matches_listing(sd, path + ".txt");
}

INSTANTIATE_TEST_SUITE_P(Files, PthFixture,
                         ::testing::Values("plain.pth", "plain_legacy.pth", "plain_p3.pth",
                                           "plain_p4.pth", "plain_p5.pth", "dtypes.pth",
                                           "dtypes_legacy.pth", "dtypes_p5.pth", "training.pth",
                                           "dataparallel.pth", "parameters.pth",
                                           "requires_grad.pth", "requires_grad_legacy.pth"));

// torch 2.x writes uint16/32/64 and float8 with _rebuild_tensor_v3 over an UntypedStorage; only a
// LibTorch that has those dtypes (2.3+, the pip wheel's) can hold them.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
INSTANTIATE_TEST_SUITE_P(UntypedDtypes, PthFixture,
                         ::testing::Values("dtypes_v3.pth", "dtypes_v3_p4.pth"));

TEST(Pth, UntypedDtypesShowAsNumbersInStatistics) {
  const StateDict sd = load_state_dict(testing::fixture("dtypes_v3.pth"));
  ASSERT_TRUE(sd.find("f8_e5m2") && sd.find("f8_e5m2_col") && sd.find("u64"));
  const at::Tensor& f8 = *sd.find("f8_e5m2");
  // The column view shares the untyped storage: it starts one float8 (byte) into it.
  EXPECT_EQ(sd.find("f8_e5m2_col")->data_ptr(), static_cast<const uint8_t*>(f8.data_ptr()) + 1);
  const TensorStats s = compute_stats(f8);
  EXPECT_TRUE(s.floating);  // float8 counts as float, its values widened exactly to double
  const at::Tensor wide = f8.to(at::kDouble);
  EXPECT_DOUBLE_EQ(s.max, wide.max().item<double>());
  EXPECT_DOUBLE_EQ(s.min, wide.min().item<double>());
  EXPECT_NEAR(s.mean, wide.mean().item<double>(), 1e-12 * wide.abs().max().item<double>());
  const Histogram h = histogram(*sd.find("u64"), 4);
  EXPECT_FALSE(h.float32_edges);
  EXPECT_EQ(h.edges.back(), 9223372036854775808.0);
  EXPECT_EQ(h.counts, (std::vector<int64_t>{2, 0, 0, 1}));
}
#else
TEST(Pth, UntypedDtypesNeedLibTorch23) {
  try {
    load_state_dict(testing::fixture("dtypes_v3.pth"));
    FAIL() << "LibTorch " << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR
           << " has no uint16: loading must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("TORCH=wheel"), std::string::npos) << e.what();
  }
}
#endif

TEST(Pth, ZipTensorsAliasTheFileAndViewsShareStorage) {
  StateDict sd = load_state_dict(testing::fixture("dtypes.pth"));
  const at::Tensor* base = sd.find("base");
  const at::Tensor* row = sd.find("row_view");
  const at::Tensor* transposed = sd.find("transposed");
  ASSERT_TRUE(base && row && transposed);
  // Same storage, no copies: the row view starts 12 floats into base's storage.
  EXPECT_EQ(row->data_ptr<float>(), base->data_ptr<float>() + 12);
  EXPECT_EQ(transposed->strides(), (at::IntArrayRef{1, 6}));
}

TEST(Pth, TrainingCheckpointPicksStateDictAndListsEverything) {
  Checkpoint ck = load_checkpoint(testing::fixture("training.pth"));
  EXPECT_EQ(ck.state_dict_key, "state_dict");
  bool saw_epoch = false, saw_momentum = false, saw_best = false;
  for (const CheckpointEntry& e : ck.entries) {
    if (e.path == "epoch") saw_epoch = e.value == "7";
    if (e.path == "optimizer.state.0.momentum_buffer") saw_momentum = e.tensor.defined();
    if (e.path == "best_acc1") saw_best = e.tensor.defined() && e.tensor.item<float>() == 71.5f;
  }
  EXPECT_TRUE(saw_epoch && saw_momentum && saw_best);
}

TEST(Pth, KeyChoosesANestedDictAndReportsMissingKeys) {
  StateDict sd = load_state_dict(testing::fixture("training.pth"), {"state_dict"});
  EXPECT_FALSE(sd.tensors.empty());
  try {
    load_state_dict(testing::fixture("training.pth"), {"nope"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no key 'nope'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("epoch"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_state_dict(testing::fixture("training.pth"), {"epoch"}), Error);
}

TEST(Pth, DataParallelPrefixIsStripped) {
  Checkpoint ck = load_checkpoint(testing::fixture("dataparallel.pth"));
  EXPECT_TRUE(ck.stripped_module_prefix);
  EXPECT_NE(ck.state_dict.find("features.0.weight"), nullptr);
}

// Every hostile file: an Error naming the file and saying what is wrong, never a crash.
TEST(Pth, HostileFilesAreRefusedWithOneLine) {
  std::ifstream list(testing::fixture("hostile.txt"));
  ASSERT_TRUE(list);
  std::string line;
  int n = 0;
  while (std::getline(list, line)) {
    const std::string name = line.substr(0, line.find('\t'));
    const std::string path = testing::fixture(name);
    std::string words = line.substr(line.find('\t') + 1);
    try {
      load_state_dict(path);
      ADD_FAILURE() << name << ": loaded without error";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      std::istringstream ws(words);
      for (std::string w; std::getline(ws, w, '|');)
        EXPECT_NE(msg.find(w), std::string::npos) << name << ": '" << w << "' not in: " << msg;
    }
    ++n;
  }
  EXPECT_GE(n, 10);
}

}  // namespace
}  // namespace cnnscope
