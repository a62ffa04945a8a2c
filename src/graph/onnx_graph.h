// ONNX models lowered to the flat graph of dataflow.h: the initializers as weights, the graph
// inputs that are not initializers as inputs, each node a Node calling ATen through the operator
// table of onnx_ops.cpp (ops outside it, other domains and opsets before 11 refused by name before
// anything runs), nodes in topological order, and the module scopes PyTorch recorded, for taps by
// module path: the dynamo exporter's node metadata (pkg.torch.onnx.name_scopes and
// class_hierarchy), else the legacy exporter's node names ("/layer1/layer1.0/conv1/Conv").
// Leaves out: subgraphs (If, Loop), sequences, model-local functions, training graphs.
// Spec: onnx/onnx.proto (ModelProto, GraphProto, NodeProto), onnx/docs/IR.md (graph order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint/onnx_file.h"
#include "graph/dataflow.h"

namespace cnnscope::graph {

// The default-domain opsets the operator table follows.
constexpr int64_t kOnnxMinOpset = 11;
constexpr int64_t kOnnxMaxOpset = 25;

// Throws Refused naming the op and node (or the opset) that cnnscope does not run, Error for a
// malformed file (tensor data, external data outside the model's folder).
Dataflow lower_onnx(const OnnxModel& model);

// read_onnx(path), then lower_onnx.
Dataflow load_onnx(const std::string& path);

}  // namespace cnnscope::graph
