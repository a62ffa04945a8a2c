// Shared by the family tests: parity of one oracle model (make_models_parity.py) with PyTorch:
// logits and taps within 1e-4 of the largest magnitude, named_modules() names, classes and reprs.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "checkpoint/state_dict.h"
#include "models/network.h"
#include "testing.h"

namespace cnnscope::models::parity {

constexpr double kRelTolerance = 1e-4;

// The manifest of one oracle script: "models_manifest.json" (make_models_parity.py),
// "models_mobile_manifest.json" (make_models_mobile.py), ...; or any JSON fixture such as
// "models_classic_shapes.json", read once.
inline const nlohmann::json& manifest(const std::string& file = "models_manifest.json") {
  static std::map<std::string, nlohmann::json> read;
  auto it = read.find(file);
  if (it == read.end()) {
    std::ifstream in(cnnscope::testing::fixture(file));
    EXPECT_TRUE(in.good()) << file;
    it = read.emplace(file, in.good() ? nlohmann::json::parse(in) : nlohmann::json::object()).first;
  }
  return it->second;
}

// A state_dict of zeros with those names and shapes (one zero expanded: no memory per tensor),
// named `arch`.pth in messages.
inline StateDict zeros_like(const std::string& arch, const nlohmann::json& keys) {
  StateDict sd;
  sd.file = arch + ".pth";
  for (const auto& k : keys)
    sd.tensors.push_back(
        {k[0].get<std::string>(), at::zeros({}).expand(k[1].get<std::vector<int64_t>>())});
  return sd;
}

// `init` of `arch` has exactly `keys` ([[name, shape], ...] in state_dict order) and is the
// same for the same seed, different for another.
inline void check_init(const std::string& arch, int64_t num_classes, const nlohmann::json& keys) {
  SCOPED_TRACE(arch);
  StateDict a = init_network({arch, num_classes, 3}).state_dict();
  StateDict b = init_network({arch, num_classes, 3}).state_dict();
  StateDict c = init_network({arch, num_classes, 4}).state_dict();
  ASSERT_EQ(a.tensors.size(), keys.size());
  bool differs = false;
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(a.tensors[i].name, keys[i][0].get<std::string>());
    EXPECT_EQ(a.tensors[i].tensor.sizes().vec(), keys[i][1].get<std::vector<int64_t>>())
        << a.tensors[i].name;
    EXPECT_TRUE(a.tensors[i].tensor.equal(b.tensors[i].tensor)) << a.tensors[i].name;
    differs = differs || !a.tensors[i].tensor.equal(c.tensors[i].tensor);
  }
  EXPECT_TRUE(differs);
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

// An oracle's expected file (input, logits, "tap.NAME"s): `net`'s logits and taps on the input
// within kRelTolerance.
inline void check_expected(const Network& net, const StateDict& expected) {
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

// Every tap of `net` on `input` is a module of PyTorch's network with the output shape `shapes`
// ({name: shape}, by forward hook) gives it; null: it never runs there.
inline void check_shapes(const Network& net, const at::Tensor& input,
                         const nlohmann::json& shapes) {
  std::vector<std::string> all;
  for (const TapInfo& t : net.taps()) all.push_back(t.name);
  ForwardResult every = net.run(input, all);
  for (const NamedTensor& t : every.taps) {
    if (!shapes.contains(t.name)) {
      ADD_FAILURE() << t.name << " is no module of PyTorch's network";
      continue;
    }
    const nlohmann::json& want = shapes.at(t.name);
    if (want.is_null())
      EXPECT_FALSE(t.tensor.defined()) << t.name << " never runs in PyTorch";
    else if (t.tensor.defined())
      EXPECT_EQ(t.tensor.sizes().vec(), want.get<std::vector<int64_t>>()) << t.name;
    else
      ADD_FAILURE() << t.name << " did not run";
  }
}

// `set`: "" for make_models_parity.py's fixtures (models_NAME.*), "mobile" for
// make_models_mobile.py's (models_mobile_NAME.*, whose manifest also holds every module's output
// shape, checked here: null for a module that never runs).
inline void check_parity(const std::string& name, const std::string& set = "") {
  SCOPED_TRACE(name);
  const std::string prefix = set.empty() ? "models_" : "models_" + set + "_";
  const nlohmann::json& m = manifest(prefix + "manifest.json").at(name);
  Network net = build_network(oracle(prefix + name + ".safetensors"));
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

  StateDict expected = oracle(prefix + name + ".expected.safetensors");
  check_expected(net, expected);
  if (m.contains("shapes")) check_shapes(net, *expected.find("input"), m.at("shapes"));
}

}  // namespace cnnscope::models::parity
