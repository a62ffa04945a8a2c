// Internal to graph/onnx_graph.cpp: the table of ONNX operators cnnscope runs, each made into a
// Kernel (dataflow.h) from one node's attributes when the file is read, calling ATen only.
// Leaves out: every op not in the table, non-default domains, opsets before 11. Spec: the ONNX
// operator documentation (onnx/docs/Operators.md), each op at the versions of opsets 11 to 25.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint/onnx_file.h"
#include "graph/dataflow.h"

namespace cnnscope::graph::onnx_ops {

// One node as its op's factory sees it.
struct Site {
  const onnx::NodeProto& node;
  const OnnxModel& model;  // the file (Constant's tensors)
  int64_t opset;           // the model's version of the default domain
  std::string label;       // "onnx::Conv (node /conv/Conv)", for messages
  // Per ONNX input position: the index among the kernel's inputs, or -1 where the node leaves
  // the optional input out ("").
  std::vector<int> slots;
  std::vector<bool> outputs;  // per ONNX output position: the node names it
};

// True when `op_type` (default domain) is in the table.
bool known(const std::string& op_type);

// The kernel of `site`'s node: its outputs in order, those the node leaves out ("") dropped.
// Throws Refused (an attribute value or an output the table does not run) before anything runs.
Kernel make_kernel(const Site& site);

}  // namespace cnnscope::graph::onnx_ops
