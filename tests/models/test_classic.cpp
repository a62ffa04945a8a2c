// ResNeXt, Wide ResNet, DenseNet, SqueezeNet, GoogLeNet and Inception v3: parity with
// torchvision 0.29 (logits, inner taps, named_modules() names, classes, reprs, every module's
// output shape; oracle: make_models_classic.py), GoogLeNet's transform_input off, detection of
// every builder (with and without aux classifiers) from its state_dict's names and shapes alone,
// and init as torchvision initializes, with torchvision's keys.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/text.h"
#include "models/parity.h"

namespace cnnscope::models {
namespace {

class ClassicParity : public ::testing::TestWithParam<const char*> {};

TEST_P(ClassicParity, LogitsTapsModulesAndShapes) {
  parity::check_parity(GetParam(), "classic");
}

INSTANTIATE_TEST_SUITE_P(Builders, ClassicParity,
                         ::testing::Values("resnext_tiny", "wide_resnet_tiny", "densenet121",
                                           "squeezenet1_0", "squeezenet1_1", "googlenet",
                                           "inception_v3"));

TEST(ClassicOptions, TransformInputOff) {
  for (const char* name : {"googlenet", "inception_v3"}) {
    SCOPED_TRACE(name);
    const std::string base = std::string("models_classic_") + name;
    StateDict expected = parity::oracle(base + ".expected.safetensors");
    BuildOptions off;
    off.transform_input = false;
    Network net = build_network(parity::oracle(base + ".safetensors"), off);
    EXPECT_NE(net.info().description.find("transform_input off"), std::string::npos);
    ForwardResult r = net.run(*expected.find("input"));
    EXPECT_LT(parity::rel_error(r.logits, *expected.find("logits_no_transform")),
              parity::kRelTolerance);
    // The default is on and says so.
    Network on = build_network(parity::oracle(base + ".safetensors"));
    EXPECT_NE(on.info().description.find("transform_input on"), std::string::npos);
  }
}

constexpr int64_t kShapesClasses = 17;  // make_models_classic.py's num_classes for the listing

const nlohmann::json& shapes() {
  return parity::manifest("models_classic_shapes.json");
}

using parity::zeros_like;

std::string without_suffix(const std::string& key) {
  const std::string suffix = "_noaux";
  return ends_with(key, suffix) ? key.substr(0, key.size() - suffix.size()) : key;
}

TEST(ClassicDetect, EveryBuilderFromItsKeysAndShapesAlone) {
  ASSERT_EQ(shapes().size(), 15u);  // 3 ResNeXts, 2 Wide ResNets, 4 DenseNets, 2 SqueezeNets,
                                    // GoogLeNet and Inception v3 with and without aux
  for (const auto& [key, keys] : shapes().items()) {
    SCOPED_TRACE(key);
    Network net = build_network(zeros_like(key, keys));
    EXPECT_EQ(net.info().arch, without_suffix(key));
    EXPECT_EQ(net.info().num_classes, kShapesClasses);
    EXPECT_EQ(net.info().description.find("the keys fit"), std::string::npos);
    if (key == "googlenet" || key == "inception_v3") {
      EXPECT_NE(net.info().description.find("with aux"), std::string::npos);
    }
  }
}

TEST(ClassicDetect, ArchOfAnotherVariantSaysWhatItLooksLike) {
  try {
    build_network(zeros_like("d", shapes().at("densenet169")), BuildOptions{"densenet121"});
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("looks like densenet169"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected keys"), std::string::npos) << what;
    EXPECT_EQ(what.find("--arch"), std::string::npos) << what;  // the CLI names the flag
    ASSERT_EQ(e.settings().size(), 1u);
    EXPECT_EQ(e.settings()[0].name, "arch");
    EXPECT_EQ(e.settings()[0].value, "densenet169");
  }
  // --arch googlenet for keys detected as googlenet builds them as detected (aux heads or none).
  EXPECT_EQ(build_network(zeros_like("g", shapes().at("googlenet")), BuildOptions{"googlenet"})
                .state_dict()
                .tensors.size(),
            shapes().at("googlenet").size());
  EXPECT_EQ(
      build_network(zeros_like("g", shapes().at("googlenet_noaux")), BuildOptions{"googlenet"})
          .info()
          .arch,
      "googlenet");
}

TEST(ClassicInit, TorchvisionsKeysDeterministicForASeed) {
  for (const char* arch : {"resnext50_32x4d", "wide_resnet50_2", "densenet121", "squeezenet1_0",
                           "squeezenet1_1", "googlenet", "inception_v3"}) {
    const std::string name = arch;
    const bool aux = name == "googlenet" || name == "inception_v3";  // init: pretrained layout
    parity::check_init(name, kShapesClasses, shapes().at(aux ? name + "_noaux" : name));
  }
}

TEST(ClassicInit, TorchvisionsFormulas) {
  // DenseNet: conv kaiming normal fan_in; linear bias 0. SqueezeNet: final conv normal(0, 0.01).
  // GoogLeNet: truncated normal 0.01; Inception v3: 0.1, cut at +-2.
  StateDict d = init_network({"densenet121", 10, 0}).state_dict();
  EXPECT_NEAR(d.find("features.conv0.weight")->std().item<double>(), std::sqrt(2.0 / 147), 0.01);
  EXPECT_EQ(d.find("classifier.bias")->abs().max().item<double>(), 0.0);
  StateDict s = init_network({"squeezenet1_1", 10, 0}).state_dict();
  EXPECT_NEAR(s.find("classifier.1.weight")->std().item<double>(), 0.01, 0.002);
  StateDict g = init_network({"googlenet", 10, 0}).state_dict();
  EXPECT_NEAR(g.find("inception3a.branch1.conv.weight")->std().item<double>(), 0.01, 0.001);
  StateDict i = init_network({"inception_v3", 10, 0}).state_dict();
  EXPECT_NEAR(i.find("Mixed_5b.branch1x1.conv.weight")->std().item<double>(), 0.1, 0.01);
  EXPECT_LE(i.find("fc.weight")->abs().max().item<double>(), 2.0);
}

TEST(ClassicLayers, DefaultAndAllLayersAreTaps) {
  for (const char* arch : {"resnext50_32x4d", "densenet121", "squeezenet1_0", "squeezenet1_1",
                           "googlenet", "inception_v3"}) {
    SCOPED_TRACE(arch);
    Network net = init_network({arch, 5, 0});
    const std::vector<std::string> defaults = net.default_layers();
    EXPECT_EQ(defaults.size(), net.info().family == "resnet" ? 2u : 3u);
    for (const std::string& name : defaults) EXPECT_NO_THROW(net.check_tap(name)) << name;
    for (const std::string& name : net.all_layers()) EXPECT_NO_THROW(net.check_tap(name)) << name;
    EXPECT_GT(net.all_layers().size(), defaults.size());
  }
  EXPECT_EQ(init_network({"squeezenet1_0", 5, 0}).default_layers(),
            (std::vector<std::string>{"features.1", "features.3", "features.7"}));
  EXPECT_EQ(init_network({"squeezenet1_1", 5, 0}).default_layers(),
            (std::vector<std::string>{"features.1", "features.3", "features.6"}));
  EXPECT_EQ(init_network({"inception_v3", 5, 0}).info().default_preset, "inception_v3");
  EXPECT_EQ(init_network({"resnext101_64x4d", 5, 0}).info().default_preset, "resnext101_64x4d");
  EXPECT_EQ(init_network({"densenet121", 5, 0}).info().default_preset, "imagenet");
}

}  // namespace
}  // namespace cnnscope::models
