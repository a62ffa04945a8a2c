// ConvNeXt and RegNet under timm's key names and the seed series' (ConvNeXt/model.py, the
// official release's layout; Test10_regnet/model.py): parity with the Python models on a 64x64
// input (logits and taps under the file's module names at several depths, every tap a module of
// the file's network with its output shape; oracle: make_models_convnext.py, weights made by
// recipe() on both sides), detection of each size from its keys and shapes alone, and init with
// the file's keys and each layout's own initialization.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/error.h"
#include "models/parity.h"

namespace cnnscope::models {
namespace {

constexpr int64_t kClasses = 7;  // make_models_convnext.py's num_classes

const nlohmann::json& manifest() {
  return parity::manifest("models_convnext_manifest.json");
}

// make_models_convnext.py's recipe(): the weights of key number `k` named `name`, u in
// [-0.5, 0.5) from an integer hash of (element, k), scaled by the key's kind (computed in double
// as there, so both sides hold the same floats).
at::Tensor recipe(const std::string& name, const std::vector<int64_t>& shape, int64_t k) {
  constexpr int64_t kElement = 2654435761LL, kKey = 2246822519LL, kMod = 1LL << 32;
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  const at::Tensor h =
      (at::arange(1, n + 1, at::kLong) * kElement + (k + 1) * kKey).remainder(kMod);
  const at::Tensor u = h.to(at::kDouble) / static_cast<double>(kMod) - 0.5;  // [n]
  const std::string last = name.substr(name.rfind('.') + 1);
  double scale = 0.2, offset = 0.0;  // biases, running means
  if (shape.size() >= 2) {           // conv and linear weights: variance 1 / fan_in
    scale = 2.0 * std::sqrt(3.0 * static_cast<double>(shape[0]) / static_cast<double>(n));
  } else if (last == "running_var" || last == "gamma" || last == "layer_scale") {
    scale = 1.0;
    offset = 1.0;
  } else if (last == "weight") {  // BN and LayerNorm
    scale = 0.4;
    offset = 1.0;
  }
  return (u * scale + offset).to(at::kFloat).reshape(shape);
}

// The state_dict of `keys` ([[name, shape], ...]) filled by recipe().
StateDict with_recipe(const std::string& file, const nlohmann::json& keys) {
  StateDict sd;
  sd.file = file;
  int64_t k = 0;
  for (const auto& key : keys) {
    const auto name = key[0].get<std::string>();
    const auto shape = key[1].get<std::vector<int64_t>>();
    sd.tensors.push_back({name, name.find("num_batches_tracked") != std::string::npos
                                    ? at::zeros(shape, at::kLong)
                                    : recipe(name, shape, k)});
    ++k;
  }
  return sd;
}

class ConvnextLayoutParity : public ::testing::TestWithParam<const char*> {};

TEST_P(ConvnextLayoutParity, LogitsAndTapsUnderTheFilesNames) {
  const std::string name = GetParam();
  const nlohmann::json& m = manifest().at("parity").at(name);
  Network net = build_network(with_recipe(name + ".pth", m.at("keys")));
  EXPECT_EQ(net.info().arch, m.at("arch").get<std::string>());
  EXPECT_EQ(net.info().layout, m.at("layout").get<std::string>());
  EXPECT_EQ(net.info().num_classes, kClasses);

  StateDict expected = parity::oracle("models_convnext_" + name + ".expected.safetensors");
  parity::check_expected(net, expected);
  parity::check_shapes(net, *expected.find("input"), m.at("shapes"));
}

INSTANTIATE_TEST_SUITE_P(Layouts, ConvnextLayoutParity,
                         ::testing::Values("timm_convnext_tiny", "seed_convnext_tiny",
                                           "timm_regnetx_008", "timm_regnety_008",
                                           "seed_regnety_400mf", "seed_regnetx_400mf"));

// timm's and the seed's RegNet keys are the same: where both name a network, the file is timm's
// (the first layout), and --arch picks the seed's.
const std::map<std::string, std::string>& named_by_timm() {
  static const std::map<std::string, std::string> m{{"seed/regnetx_800mf", "timm/regnetx_008"},
                                                    {"seed/regnety_800mf", "timm/regnety_008"},
                                                    {"seed/regnety_1.6gf", "timm/regnety_016"},
                                                    {"seed/regnety_3.2gf", "timm/regnety_032"}};
  return m;
}

TEST(ConvnextLayoutDetect, EverySizeFromItsKeysAndShapesAlone) {
  ASSERT_EQ(manifest().at("shapes").size(), 18u);  // timm: 2 ConvNeXt, 4 RegNet; seed: 2 + 10
  for (const auto& [arch, keys] : manifest().at("shapes").items()) {
    SCOPED_TRACE(arch);
    const auto timm = named_by_timm().find(arch);
    const std::string want = timm == named_by_timm().end() ? arch : timm->second;
    Network net = build_network(parity::zeros_like(arch, keys));
    EXPECT_EQ(net.info().arch, want);
    EXPECT_EQ(net.info().layout, want.substr(0, want.find('/')));
    EXPECT_EQ(net.info().num_classes, kClasses);
    if (want == arch) continue;
    Network named = build_network(parity::zeros_like(arch, keys), BuildOptions{arch});
    EXPECT_EQ(named.info().arch, arch);
    EXPECT_EQ(named.info().layout, "seed");
  }
}

// init_network(arch, 7 classes, seed).state_dict(), made once.
const StateDict& initialized(const std::string& arch, uint64_t seed) {
  static std::map<std::pair<std::string, uint64_t>, StateDict> made;
  auto it = made.find({arch, seed});
  if (it == made.end())
    it = made.emplace(std::make_pair(arch, seed), init_network({arch, kClasses, seed}).state_dict())
             .first;
  return it->second;
}

// [name, shape] of every key, sorted by name.
std::vector<std::pair<std::string, std::vector<int64_t>>> sorted_keys(const nlohmann::json& keys) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& k : keys)
    out.emplace_back(k[0].get<std::string>(), k[1].get<std::vector<int64_t>>());
  std::sort(out.begin(), out.end());
  return out;
}

// Our state_dict lists the keys in our module order (torchvision's: a RegNet block's proj before
// its f, the stages between the downsamplings), which PyTorch's load_state_dict does not mind:
// the names and shapes are the file's, the order not necessarily.
TEST(ConvnextLayoutInit, TheFilesKeysAndShapes) {
  for (const char* arch : {"timm/convnext_tiny", "seed/convnext_tiny", "timm/regnetx_008",
                           "timm/regnety_008", "seed/regnety_400mf", "seed/regnetx_400mf"}) {
    SCOPED_TRACE(arch);
    nlohmann::json got = nlohmann::json::array();
    for (const NamedTensor& t : initialized(arch, 0).tensors)
      got.push_back({t.name, t.tensor.sizes().vec()});
    EXPECT_EQ(sorted_keys(got), sorted_keys(manifest().at("shapes").at(arch)));
  }
}

// The layouts' own initializations: the same for the same seed, different for another.
TEST(ConvnextLayoutInit, DeterministicForASeed) {
  for (const char* arch : {"seed/regnety_400mf", "timm/regnetx_008", "seed/convnext_tiny"}) {
    SCOPED_TRACE(arch);
    const StateDict& a = initialized(arch, 0);
    const StateDict b = init_network({arch, kClasses, 0}).state_dict();
    const StateDict c = init_network({arch, kClasses, 1}).state_dict();
    bool differs = false;
    for (size_t i = 0; i < a.tensors.size(); ++i) {
      EXPECT_TRUE(a.tensors[i].tensor.equal(b.tensors[i].tensor)) << a.tensors[i].name;
      differs = differs || !a.tensors[i].tensor.equal(c.tensors[i].tensor);
    }
    EXPECT_TRUE(differs);
  }
}

TEST(ConvnextLayoutInit, EachLayoutsOwnFormulas) {
  // The seed's ConvNeXt: truncated normal std 0.2 (its model.py's), biases 0, gamma 1e-6.
  const StateDict& c = initialized("seed/convnext_tiny", 0);
  EXPECT_NEAR(c.find("stages.0.0.pwconv1.weight")->std().item<double>(), 0.2, 0.01);
  EXPECT_EQ(c.find("stages.0.0.pwconv1.bias")->abs().max().item<double>(), 0.0);
  EXPECT_EQ(c.find("stages.0.0.gamma")->sizes().vec(), std::vector<int64_t>{96});
  EXPECT_FLOAT_EQ(c.find("stages.0.0.gamma")->max().item<float>(), 1e-6f);
  // timm's ConvNeXt keeps torchvision's: std 0.02.
  const StateDict& t = initialized("timm/convnext_tiny", 0);
  EXPECT_NEAR(t.find("stages.0.blocks.0.mlp.fc1.weight")->std().item<double>(), 0.02, 0.001);
  // The seed's RegNet: conv kaiming uniform fan_out (bound sqrt(6 / 48) for 48 outputs), the SE
  // biases as PyTorch draws them, each block's last BN weight 0.
  const StateDict& s = initialized("seed/regnety_400mf", 0);
  const at::Tensor& conv1 = *s.find("s1.b1.conv1.conv.weight");
  EXPECT_LE(conv1.abs().max().item<double>(), std::sqrt(6.0 / 48));
  EXPECT_NEAR(conv1.std().item<double>(), std::sqrt(2.0 / 48), 0.1 * std::sqrt(2.0 / 48));
  EXPECT_GT(s.find("s1.b1.se.fc1.bias")->abs().max().item<double>(), 0.0);
  EXPECT_EQ(s.find("s2.b3.conv3.bn.weight")->abs().max().item<double>(), 0.0);
  EXPECT_NEAR(s.find("head.fc.weight")->std().item<double>(), 0.01, 0.001);
  // timm's RegNet: conv normal(0, sqrt(2 / (k*k*out/groups))), conv biases 0, last BN 0.
  const StateDict& x = initialized("timm/regnety_008", 0);
  const double want = std::sqrt(2.0 / (9.0 * 64 / 4));  // s1.b1.conv2: 64 wide, groups 4
  EXPECT_NEAR(x.find("s1.b1.conv2.conv.weight")->std().item<double>(), want, 0.1 * want);
  EXPECT_EQ(x.find("s1.b1.se.fc1.bias")->abs().max().item<double>(), 0.0);
  EXPECT_EQ(x.find("s4.b2.conv3.bn.weight")->abs().max().item<double>(), 0.0);
}

}  // namespace
}  // namespace cnnscope::models
