// Shared by the family tests: parity of one oracle model (make_models_parity.py) with PyTorch:
// logits and taps within 1e-4 of the largest magnitude, named_modules() names, classes and reprs.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "checkpoint/state_dict.h"
#include "models/network.h"
#include "testing.h"

namespace cnnscope::models::parity {

constexpr double kRelTolerance = 1e-4;

inline const nlohmann::json& manifest() {
  static const nlohmann::json m = [] {
    std::ifstream in(cnnscope::testing::fixture("models_manifest.json"));
    EXPECT_TRUE(in.good());
    return nlohmann::json::parse(in);
  }();
  return m;
}

inline StateDict oracle(const std::string& file) {
  return load_state_dict(cnnscope::testing::fixture(file));
}

// max |got - want| relative to max |want|.
inline double rel_error(const at::Tensor& got, const at::Tensor& want) {
  EXPECT_EQ(got.sizes(), want.sizes());
  if (got.sizes() != want.sizes()) return 1.0;
  const double scale = want.abs().max().item<double>();
  return (got - want).abs().max().item<double>() / std::max(scale, 1e-12);
}

inline void check_parity(const std::string& name) {
  SCOPED_TRACE(name);
  const nlohmann::json& m = manifest().at(name);
  Network net = build_network(oracle("models_" + name + ".safetensors"));
  EXPECT_EQ(net.info().arch, m.at("arch").get<std::string>());
  EXPECT_EQ(net.info().family, m.at("family").get<std::string>());
  EXPECT_EQ(net.info().num_classes, m.at("num_classes").get<int64_t>());
  EXPECT_EQ(net.num_parameters(), m.at("params").get<int64_t>());

  const auto& modules = m.at("modules");
  ASSERT_EQ(net.taps().size(), modules.size());
  for (size_t i = 0; i < modules.size(); ++i) {
    const TapInfo& tap = net.taps()[i];
    EXPECT_EQ(tap.name, modules[i][0].get<std::string>()) << i;
    EXPECT_EQ(tap.type, modules[i][1].get<std::string>()) << tap.name;
    // ReLU's inplace flag is not in the keys (the seed's BasicBlock has ReLU(), torchvision's
    // ReLU(inplace=True)); every other leaf prints as Python prints it.
    if (tap.leaf && tap.type != "ReLU") {
      EXPECT_EQ(tap.repr, m.at("reprs").at(tap.name).get<std::string>());
    }
  }

  StateDict expected = oracle("models_" + name + ".expected.safetensors");
  std::vector<std::string> taps;
  for (const NamedTensor& t : expected.tensors)
    if (t.name.rfind("tap.", 0) == 0) taps.push_back(t.name.substr(4));
  ASSERT_FALSE(taps.empty());
  ForwardResult r = net.run(*expected.find("input"), taps);
  EXPECT_LT(rel_error(r.logits, *expected.find("logits")), kRelTolerance);
  ASSERT_EQ(r.taps.size(), taps.size());
  for (const std::string& tap : taps) {
    const at::Tensor* got = r.find(tap);
    ASSERT_NE(got, nullptr) << tap;
    EXPECT_LT(rel_error(*got, *expected.find("tap." + tap)), kRelTolerance) << tap;
  }
}

}  // namespace cnnscope::models::parity
