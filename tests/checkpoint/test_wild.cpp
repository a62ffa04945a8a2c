// Checkpoints from the wild against the oracle (tests/oracle/make_checkpoint_wild.py): whole-model
// pickles (zip and legacy), TorchScript archives (script and trace), quantized state_dicts,
// training checkpoints with numpy values, single tensors and lists of tensors give the names,
// dtypes, shapes, values (bit-exact; quantized ones dequantized as torch does), quantization,
// module tree and numpy values that torch.load(weights_only=False) or torch.jit.load gives; the
// hostile pickles stay refused by name.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "checkpoint/dtype.h"
#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "testing.h"

namespace cnnscope {
namespace {

using nlohmann::json;

std::string wild(const std::string& name) {
  return testing::fixture("wild/" + name);
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

std::vector<double> values_of(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kDouble).contiguous().flatten();  // [numel]
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

void expect_tensor(const NamedTensor& got, const json& want) {
  const std::string name = want["name"];
  EXPECT_EQ(got.name, name);
  EXPECT_EQ(got.tensor.sizes().vec(), want["shape"].get<std::vector<int64_t>>()) << name;
  EXPECT_EQ(values_of(got.tensor), want["values"].get<std::vector<double>>()) << name;
  if (!want.contains("quantization")) {
    EXPECT_FALSE(got.quantized) << name;
    EXPECT_EQ(dtype_name(got.tensor.scalar_type()), want["dtype"]) << name;
    return;
  }
  ASSERT_TRUE(got.quantized) << name;
  const Quantization& q = *got.quantized;
  const json& wq = want["quantization"];
  EXPECT_EQ(q.dtype, want["dtype"]) << name;
  EXPECT_EQ(q.scheme, wq["scheme"]) << name;
  if (q.scheme == "per_tensor_affine") {
    EXPECT_EQ(q.scale, wq["scale"].get<double>()) << name;
    EXPECT_EQ(q.zero_point, wq["zero_point"].get<int64_t>()) << name;
  } else {
    EXPECT_EQ(q.axis, wq["axis"].get<int64_t>()) << name;
    EXPECT_EQ(values_of(q.scales), wq["scales"].get<std::vector<double>>()) << name;
    EXPECT_EQ(values_of(q.zero_points), wq["zero_points"].get<std::vector<double>>()) << name;
  }
}

class WildFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(WildFixture, MatchesTorchExactly) {
  const std::string path = wild(GetParam());
  std::ifstream in(path + ".json");
  ASSERT_TRUE(in) << "missing oracle file " << path << ".json";
  const json want = json::parse(in);
  const Checkpoint ck = load_checkpoint(path);
  EXPECT_EQ(ck.content, want["content"]);
  EXPECT_EQ(ck.state_dict.format, std::string(GetParam()).find("legacy") != std::string::npos
                                      ? "legacy"
                                  : ck.content == "torchscript" ? "torchscript"
                                                                : "zip");
  const auto& tensors = ck.state_dict.tensors;
  ASSERT_EQ(tensors.size(), want["tensors"].size());
  for (size_t i = 0; i < tensors.size(); ++i) expect_tensor(tensors[i], want["tensors"][i]);

  ASSERT_EQ(ck.modules.size(), want["modules"].size());
  for (size_t i = 0; i < ck.modules.size(); ++i) {
    const ModuleInfo& m = ck.modules[i];
    const json& w = want["modules"][i];
    EXPECT_EQ(m.path, w["path"]);
    EXPECT_EQ(m.class_name, w["class"]) << m.path;
    if (w["hparams"].is_null()) continue;  // traced TorchScript keeps no hyper-parameters
    std::map<std::string, std::string> got(m.hparams.begin(), m.hparams.end());
    const auto want_hparams = w["hparams"].get<std::map<std::string, std::string>>();
    EXPECT_EQ(got, want_hparams) << m.path;
  }

  std::map<std::string, std::string> values;
  for (const CheckpointEntry& e : ck.entries)
    if (!e.tensor.defined()) values[e.path] = e.value;
  for (const auto& [key, text] : want["values"].items()) {
    ASSERT_TRUE(values.count(key)) << key;
    EXPECT_EQ(values[key], text.get<std::string>()) << key;
  }
}

// The files make_checkpoint_wild.py writes (listed here, not read from its cases.txt, because
// the tests are listed before the oracle runs).
INSTANTIATE_TEST_SUITE_P(
    Files, WildFixture,
    ::testing::Values("model_sequential.pth", "model_sequential_legacy.pth", "model_custom.pth",
                      "model_custom_legacy.pth", "training_model.pth", "training_numpy.pth",
                      "script.pt", "trace.pt", "quantized_per_channel.pth",
                      "quantized_per_tensor.pth", "quantized_hand.pth", "quantized_hand_legacy.pth",
                      "tensor.pth", "tensor_legacy.pth", "tensor_list.pth", "tensor_tuple.pth"),
    [](const auto& info) {
      std::string s = info.param;
      for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return s;
    });

TEST(Wild, EveryOracleCaseIsTested) {
  EXPECT_EQ(lines_of(wild("cases.txt")).size(), 16u);
}

// ls --all: a whole model inside a training checkpoint lists its tensors by state_dict name.
TEST(Wild, TrainingCheckpointListsTheModelsTensorsByPath) {
  const Checkpoint ck = load_checkpoint(wild("training_model.pth"));
  EXPECT_EQ(ck.state_dict_key, "model");
  std::vector<std::string> paths;
  for (const CheckpointEntry& e : ck.entries)
    if (e.tensor.defined()) paths.push_back(e.path);
  ASSERT_EQ(paths.size(), ck.state_dict.tensors.size());
  for (size_t i = 0; i < paths.size(); ++i)
    EXPECT_EQ(paths[i], "model." + ck.state_dict.tensors[i].name);
}

TEST(Wild, HostilePicklesStayRefusedByName) {
  const std::vector<std::string> cases = lines_of(wild("wild_hostile.txt"));
  EXPECT_GE(cases.size(), 4u);
  for (const std::string& line : cases) {
    const std::string name = line.substr(0, line.find('\t'));
    try {
      load_state_dict(wild(name));
      ADD_FAILURE() << name << ": loaded without error";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      std::istringstream words(line.substr(line.find('\t') + 1));
      for (std::string w; std::getline(words, w, '|');)
        EXPECT_NE(msg.find(w), std::string::npos) << name << ": '" << w << "' not in: " << msg;
    }
  }
}

}  // namespace
}  // namespace cnnscope
