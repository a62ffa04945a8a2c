// timm's ResNet / DenseNet / Inception v3 and the seed series' GoogLeNet under their own names
// (oracle: make_models_layouts_resnet.py, timm pinned and seed_layouts_googlenet.py): detection
// of every layout arch from its keys and shapes, logits and taps under the file's module names
// within 1e-4 of PyTorch, and init giving the file's own key names and shapes.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "models/parity.h"

namespace cnnscope::models {
namespace {

constexpr int64_t kClasses = 7;  // make_models_layouts_resnet.py's num_classes

const nlohmann::json& keys() {
  return parity::manifest("models_layouts_keys.json");
}

class ResNetLayoutParity : public ::testing::TestWithParam<const char*> {};

// Logits and taps as PyTorch's forward hooks give them, every tap shown under a module name the
// file's network has, the layout said.
TEST_P(ResNetLayoutParity, LogitsAndTapsUnderTheFilesNames) {
  const std::string name = GetParam();
  const nlohmann::json& m = parity::manifest("models_layouts_manifest.json").at(name);
  BuildOptions options;
  options.arch = m.at("arch_setting").get<std::string>();
  Network net = build_network(parity::oracle("models_layouts_" + name + ".safetensors"), options);
  EXPECT_EQ(net.info().arch, m.at("arch").get<std::string>());
  EXPECT_EQ(net.info().family, m.at("family").get<std::string>());
  EXPECT_EQ(net.info().layout, m.at("layout").get<std::string>());
  EXPECT_EQ(net.info().num_classes, m.at("num_classes").get<int64_t>());
  EXPECT_EQ(net.num_parameters(), m.at("params").get<int64_t>());
  const auto modules = m.at("modules").get<std::vector<std::string>>();
  for (const TapInfo& tap : net.taps())
    EXPECT_NE(std::find(modules.begin(), modules.end(), tap.name), modules.end())
        << tap.name << " is no module of the file's network";

  StateDict expected = parity::oracle("models_layouts_" + name + ".expected.safetensors");
  std::vector<std::string> taps;
  for (const NamedTensor& t : expected.tensors)
    if (t.name.rfind("tap.", 0) == 0) taps.push_back(t.name.substr(4));
  ForwardResult r = net.run(*expected.find("input"), taps);
  EXPECT_LT(parity::rel_error(r.logits, *expected.find("logits")), parity::kRelTolerance);
  for (const std::string& tap : taps) {
    const at::Tensor* got = r.find(tap);
    ASSERT_NE(got, nullptr) << tap;
    EXPECT_LT(parity::rel_error(*got, *expected.find("tap." + tap)), parity::kRelTolerance) << tap;
  }
}

INSTANTIATE_TEST_SUITE_P(Oracle, ResNetLayoutParity,
                         ::testing::Values("timm_resnet50d", "timm_seresnext50_32x4d",
                                           "timm_resnet18", "timm_densenet121", "timm_inception_v3",
                                           "seed_googlenet"));

// Keys that only a layout's variant has are detected as it; keys equal to torchvision's stay
// torchvision's, and the layout's name reaches them as `arch`.
TEST(ResNetLayoutDetect, EveryLayoutArchFromItsKeysAndShapesAlone) {
  ASSERT_EQ(keys().size(), 11u);
  for (const auto& [arch, entry] : keys().items()) {
    SCOPED_TRACE(arch);
    const StateDict sd = parity::zeros_like(arch, entry.at("keys"));
    Network detected = build_network(sd);
    EXPECT_EQ(detected.info().arch, entry.at("detected").get<std::string>());
    EXPECT_EQ(detected.info().num_classes, kClasses);
    BuildOptions options;
    options.arch = arch;
    Network named = build_network(sd, options);
    EXPECT_EQ(named.info().arch, arch);
    EXPECT_EQ(named.info().layout, arch.substr(0, arch.find('/')));
  }
}

// A resnet50d's keys named as another arch: one line that says what they look like.
TEST(ResNetLayoutDetect, AWrongArchSaysWhatTheKeysLookLike) {
  const StateDict sd = parity::zeros_like("r50d", keys().at("timm/resnet50d").at("keys"));
  BuildOptions options;
  options.arch = "timm/resnet50";
  try {
    build_network(sd, options);
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("timm/resnet50d"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

// init gives the file's own key names and shapes, the same for one seed, another for another.
TEST(ResNetLayoutInit, GivesTheFilesKeysAndShapes) {
  for (const char* arch :
       {"timm/resnet50d", "timm/seresnext50_32x4d", "timm/resnet18", "seed/googlenet"})
    parity::check_init(arch, kClasses, keys().at(arch).at("keys"));
}

// The seed's init (its _initialize_weights): conv and linear biases 0, linear std 0.01.
TEST(ResNetLayoutInit, SeedGoogLeNetAsItsModelPyInitializes) {
  StateDict sd = init_network({"seed/googlenet", kClasses, 1}).state_dict();
  EXPECT_EQ(sd.find("conv1.conv.bias")->abs().max().item<double>(), 0.0);
  EXPECT_EQ(sd.find("fc.bias")->abs().max().item<double>(), 0.0);
  EXPECT_NEAR(sd.find("fc.weight")->std().item<double>(), 0.01, 0.002);
}

}  // namespace
}  // namespace cnnscope::models
