// TorchScript archives as networks (oracle: make_models_torchscript.py): scripted
// and traced archives of a custom CNN (residual add, functional ReLUs, an in-place add after a
// tapped conv, a ReLU module called twice), the seed's AlexNet and torchvision's mobilenet_v2: the
// logits and taps at several depths equal PyTorch's forward hooks within 1e-4 of the largest
// magnitude, names and classes equal named_modules(); with gradients, d logit / d tap exists; a
// hook sees every module's output in forward order and replaces it.
// Hostile archives (torch.save, torch.from_file, a helper method that saves, print, __setstate__)
// are refused by op name before anything of them runs: the file they would write never appears.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <filesystem>

#include "common/error.h"
#include "models/parity.h"

namespace cnnscope::models {
namespace {

const nlohmann::json& manifest() {
  return parity::manifest("models_ts_manifest.json");
}

void check_archive(const std::string& name, const std::string& how) {
  SCOPED_TRACE(name + " " + how);
  const nlohmann::json& m = manifest().at(name);
  const StateDict sd =
      load_state_dict(cnnscope::testing::fixture("models_ts_" + name + "_" + how + ".pt"));
  ASSERT_EQ(sd.format, "torchscript");
  Network net = build_network(sd);
  EXPECT_EQ(net.info().family, "torchscript");
  EXPECT_EQ(net.info().num_classes, m.at("num_classes").get<int64_t>());
  EXPECT_EQ(net.num_parameters(), m.at("params").get<int64_t>());

  const auto& modules = m.at("modules");
  ASSERT_EQ(net.taps().size(), modules.size());
  for (size_t i = 0; i < modules.size(); ++i) {
    EXPECT_EQ(net.taps()[i].name, modules[i][0].get<std::string>()) << i;
    EXPECT_EQ(net.taps()[i].type, modules[i][1].get<std::string>()) << net.taps()[i].name;
  }

  const StateDict expected =
      load_state_dict(cnnscope::testing::fixture("models_ts_" + name + ".expected.safetensors"));
  const std::vector<std::string> taps = m.at("taps").get<std::vector<std::string>>();
  const at::Tensor& input = *expected.find("input");  // [2, 3, S, S]
  const ForwardResult r = net.run(input, taps);
  EXPECT_LT(parity::rel_error(r.logits, *expected.find("logits")), parity::kRelTolerance);
  for (const std::string& tap : taps) {
    const at::Tensor* got = r.find(tap);
    ASSERT_TRUE(got != nullptr && got->defined()) << tap;
    EXPECT_LT(parity::rel_error(*got, *expected.find("tap." + tap)), parity::kRelTolerance) << tap;
  }
  // Without taps: the same logits, and nothing left captured from the run before.
  EXPECT_LT(parity::rel_error(net.run(input).logits, r.logits), 1e-6);
  for (const std::string& layer : net.default_layers()) net.check_tap(layer);
  EXPECT_FALSE(net.all_layers().empty());
  EXPECT_EQ(net.state_dict().tensors.size(), sd.tensors.size());

  // Gradients: the tap is the module's output in the graph; d logit / d tap is defined, and the
  // logits are those of the inference run.
  RunOptions options;
  options.taps = {taps.front()};
  options.gradients = true;
  const ForwardResult g = net.run(input, options);
  EXPECT_LT(parity::rel_error(g.logits.detach(), r.logits), 1e-6);
  ASSERT_TRUE(g.taps[0].tensor.requires_grad());
  const at::Tensor grad =
      torch::autograd::grad({g.logits.select(1, 0).sum()}, {g.taps[0].tensor})[0];
  EXPECT_EQ(grad.sizes(), g.taps[0].tensor.sizes());
  EXPECT_GT(grad.abs().sum().item<double>(), 0.0);
}

// A hook sees every module's output and the forward continues with what it returns.
TEST(TorchScript, HookReplacesAModulesOutput) {
  const Network net =
      build_network(load_state_dict(cnnscope::testing::fixture("models_ts_custom_trace.pt")));
  const at::Tensor input = at::randn({1, 3, 16, 16});  // [1, 3, 16, 16]
  const at::Tensor plain = net.run(input).logits;      // [1, 6]
  std::vector<std::string> seen;
  RunOptions options;
  options.hook = [&](const std::string& name, const at::Tensor& out) {
    seen.push_back(name);
    return name == "fc" ? out * 2 : out;
  };
  EXPECT_TRUE(net.run(input, options).logits.allclose(plain * 2));
  const std::vector<std::string> want{"stem",        "act",   "block.conv1", "block.bn1",
                                      "block.conv2", "block", "head.0",      "head.1",
                                      "head",        "act",   "pool",        "fc"};
  EXPECT_EQ(seen, want);
}

TEST(TorchScript, CustomScripted) {
  check_archive("custom", "script");
}
TEST(TorchScript, CustomTraced) {
  check_archive("custom", "trace");
}
TEST(TorchScript, AlexNetScripted) {
  check_archive("alexnet_seed", "script");
}
TEST(TorchScript, AlexNetTraced) {
  check_archive("alexnet_seed", "trace");
}
TEST(TorchScript, MobileNetV2Scripted) {
  check_archive("mobilenet_v2", "script");
}
TEST(TorchScript, MobileNetV2Traced) {
  check_archive("mobilenet_v2", "trace");
}

TEST(TorchScript, ArchRebuildsTheZooNetworkInstead) {
  BuildOptions options;
  options.arch = "alexnet_seed";
  const Network net = build_network(
      load_state_dict(cnnscope::testing::fixture("models_ts_alexnet_seed_script.pt")), options);
  EXPECT_EQ(net.info().arch, "alexnet_seed");
}

// One line naming the file, the op and the method; the file the archive would write is absent.
void check_refused(const std::string& name, const std::string& what) {
  SCOPED_TRACE(name);
  const std::string path = cnnscope::testing::fixture("models_ts_hostile_" + name + ".pt");
  const std::string written = cnnscope::testing::fixture("models_ts_hostile_written.pt");
  std::filesystem::remove(written);
  try {
    const Network net = build_network(load_state_dict(path));
    net.run(at::zeros({1, 3, 4, 4}));
    ADD_FAILURE() << name << " was not refused";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_FALSE(std::filesystem::exists(written));
}

TEST(TorchScript, SaveInForwardIsRefused) {
  check_refused("save", "op aten::save in HostileSave.forward");
}
TEST(TorchScript, FromFileInForwardIsRefused) {
  check_refused("read", "op aten::from_file in HostileRead.forward");
}
TEST(TorchScript, SaveInAHelperMethodIsRefused) {
  check_refused("helper", "op aten::save in Helper.normalize");
}
TEST(TorchScript, PrintIsRefused) {
  check_refused("print", "op prim::Print in HostilePrint.forward");
}
TEST(TorchScript, SetstateIsRefusedUnread) {
  check_refused("setstate", "__setstate__, which loading would run");
}

}  // namespace
}  // namespace cnnscope::models
