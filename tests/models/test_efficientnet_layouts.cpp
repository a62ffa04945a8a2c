// EfficientNet under timm's and the seed series' names (oracle:
// make_models_efficientnet_layouts.py): timm's efficientnet_b0 and tf_efficientnet_b0 (SAME
// padding, BN eps 1e-3) and the seed's efficientnet_b0 (BN eps 1e-3) give PyTorch's logits and
// taps within 1e-4 on a 96x80 input, every tap is a module of the file with its output shape and
// state_dict() has the file's names and shapes; every layout arch is detected from its names and
// shapes alone (timm's efficientnet_b0 and tf_efficientnet_b0 keys alike: one line naming both),
// and init writes the file's names and shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "models/parity.h"

namespace cnnscope::models {
namespace {

constexpr int64_t kShapesClasses = 17;  // the oracle's num_classes for the listing
constexpr int64_t kParityClasses = 7;

const nlohmann::json& shapes() {
  return parity::manifest("models_efflayout_shapes.json");
}

// The archs whose keys are another's: named to load.
bool alike(const std::string& arch) {
  return arch == "timm/efficientnet_b0" || arch == "timm/tf_efficientnet_b0";
}

// `net`'s state_dict() has `keys` ([[name, shape], ...]) in order.
void expect_keys(const Network& net, const nlohmann::json& keys) {
  StateDict back = net.state_dict();
  ASSERT_EQ(back.tensors.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(back.tensors[i].name, keys[i][0].get<std::string>()) << i;
    EXPECT_EQ(back.tensors[i].tensor.sizes().vec(), keys[i][1].get<std::vector<int64_t>>())
        << back.tensors[i].name;
  }
}

class EfficientNetLayoutParity : public ::testing::TestWithParam<const char*> {};

TEST_P(EfficientNetLayoutParity, LogitsTapsNamesAndShapes) {
  const std::string name = GetParam();
  const std::string prefix = "models_efflayout_" + name;
  const nlohmann::json& m = parity::manifest("models_efflayout_manifest.json").at(name);
  const std::string arch = m.at("arch").get<std::string>();
  Network net =
      build_network(parity::oracle(prefix + ".safetensors"), BuildOptions{alike(arch) ? arch : ""});
  EXPECT_EQ(net.info().arch, arch);
  EXPECT_EQ(net.info().family, "efficientnet");
  EXPECT_EQ(net.info().layout, arch.substr(0, arch.find('/')));
  EXPECT_EQ(net.info().num_classes, kParityClasses);
  expect_keys(net, m.at("keys"));

  // Every tap is a module of the file with its output shape there; logits and the oracle's taps
  // by value.
  const StateDict expected = parity::oracle(prefix + ".expected.safetensors");
  EXPECT_GT(net.taps().size(), 200u);
  parity::check_shapes(net, *expected.find("input"), m.at("shapes"));
  parity::check_expected(net, expected);
}

INSTANTIATE_TEST_SUITE_P(Layouts, EfficientNetLayoutParity,
                         ::testing::Values("timm_efficientnet_b0", "timm_tf_efficientnet_b0",
                                           "seed_efficientnet_b0"));

TEST(EfficientNetLayoutDetect, EveryLayoutArchFromItsKeysAndShapesAlone) {
  ASSERT_EQ(shapes().size(), 17u);  // timm: 6, the seed's: b0-b7, v2 s/m/l
  for (const auto& [arch, keys] : shapes().items()) {
    SCOPED_TRACE(arch);
    if (alike(arch)) continue;  // below
    Network net = build_network(parity::zeros_like(arch, keys));
    EXPECT_EQ(net.info().arch, arch);
    EXPECT_EQ(net.info().num_classes, kShapesClasses);
    expect_keys(net, keys);
  }
}

// The keys of timm's efficientnet_b0 and tf_efficientnet_b0 are the same and their computation
// is not: one line naming both; named, each loads.
TEST(EfficientNetLayoutDetect, TimmB0AndTfB0KeysNameBothCandidates) {
  for (const char* arch : {"timm/efficientnet_b0", "timm/tf_efficientnet_b0"}) {
    SCOPED_TRACE(arch);
    const StateDict sd = parity::zeros_like(arch, shapes().at(arch));
    try {
      build_network(sd);
      ADD_FAILURE() << "detected";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("timm/efficientnet_b0 "), std::string::npos) << what;
      EXPECT_NE(what.find("timm/tf_efficientnet_b0"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
    Network net = build_network(sd, BuildOptions{arch});
    EXPECT_EQ(net.info().arch, arch);
    expect_keys(net, shapes().at(arch));
  }
}

// The small archs of each table (the big ones' names and shapes are checked by detection).
TEST(EfficientNetLayoutInit, TheFilesKeysDeterministicForASeed) {
  for (const char* arch :
       {"timm/efficientnet_b0", "timm/tf_efficientnet_b0", "timm/tf_efficientnetv2_s",
        "seed/efficientnet_b0", "seed/efficientnetv2_s"}) {
    parity::check_init(arch, kShapesClasses, shapes().at(arch));
  }
}

// timm's init: a depthwise conv's fan_out is divided by its groups (torchvision's is not); the
// seed's: linear normal(0, 0.01).
TEST(EfficientNetLayoutInit, TimmsAndTheSeedsFormulas) {
  StateDict t = init_network({"timm/efficientnet_b0", 10, 0}).state_dict();
  const double dw = t.find("blocks.1.0.conv_dw.weight")->std().item<double>();
  EXPECT_NEAR(dw, std::sqrt(2.0 / 9.0), 0.1 * dw);  // [96, 1, 3, 3]: fan_out 3 * 3 * 96 / 96
  StateDict s = init_network({"seed/efficientnet_b0", 10, 0}).state_dict();
  EXPECT_NEAR(s.find("classifier.1.weight")->std().item<double>(), 0.01, 0.001);
}

}  // namespace
}  // namespace cnnscope::models
