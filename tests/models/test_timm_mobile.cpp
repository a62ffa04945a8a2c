// timm's mobilenetv2_100, mobilenetv3_large_100 and mobilenetv3_small_100 under timm's own names
// (oracle: make_models_timm_mobile.py, timm 1.0 from PyPI): detected from the keys as the timm
// layout, logits and taps at several depths (timm's module names) within 1e-4 of timm's, every
// tap listed a module of timm's with timm's output shape, init with timm's keys and shapes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "models/parity.h"

namespace cnnscope::models {
namespace {

const nlohmann::json& manifest() {
  return parity::manifest("models_timm_mobile_manifest.json");
}

class TimmMobile : public ::testing::TestWithParam<const char*> {};

TEST_P(TimmMobile, DetectedWithTimmsLogitsAndTaps) {
  const std::string name = GetParam();
  const nlohmann::json& m = manifest().at(name);
  Network net = build_network(parity::oracle("models_timm_mobile_" + name + ".safetensors"));
  EXPECT_EQ(net.info().arch, m.at("arch").get<std::string>());
  EXPECT_EQ(net.info().layout, "timm");
  EXPECT_EQ(net.info().family, m.at("family").get<std::string>());
  EXPECT_EQ(net.info().num_classes, m.at("num_classes").get<int64_t>());
  EXPECT_EQ(net.num_parameters(), m.at("params").get<int64_t>());

  const StateDict expected = parity::oracle("models_timm_mobile_" + name + ".expected.safetensors");
  std::vector<std::string> taps;
  for (const NamedTensor& t : expected.tensors)
    if (t.name.rfind("tap.", 0) == 0) taps.push_back(t.name.substr(4));
  ASSERT_GE(taps.size(), 3u);
  const at::Tensor& input = *expected.find("input");
  ForwardResult r = net.run(input, taps);
  EXPECT_LT(parity::rel_error(r.logits, *expected.find("logits")), parity::kRelTolerance);
  for (const std::string& tap : taps) {
    const at::Tensor* got = r.find(tap);
    ASSERT_NE(got, nullptr) << tap;
    EXPECT_LT(parity::rel_error(*got, *expected.find("tap." + tap)), parity::kRelTolerance) << tap;
  }

  // The family's default layers and CAM layer, under timm's names (the stem's is bn1).
  EXPECT_EQ(net.default_layers().size(), 3u);
  EXPECT_EQ(net.default_layers().front(), "bn1");
  EXPECT_NO_THROW(net.check_tap(net.default_cam_layer()));

  // Every tap listed is a module of timm's network, with its output shape there.
  const nlohmann::json& shapes = m.at("shapes");
  std::vector<std::string> all;
  for (const TapInfo& t : net.taps()) all.push_back(t.name);
  EXPECT_GT(all.size(), shapes.size() / 2);
  ForwardResult every = net.run(input, all);
  for (const NamedTensor& t : every.taps) {
    ASSERT_TRUE(shapes.contains(t.name)) << t.name << " is no module of timm's";
    ASSERT_TRUE(t.tensor.defined()) << t.name;
    EXPECT_EQ(t.tensor.sizes().vec(), shapes.at(t.name).get<std::vector<int64_t>>()) << t.name;
  }
}

TEST_P(TimmMobile, InitHasTimmsKeysAndShapes) {
  const nlohmann::json& m = manifest().at(GetParam());
  parity::check_init(m.at("arch").get<std::string>(), m.at("num_classes").get<int64_t>(),
                     m.at("keys"));
  const Network net = init_network({m.at("arch").get<std::string>(), 7, 0});
  EXPECT_EQ(net.info().layout, "timm");
}

INSTANTIATE_TEST_SUITE_P(Layouts, TimmMobile,
                         ::testing::Values("mobilenetv2_100", "mobilenetv3_large_100",
                                           "mobilenetv3_small_100"));

// timm's MobileNet v3 is torchvision's with BatchNorm eps 1e-5 (torchvision: 1e-3): the same
// weights under torchvision's names give other logits, so the variant is no alias.
TEST(TimmMobileVariant, TorchvisionsArchDiffersOnlyInBatchNormEps) {
  const std::string name = "mobilenetv3_small_100";
  const Network timm = build_network(parity::oracle("models_timm_mobile_" + name + ".safetensors"));
  StateDict ours = timm.state_dict();  // timm's names: rename through torchvision's init order
  const StateDict tv_keys = init_network({"mobilenet_v3_small", 7, 0}).state_dict();
  ASSERT_EQ(ours.tensors.size(), tv_keys.tensors.size());
  for (size_t i = 0; i < ours.tensors.size(); ++i) {
    ours.tensors[i].name = tv_keys.tensors[i].name;
    ours.tensors[i].tensor = ours.tensors[i].tensor.reshape(tv_keys.tensors[i].tensor.sizes());
  }
  const Network tv = build_network(ours);
  EXPECT_EQ(tv.info().arch, "mobilenet_v3_small");
  const at::Tensor x =
      *parity::oracle("models_timm_mobile_" + name + ".expected.safetensors").find("input");
  EXPECT_GT(parity::rel_error(tv.run(x).logits, timm.run(x).logits), 1e-4);
}

}  // namespace
}  // namespace cnnscope::models
