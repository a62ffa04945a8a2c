// The one in-memory form of every network that comes as a flat graph of operator calls
// (torch.export programs, export_program.h; ONNX models, onnx_graph.h): values, nodes in the
// order they run, the module scopes each node was recorded in (for taps by module path) and the
// weights by name. A reader builds it; check() and run() (dataflow.cpp) are the one interpreter
// that runs it: each node's kernel is made by the reader from its own table of allowlisted ATen
// calls (never from text in the file), every value's kind is checked as it is set, and a run
// stays inside its Limits (steps, memory, deadline). Leaves out: control flow (a flat graph has
// none), and every op no reader knows (refused by name when the file is read).
#pragma once

#include <ATen/core/ivalue.h>

#include <functional>
#include <string>
#include <vector>

#include "graph/limits.h"

namespace cnnscope::graph {

// What a value may hold, checked each time a node sets it.
enum class ValueKind {
  Tensor,
  Int,  // a SymInt, a shape entry
  Float,
  Bool,
  Ints,     // int[]
  Tensors,  // Tensor[] (an op's list result)
  None,     // an output the program never reads (export's as_none)
};

struct Value {
  std::string name;  // the file's name for it: "conv2d_3", "/layer1/Relu_output_0"
  ValueKind kind = ValueKind::Tensor;
};

// A module call a node was recorded in: export's nn_module_stack entry, PyTorch's ONNX name
// scopes. `call` tells two calls of one module apart ("act" and "act@1").
struct Scope {
  std::string call;  // unique per call
  std::string path;  // the module's qualified name: "block1.0"
  std::string type;  // its Python class: "Conv2d"
};

// The inputs' values in, the outputs' values out (one per Node::outputs). Made by a reader from
// its allowlist; throws c10::Error or std::exception on bad shapes (reported as OpFailed).
using Kernel = std::function<std::vector<c10::IValue>(std::vector<c10::IValue>& inputs)>;

struct Node {
  std::string op;             // "aten::conv2d", "onnx::Conv": what it calls
  std::string name;           // the file's node name
  std::vector<int> inputs;    // indices into Dataflow::values
  std::vector<int> outputs;   // indices into Dataflow::values, each set by this node only
  std::vector<Scope> scopes;  // outermost first; empty: outside every module
  Kernel kernel;
};

struct Weight {
  std::string name;  // its state_dict name: "block1.0.weight"
  int value = -1;    // the value that holds it
  at::Tensor tensor;
  bool parameter = true;  // false: a buffer or constant
};

struct Dataflow {
  std::vector<Value> values;
  std::vector<Node> nodes;      // in the order they run
  std::vector<Weight> weights;  // set before the first node
  std::vector<int> inputs;      // the network's inputs (an image batch first)
  std::vector<int> outputs;     // the network's outputs (logits first)
  std::string root_type;        // the exported class ("Net"), or the graph's name
  // The first input's example shape as recorded in the file ([1, 1, 28, 28]); -1: a dynamic
  // size; empty: not recorded.
  std::vector<int64_t> input_shape;
  std::vector<int64_t> output_shape;  // the first output's, likewise ([1, 10])
};

// Throws Refused unless every index is in range, every value is set once (by a weight, an input
// or one node) before any node reads it, and every node has a kernel: a cycle or a value read
// before it is made is refused here, before anything runs.
void check(const Dataflow& flow);

// Called after node `node` ran, for each value `tap` the caller registered at that node (taps
// by module path land at the last node of the module call); it may replace the value.
using ValueHook = std::function<void(size_t node, int value, c10::IValue& v)>;

// Runs a checked Dataflow on `inputs` inside `limits`; `at_node[i]` lists the values the hook
// sees after node i (may be empty). Values are dropped after their last use. Throws LimitError,
// Refused (a kernel gave a value of the wrong kind) or OpFailed (an op failed: its node named).
std::vector<c10::IValue> run(const Dataflow& flow, std::vector<c10::IValue> inputs,
                             const Limits& limits, const std::vector<std::vector<int>>& at_node,
                             const ValueHook& hook);

}  // namespace cnnscope::graph
