// Whole-model pickles of nn.Sequential (oracle: make_models_sequential.py):
// rebuilt from the module tree, every module's output, the logits, the names, classes, reprs and
// output shapes equal PyTorch's forward hooks within 1e-4 of the largest magnitude; user classes
// refused with a line naming the class, then two with the way out (torch.export).
#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"
#include "models/parity.h"

namespace cnnscope::models {
namespace {

void check_sequential(const std::string& name) {
  SCOPED_TRACE(name);
  const nlohmann::json& m = parity::manifest("models_sequential_manifest.json").at(name);
  const std::string prefix = cnnscope::testing::fixture("models_sequential_" + name);
  Network net = build_network(load_state_dict(prefix + ".pth"));
  EXPECT_EQ(net.info().arch, "sequential");
  EXPECT_EQ(net.info().num_classes, m.at("num_classes").get<int64_t>());
  EXPECT_EQ(net.num_parameters(), m.at("params").get<int64_t>());

  const auto& modules = m.at("modules");
  ASSERT_EQ(net.taps().size(), modules.size());
  std::vector<std::string> taps;
  for (size_t i = 0; i < modules.size(); ++i) {
    const TapInfo& tap = net.taps()[i];
    EXPECT_EQ(tap.name, modules[i][0].get<std::string>()) << i;
    EXPECT_EQ(tap.type, modules[i][1].get<std::string>()) << tap.name;
    if (tap.leaf) {
      EXPECT_EQ(tap.repr, m.at("reprs").at(tap.name).get<std::string>());
    }
    taps.push_back(tap.name);
  }

  const StateDict expected = load_state_dict(prefix + ".expected.safetensors");
  const ForwardResult r = net.run(*expected.find("input"), taps);  // [2, 3, S, S]
  EXPECT_LT(parity::rel_error(r.logits, *expected.find("logits")), parity::kRelTolerance);
  for (const std::string& tap : taps) {
    const at::Tensor* got = r.find(tap);
    ASSERT_TRUE(got != nullptr && got->defined()) << tap;
    EXPECT_EQ(got->sizes().vec(), m.at("shapes").at(tap).get<std::vector<int64_t>>()) << tap;
    EXPECT_LT(parity::rel_error(*got, *expected.find("tap." + tap)), parity::kRelTolerance) << tap;
  }
  // Default and all layers are taps that run (each convolution's activation).
  for (const std::string& layer : net.all_layers()) EXPECT_NE(r.find(layer), nullptr) << layer;
  EXPECT_FALSE(net.default_layers().empty());
}

TEST(Sequential, LeNetWithInPlaceReLUs) {
  check_sequential("lenet");
}
TEST(Sequential, EveryLayerKindNested) {
  check_sequential("zoo");
}
TEST(Sequential, GlobalPoolAndSoftmaxHead) {
  check_sequential("pooled");
}

// A line naming the file and the class, then two with the way out (torch.export, not TorchScript).
void check_refused(const std::string& file, const std::string& what) {
  const std::string path = cnnscope::testing::fixture(file);
  try {
    build_network(load_state_dict(path));
    ADD_FAILURE() << file << " was not refused";
  } catch (const Error& e) {
    const std::string message = e.what();
    const std::string first = message.substr(0, message.find('\n'));
    EXPECT_NE(first.find(path), std::string::npos) << message;
    EXPECT_NE(first.find(what), std::string::npos) << message;
    EXPECT_NE(message.find("torch.export.save(ep, \"model.pt2\")"), std::string::npos) << message;
    EXPECT_EQ(message.find("torch.jit"), std::string::npos) << message;
    EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 2) << message;
  }
}

TEST(Sequential, UserClassIsRefusedByName) {
  check_refused("models_sequential_custom.pth", "a whole model of class __main__.Net");
}
TEST(Sequential, SequentialHoldingAUserClassNamesTheModule) {
  check_refused("models_sequential_inner_custom.pth", "module 1 is a __main__.Net");
}

}  // namespace
}  // namespace cnnscope::models
