// MobileNet v2/v3, MNASNet, ShuffleNet v2, EfficientNet, RegNet and ConvNeXt: parity
// with torchvision 0.29 on 64x64 inputs (logits, inner taps, named_modules() names, classes,
// reprs, every module's output shape; oracle: make_models_mobile.py), detection of every builder
// from its state_dict's names and shapes alone, and init as torchvision initializes.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "models/parity.h"

namespace cnnscope::models {
namespace {

class MobileParity : public ::testing::TestWithParam<const char*> {};

TEST_P(MobileParity, LogitsTapsModulesAndShapes) {
  parity::check_parity(GetParam(), "mobile");
}

INSTANTIATE_TEST_SUITE_P(Builders, MobileParity,
                         ::testing::Values("mobilenet_v2", "mobilenet_v3_small",
                                           "mobilenet_v3_large", "mnasnet0_5", "shufflenet_v2_x0_5",
                                           "efficientnet_b0", "efficientnet_v2_s", "regnet_y_400mf",
                                           "regnet_x_400mf", "convnext_tiny"));

constexpr int64_t kShapesClasses = 17;  // make_models_mobile.py's num_classes for the listing

// Every builder's state_dict names and shapes (make_models_mobile.py), in file order.
const nlohmann::json& shapes() {
  static const nlohmann::json doc = [] {
    std::ifstream in(testing::fixture("models_mobile_shapes.json"));
    EXPECT_TRUE(in.good());
    return in.good() ? nlohmann::json::parse(in) : nlohmann::json::object();
  }();
  return doc;
}

// A state_dict of zeros with those names and shapes (one zero expanded: no memory per tensor).
StateDict zeros_like(const std::string& arch, const nlohmann::json& keys) {
  StateDict sd;
  sd.file = arch + ".pth";
  for (const auto& k : keys)
    sd.tensors.push_back(
        {k[0].get<std::string>(), at::zeros({}).expand(k[1].get<std::vector<int64_t>>())});
  return sd;
}

TEST(MobileDetect, EveryBuilderFromItsKeysAndShapesAlone) {
  ASSERT_EQ(shapes().size(), 41u);  // 3 MobileNets, 4 MNASNets, 4 ShuffleNets, 11 EfficientNets,
                                    // 15 RegNets, 4 ConvNeXts
  for (const auto& [arch, keys] : shapes().items()) {
    Network net = build_network(zeros_like(arch, keys));
    EXPECT_EQ(net.info().arch, arch);
    EXPECT_EQ(net.info().num_classes, kShapesClasses) << arch;
    // No two builders share their keys and shapes, so no description names another.
    EXPECT_EQ(net.info().description.find("the keys fit"), std::string::npos) << arch;
  }
}

// Without --arch it says what the keys look like and how to run it anyway (at most three
// lines, no list of every family tried); --arch NAME says which keys differ.
TEST(MobileDetect, AVariantThatFitsNoBuilderSaysWhatItLooksLike) {
  nlohmann::json keys = shapes().at("efficientnet_b0");
  nlohmann::json fewer = nlohmann::json::array();
  for (const auto& k : keys)  // drop the last block of stage 2: blocks 1-1-2-...
    if (k[0].get<std::string>().rfind("features.2.1.", 0) != 0) fewer.push_back(k);
  try {
    build_network(zeros_like("b0_short", fewer));
    ADD_FAILURE() << "detected";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("keys like features.0.0.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("torch.export.export(model.eval(), (x,))"), std::string::npos) << what;
    EXPECT_EQ(what.find("efficientnet_b1"), std::string::npos) << what;
  }
  // With --arch it loads nothing and lists what is missing.
  try {
    build_network(zeros_like("b0_short", fewer), BuildOptions{"efficientnet_b0"});
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing keys (features.2.1.block.0.0.weight"),
              std::string::npos)
        << e.what();
  }
}

TEST(MobileInit, EveryFamilyHasTorchvisionsKeysAndIsDeterministicForASeed) {
  for (const char* arch :
       {"mobilenet_v2", "mobilenet_v3_small", "mnasnet0_5", "shufflenet_v2_x0_5", "efficientnet_b0",
        "efficientnet_v2_s", "regnet_y_400mf", "regnet_x_400mf", "convnext_tiny"}) {
    parity::check_init(arch, kShapesClasses, shapes().at(arch));
  }
}

TEST(MobileLayers, DefaultAndAllLayersAreFeatureMapsThatRun) {
  for (const char* arch : {"mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "mnasnet0_5",
                           "shufflenet_v2_x0_5", "efficientnet_b0", "efficientnet_v2_s",
                           "regnet_x_400mf", "convnext_tiny"}) {
    SCOPED_TRACE(arch);
    Network net = init_network({arch, kShapesClasses, 0});
    const std::vector<std::string> defaults = net.select_layers("");
    const std::vector<std::string> all = net.select_layers("all");
    EXPECT_EQ(defaults.size(), 3u);
    EXPECT_GT(all.size(), defaults.size());
    std::vector<std::string> both = all;  // a name asked twice gets the same capture twice
    both.insert(both.end(), defaults.begin(), defaults.end());
    ForwardResult r = net.run(at::rand({1, 3, 64, 64}), both);
    for (const NamedTensor& t : r.taps) {
      ASSERT_TRUE(t.tensor.defined()) << t.name;
      EXPECT_EQ(t.tensor.dim(), 4) << t.name;
    }
  }
}

TEST(MobileInit, TorchvisionsFormulas) {
  // MobileNet/EfficientNet: conv kaiming normal fan_out; EfficientNet linear uniform
  // +-1/sqrt(out); ConvNeXt truncated normal 0.02 and layer scale 1e-6; RegNet conv
  // normal(0, sqrt(2/fan_out)), linear normal(0, 0.01).
  StateDict e = init_network({"efficientnet_b0", 1000, 0}).state_dict();
  const double stem = e.find("features.0.0.weight")->std().item<double>();
  EXPECT_NEAR(stem, std::sqrt(2.0 / (32 * 3 * 3)), 0.1 * stem);
  const at::Tensor& fc = *e.find("classifier.1.weight");
  EXPECT_LE(fc.abs().max().item<double>(), 1.0 / std::sqrt(1000.0));
  EXPECT_NEAR(fc.std().item<double>(), 1.0 / std::sqrt(3000.0), 0.01 / std::sqrt(3000.0) * 10);
  EXPECT_EQ(e.find("features.0.1.weight")->min().item<double>(), 1.0);
  StateDict x = init_network({"convnext_tiny", 10, 0}).state_dict();
  EXPECT_NEAR(x.find("features.1.0.block.3.weight")->std().item<double>(), 0.02, 0.001);
  EXPECT_EQ(x.find("features.1.0.block.3.bias")->abs().max().item<double>(), 0.0);
  EXPECT_FLOAT_EQ(x.find("features.1.0.layer_scale")->max().item<float>(), 1e-6f);
  EXPECT_EQ(x.find("features.0.1.weight")->min().item<double>(), 1.0);
  StateDict r = init_network({"regnet_x_400mf", 10, 0}).state_dict();
  const double a = r.find("trunk_output.block1.block1-0.f.a.0.weight")->std().item<double>();
  EXPECT_NEAR(a, std::sqrt(2.0 / 32), 0.1 * a);
  EXPECT_NEAR(r.find("fc.weight")->std().item<double>(), 0.01, 0.001);
}

}  // namespace
}  // namespace cnnscope::models
