// ONNX models through graph/onnx_graph (lowering) and the Dataflow interpreter: the oracle's
// exports of two small CNNs (tests/oracle/make_graph_onnx.py: dynamo and legacy exporters, opsets
// 11, 17 and 20) give onnxruntime's outputs within 1e-4 of their largest magnitude; initializers
// read as a state_dict, also from an external data file; module scopes from the dynamo
// exporter's metadata and the legacy exporter's node names; each hostile file refused in one
// line naming the op, path or problem.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "checkpoint/onnx_file.h"
#include "common/error.h"
#include "common/npy.h"
#include "graph/interpreter.h"
#include "graph/onnx_graph.h"
#include "testing.h"

namespace cnnscope::graph {
namespace {

std::string onnx_fixture(const std::string& name) {
  return testing::fixture("graph_onnx_" + name + ".onnx");
}

at::Tensor run_flow(const Dataflow& flow, const at::Tensor& x) {
  check(flow);
  std::vector<c10::IValue> out = run(flow, {x}, Limits{}, {}, {});
  EXPECT_FALSE(out.empty());
  return out.at(0).toTensor();
}

void expect_close(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const double scale = want.abs().max().item<double>();
  const double diff = (got.to(at::kDouble) - want.to(at::kDouble)).abs().max().item<double>();
  EXPECT_LE(diff, 1e-4 * scale) << what << ": largest |difference| " << diff;
}

class Exported : public ::testing::TestWithParam<std::string> {};

TEST_P(Exported, MatchesOnnxRuntime) {
  const std::string name = GetParam();
  const Dataflow flow = load_onnx(onnx_fixture(name));
  const at::Tensor x = read_npy(testing::fixture("graph_onnx_" + name + ".input.npy"));
  const at::Tensor want = read_npy(testing::fixture("graph_onnx_" + name + ".expected.npy"));
  expect_close(run_flow(flow, x), want, name);
}

INSTANTIATE_TEST_SUITE_P(OnnxGraph, Exported,
                         ::testing::Values("net_dynamo", "net_dynamo_raw", "net_legacy11",
                                           "net_legacy17", "ops_dynamo", "ops_legacy11",
                                           "ops_legacy17"));

TEST(OnnxGraph, DynamicBatchRunsOtherBatchSizes) {
  for (const std::string name : {"net_dynamo_raw", "net_legacy17"}) {
    const Dataflow flow = load_onnx(onnx_fixture(name));
    const at::Tensor x = read_npy(testing::fixture("graph_onnx_" + name + ".input.npy"));
    const at::Tensor want = read_npy(testing::fixture("graph_onnx_" + name + ".expected.npy"));
    expect_close(run_flow(flow, x.narrow(0, 1, 1)), want.narrow(0, 1, 1), name);
  }
}

TEST(OnnxGraph, InitializersAreTheStateDict) {
  const StateDict sd = onnx_state_dict(onnx_fixture("net_dynamo_raw"));
  EXPECT_EQ(sd.format, "onnx");
  const at::Tensor* conv = sd.find("block1.0.weight");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->sizes(), at::IntArrayRef({8, 1, 3, 3}));
  ASSERT_NE(sd.find("block1.1.running_var"), nullptr);
  ASSERT_NE(sd.find("head.bias"), nullptr);

  // The dynamo exporter's graph signature tells parameters from buffers.
  const Dataflow flow = load_onnx(onnx_fixture("net_dynamo_raw"));
  for (const Weight& w : flow.weights) {
    if (w.name == "block1.0.weight") {
      EXPECT_TRUE(w.parameter);
    }
    if (w.name == "block1.1.running_var") {
      EXPECT_FALSE(w.parameter);
    }
  }
}

TEST(OnnxGraph, ExternalDataInTheModelsFolder) {
  const std::string path = testing::fixture("graph_onnx_external/net.onnx");
  const StateDict sd = onnx_state_dict(path);
  const StateDict inline_sd = onnx_state_dict(onnx_fixture("net_legacy17"));
  ASSERT_EQ(sd.tensors.size(), inline_sd.tensors.size());
  for (size_t i = 0; i < sd.tensors.size(); ++i) {
    EXPECT_EQ(sd.tensors[i].name, inline_sd.tensors[i].name);
    EXPECT_TRUE(at::equal(sd.tensors[i].tensor, inline_sd.tensors[i].tensor)) << sd.tensors[i].name;
  }
  const at::Tensor x = read_npy(testing::fixture("graph_onnx_net_legacy17.input.npy"));
  const at::Tensor want = read_npy(testing::fixture("graph_onnx_net_legacy17.expected.npy"));
  expect_close(run_flow(load_onnx(path), x), want, "external");
}

// The calls of `path` in node order, each once.
std::vector<std::string> calls_of(const Dataflow& flow, const std::string& path,
                                  std::string* type = nullptr) {
  std::vector<std::string> calls;
  for (const Node& n : flow.nodes)
    for (const Scope& s : n.scopes)
      if (s.path == path) {
        if (calls.empty() || calls.back() != s.call) calls.push_back(s.call);
        if (type) *type = s.type;
      }
  return calls;
}

TEST(OnnxGraph, ScopesFromDynamoMetadata) {
  const Dataflow flow = load_onnx(onnx_fixture("net_dynamo_raw"));
  EXPECT_EQ(flow.root_type, "Net");
  std::string type;
  EXPECT_EQ(calls_of(flow, "block1", &type), std::vector<std::string>{"block1"});
  EXPECT_EQ(type, "Sequential");
  EXPECT_EQ(calls_of(flow, "block1.1", &type), std::vector<std::string>{"block1.1"});
  EXPECT_EQ(type, "BatchNorm2d");
  EXPECT_EQ(calls_of(flow, "act"), (std::vector<std::string>{"act", "act@1"}));
  EXPECT_EQ(calls_of(flow, "head").size(), 1u);
  // Functional calls outside modules have no scope.
  for (const Node& n : flow.nodes) {
    if (n.op == "onnx::Sub") {
      EXPECT_TRUE(n.scopes.empty());
    }
  }
}

TEST(OnnxGraph, ScopesFromLegacyNodeNames) {
  const Dataflow flow = load_onnx(onnx_fixture("net_legacy17"));
  EXPECT_EQ(calls_of(flow, "block1"), std::vector<std::string>{"block1"});
  EXPECT_EQ(calls_of(flow, "block1.0"), std::vector<std::string>{"block1.0"});
  EXPECT_EQ(calls_of(flow, "act"), (std::vector<std::string>{"act", "act@1"}));
  for (const Node& n : flow.nodes)
    for (const Scope& s : n.scopes) EXPECT_EQ(s.path.find("act_"), std::string::npos) << s.path;
}

TEST(OnnxGraph, LooksLikeOnnx) {
  EXPECT_TRUE(looks_like_onnx(*MappedFile::open(onnx_fixture("net_dynamo"))));
  EXPECT_TRUE(looks_like_onnx(*MappedFile::open(onnx_fixture("ops_legacy11"))));
  EXPECT_FALSE(
      looks_like_onnx(*MappedFile::open(testing::fixture("graph_onnx_net_dynamo.input.npy"))));
}

// The one-line message of loading, lowering, checking and running `path` on a [1, 1, 28, 28]
// input, or "" when all pass.
std::string refusal(const std::string& path) {
  try {
    const Dataflow flow = load_onnx(path);
    check(flow);
    run(flow, {at::zeros({1, 1, 28, 28})}, Limits{}, {}, {});
  } catch (const LimitError& e) {
    return e.what();
  } catch (const OpFailed& e) {
    return e.what();
  } catch (const Error& e) {
    return e.what();
  } catch (const Refused& e) {
    return e.what();
  }
  return "";
}

TEST(OnnxGraph, HostileFilesAreRefusedByName) {
  const std::string folder = testing::fixture("graph_onnx_hostile");
  std::ifstream names(folder + "/names.txt");
  std::string line;
  int cases = 0;
  while (std::getline(names, line)) {
    const size_t space = line.find(' ');
    const std::string file = line.substr(0, space), needle = line.substr(space + 1);
    const std::string message = refusal(folder + "/" + file);
    EXPECT_NE(message.find(needle), std::string::npos) << file << ": '" << message << "'";
    EXPECT_EQ(message.find('\n'), std::string::npos) << file;
    ++cases;
  }
  EXPECT_EQ(cases, 13);
}

}  // namespace
}  // namespace cnnscope::graph
