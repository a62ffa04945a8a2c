// Writers: save_pth and save_safetensors round-trip through our readers with every dtype, views
// and 0-d tensors; a failed write leaves no file. Python's torch.load reading save_pth output is
// checked end to end in tests/cli/test_convert.py.
#include <gtest/gtest.h>

#include <filesystem>

#include "checkpoint/state_dict.h"
#include "checkpoint/writer.h"
#include "common/error.h"
#include "testing.h"

namespace cnnscope {
namespace {

void expect_same(const StateDict& a, const StateDict& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(a.tensors[i].name, b.tensors[i].name);
    EXPECT_EQ(a.tensors[i].tensor.scalar_type(), b.tensors[i].tensor.scalar_type());
    EXPECT_EQ(a.tensors[i].tensor.sizes(), b.tensors[i].tensor.sizes());
    EXPECT_TRUE(at::equal(a.tensors[i].tensor, b.tensors[i].tensor)) << a.tensors[i].name;
  }
}

TEST(Writer, PthAndSafetensorsRoundTripEveryDtypeAndView) {
  StateDict sd = load_state_dict(testing::fixture("dtypes.pth"));
  const std::string pth = ::testing::TempDir() + "/roundtrip.pth";
  const std::string st = ::testing::TempDir() + "/roundtrip.safetensors";
  save_pth(sd, pth);
  save_safetensors(sd, st);
  StateDict from_pth = load_state_dict(pth);
  EXPECT_EQ(from_pth.format, "zip");
  expect_same(sd, from_pth);
  StateDict from_st = load_state_dict(st);
  EXPECT_EQ(from_st.format, "safetensors");
  expect_same(sd, from_st);
}

TEST(Writer, RefusesToOverwriteItsInputAndLeavesNoFile) {
  const std::string input = ::testing::TempDir() + "/input.pth";
  save_pth(load_state_dict(testing::fixture("plain.pth")), input);
  StateDict sd = load_state_dict(input);  // registers `input` as an input
  EXPECT_THROW(save_pth(sd, input), Error);
  EXPECT_EQ(load_state_dict(input).tensors.size(), sd.tensors.size());
  StateDict bad;
  bad.tensors.push_back({"c", at::zeros({2}, at::kComplexFloat)});
  const std::string out = ::testing::TempDir() + "/complex.safetensors";
  EXPECT_THROW(save_safetensors(bad, out), Error);
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace cnnscope
