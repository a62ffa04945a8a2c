// Detection, --arch, strict loading errors and init: canonical archs have torchvision's (and the
// seed's) state_dict names and shapes in order; broken state_dicts fail with counts and hints.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "models/network.h"
#include "testing.h"

namespace cnnscope::models {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

StateDict fixture(const std::string& name) {
  return load_state_dict(testing::fixture("models_" + name + ".safetensors"));
}

TEST(Init, CanonicalArchsHaveTorchvisionsStateDict) {
  std::ifstream in(testing::fixture("models_archs.json"));
  ASSERT_TRUE(in.good());
  const nlohmann::json archs = nlohmann::json::parse(in);
  for (const auto& [arch, keys] : archs.items()) {
    StateDict sd = init_network({arch, 1000, 0}).state_dict();
    ASSERT_EQ(sd.tensors.size(), keys.size()) << arch;
    for (size_t i = 0; i < keys.size(); ++i) {
      EXPECT_EQ(sd.tensors[i].name, keys[i][0].get<std::string>()) << arch;
      EXPECT_EQ(sd.tensors[i].tensor.sizes().vec(), keys[i][1].get<std::vector<int64_t>>())
          << arch << " " << sd.tensors[i].name;
    }
  }
}

TEST(Init, DeterministicForASeedAndInitializedAsTheSeedDoes) {
  Network a = init_network({"resnet18", 5, 7});
  Network b = init_network({"resnet18", 5, 7});
  Network c = init_network({"resnet18", 5, 8});
  StateDict sa = a.state_dict(), sb = b.state_dict(), sc = c.state_dict();
  EXPECT_TRUE(sa.find("conv1.weight")->equal(*sb.find("conv1.weight")));
  EXPECT_FALSE(sa.find("conv1.weight")->equal(*sc.find("conv1.weight")));
  // kaiming normal, fan_out, relu: std = sqrt(2 / (64 * 7 * 7)).
  const double std = sa.find("conv1.weight")->std().item<double>();
  EXPECT_NEAR(std, std::sqrt(2.0 / (64 * 7 * 7)), 0.1 * std);
  EXPECT_NEAR(sa.find("fc.weight")->std().item<double>(), 0.01, 0.001);
  EXPECT_EQ(sa.find("fc.bias")->abs().max().item<double>(), 0.0);
  EXPECT_EQ(sa.find("bn1.weight")->min().item<double>(), 1.0);
  EXPECT_EQ(a.info().num_classes, 5);
  EXPECT_THROW(init_network({"resnet19", 5, 0}), Error);
  EXPECT_THROW(init_network({"resnet18", 0, 0}), Error);
}

TEST(Detect, DescribesTheSeedsAlexNet) {
  Network net = build_network(fixture("seed_alexnet"));
  EXPECT_EQ(net.info().description,
            "alexnet, widths 48-128-192-192-128, 5 classes: the seed's AlexNet");
  EXPECT_EQ(net.info().default_preset, "alexnet");
  EXPECT_EQ(build_network(fixture("tv_resnet50")).info().default_preset, "imagenet");
}

TEST(Detect, ArchOverrideThatDoesNotFitSaysWhatItLooksLike) {
  const std::string msg =
      error_of([] { build_network(fixture("seed_resnet34"), BuildOptions{"resnet50"}); });
  EXPECT_TRUE(contains(msg, "models_seed_resnet34.safetensors")) << msg;
  EXPECT_TRUE(contains(msg, "missing key")) << msg;
  EXPECT_TRUE(contains(msg, "looks like resnet34")) << msg;
  EXPECT_TRUE(
      contains(error_of([] { build_network(fixture("seed_resnet34"), BuildOptions{"resnet35"}); }),
               "unknown arch 'resnet35' (did you mean"));
  // A matching override loads (the classes come from the keys).
  EXPECT_EQ(build_network(fixture("seed_resnet34"), BuildOptions{"resnet34"}).info().num_classes,
            5);
}

TEST(Detect, ShapeMismatchAndUnexpectedKeysAreListedWithCounts) {
  StateDict sd = fixture("tv_resnet18");
  for (NamedTensor& t : sd.tensors)
    if (t.name == "layer1.0.conv1.weight") t.tensor = at::zeros({64, 64, 1, 1});
  sd.tensors.push_back({"extra.a", at::zeros({1})});
  sd.tensors.push_back({"extra.b", at::zeros({1})});
  const std::string msg = error_of([&] { build_network(sd); });
  EXPECT_TRUE(contains(msg, "2 unexpected keys (extra.a, extra.b)")) << msg;
  EXPECT_TRUE(contains(msg,
                       "1 shape mismatch (layer1.0.conv1.weight: expected [64, 64, 3, 3], "
                       "got [64, 64, 1, 1])"))
      << msg;
}

TEST(Detect, NoFamilyShowsTheKeysSpotsAPrefixAndSaysHowToExport) {
  StateDict sd = fixture("tv_resnet18");
  for (NamedTensor& t : sd.tensors) t.name = "backbone." + t.name;
  const std::string msg = error_of([&] { build_network(sd); });
  EXPECT_TRUE(contains(msg,
                       "matches no known network: 122 keys like backbone.conv1.weight, "
                       "backbone.bn1.weight, backbone.bn1.bias"))
      << msg;
  EXPECT_TRUE(contains(msg, "'backbone.'")) << msg;
  EXPECT_TRUE(contains(msg, "torch.export.export(model.eval(), (x,))")) << msg;
  EXPECT_FALSE(contains(msg, "alexnet")) << msg;  // no family's reasons, no list of archs
  EXPECT_LE(std::count(msg.begin(), msg.end(), '\n'), 2) << msg;
  const std::string empty = error_of([] {
    StateDict none;
    none.file = "empty.pth";
    none.format = "zip";
    build_network(none);
  });
  EXPECT_TRUE(contains(empty, "no tensors")) << empty;
  EXPECT_FALSE(contains(empty, "\n")) << empty;
}

TEST(Detect, MissingNumBatchesTrackedIsAccepted) {
  StateDict sd = fixture("tv_vgg11_bn");
  std::vector<NamedTensor> kept;
  for (NamedTensor& t : sd.tensors)
    if (t.name.find("num_batches_tracked") == std::string::npos) kept.push_back(t);
  sd.tensors = kept;
  EXPECT_EQ(build_network(sd).info().arch, "vgg11_bn");
}

}  // namespace
}  // namespace cnnscope::models
