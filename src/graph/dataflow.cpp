// check() and run() (dataflow.h): the interpreter of flat graphs. check() walks the nodes once in
// order with the set of values made so far, so a value read before it is made (a cycle, a
// dangling name) is refused before anything runs. run() calls each node's kernel with its inputs'
// values, checks the number and kind of what comes back, drops each value after its last reader,
// counts steps, reads the clock every few nodes and keeps the run's allocations inside the memory
// budget (memory_budget.h). Leaves out: control flow and calls (a flat graph has neither).
#include "graph/dataflow.h"

#include <chrono>

#include "graph/interpreter.h"
#include "graph/memory_budget.h"

namespace cnnscope::graph {
namespace {

constexpr int64_t kDeadlineEvery = 16;  // nodes between clock reads (each node is one op)

const char* kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::Tensor:
      return "a tensor";
    case ValueKind::Int:
      return "an int";
    case ValueKind::Float:
      return "a float";
    case ValueKind::Bool:
      return "a bool";
    case ValueKind::Ints:
      return "a list of ints";
    case ValueKind::Tensors:
      return "a list of tensors";
    case ValueKind::None:
      return "None";
  }
  return "a value";
}

bool conforms(const c10::IValue& v, ValueKind kind) {
  switch (kind) {
    case ValueKind::Tensor:
      return v.isTensor();
    case ValueKind::Int:
      return v.isInt();
    case ValueKind::Float:
      return v.isDouble();
    case ValueKind::Bool:
      return v.isBool();
    case ValueKind::Ints:
      return v.isIntList();
    case ValueKind::Tensors:
      return v.isTensorList();
    case ValueKind::None:
      return true;  // never read
  }
  return false;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

std::string where(const Node& node) {
  return node.op + " (node " + (node.name.empty() ? std::string("?") : node.name) + ")";
}

// For each node, the values whose last reader it is (graph outputs are never dropped).
std::vector<std::vector<int>> last_uses(const Dataflow& flow) {
  std::vector<int> last(flow.values.size(), -1);
  for (size_t i = 0; i < flow.nodes.size(); ++i)
    for (int v : flow.nodes[i].inputs) last[static_cast<size_t>(v)] = static_cast<int>(i);
  for (int v : flow.outputs) last[static_cast<size_t>(v)] = -1;
  for (const Weight& w : flow.weights) last[static_cast<size_t>(w.value)] = -1;  // shared
  std::vector<std::vector<int>> drop(flow.nodes.size());
  for (size_t v = 0; v < last.size(); ++v)
    if (last[v] >= 0) drop[static_cast<size_t>(last[v])].push_back(static_cast<int>(v));
  return drop;
}

}  // namespace

void check(const Dataflow& flow) {
  std::vector<char> made(flow.values.size(), 0);
  const auto in_range = [&](int v) { return v >= 0 && static_cast<size_t>(v) < made.size(); };
  const auto make = [&](int v, const std::string& by) {
    if (!in_range(v)) throw Refused(by + " sets a value that does not exist");
    if (made[static_cast<size_t>(v)])
      throw Refused(by + " sets '" + flow.values[static_cast<size_t>(v)].name +
                    "', which is already set");
    made[static_cast<size_t>(v)] = 1;
  };
  for (const Weight& w : flow.weights) make(w.value, "weight '" + w.name + "'");
  for (int v : flow.inputs) make(v, "an input");
  for (const Node& node : flow.nodes) {
    if (!node.kernel) throw Refused(where(node) + " has no implementation");
    for (int v : node.inputs)
      if (!in_range(v) || !made[static_cast<size_t>(v)])
        throw Refused(where(node) + " reads " +
                      (in_range(v) ? "'" + flow.values[static_cast<size_t>(v)].name + "'"
                                   : std::string("a value")) +
                      " before any node makes it (a cycle, or a name nothing defines)");
    for (int v : node.outputs) make(v, where(node));
  }
  if (flow.outputs.empty()) throw Refused("the graph has no outputs");
  for (int v : flow.outputs)
    if (!in_range(v) || !made[static_cast<size_t>(v)])
      throw Refused("the graph's output is never made");
}

std::vector<c10::IValue> run(const Dataflow& flow, std::vector<c10::IValue> inputs,
                             const Limits& limits, const std::vector<std::vector<int>>& at_node,
                             const ValueHook& hook) {
  if (inputs.size() != flow.inputs.size())
    throw Refused("the graph takes " + std::to_string(flow.inputs.size()) + " inputs, given " +
                  std::to_string(inputs.size()));
  MemoryBudget budget(limits.max_bytes);
  const std::vector<std::vector<int>> drop = last_uses(flow);
  std::vector<c10::IValue> env(flow.values.size());
  for (const Weight& w : flow.weights) env[static_cast<size_t>(w.value)] = w.tensor;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int v = flow.inputs[i];
    if (!conforms(inputs[i], flow.values[static_cast<size_t>(v)].kind))
      throw Refused("input " + std::to_string(i) + " is not " +
                    kind_name(flow.values[static_cast<size_t>(v)].kind));
    env[static_cast<size_t>(v)] = std::move(inputs[i]);
  }
  int64_t steps = 0;
  for (size_t n = 0; n < flow.nodes.size(); ++n) {
    const Node& node = flow.nodes[n];
    if (++steps > limits.max_steps)
      throw LimitError("its step budget of " + std::to_string(limits.max_steps) + " nodes");
    if (limits.deadline && steps % kDeadlineEvery == 0 &&
        std::chrono::steady_clock::now() > *limits.deadline)
      throw LimitError("its time limit");
    std::vector<c10::IValue> args;
    args.reserve(node.inputs.size());
    for (int v : node.inputs) args.push_back(env[static_cast<size_t>(v)]);
    std::vector<c10::IValue> out;
    try {
      out = node.kernel(args);
    } catch (const LimitError&) {
      throw;
    } catch (const Refused&) {
      throw;
    } catch (const c10::Error& e) {
      throw OpFailed(first_line(e.what_without_backtrace()), where(node));
    } catch (const std::exception& e) {
      throw OpFailed(first_line(e.what()), where(node));
    }
    if (out.size() != node.outputs.size())
      throw Refused(where(node) + " gave " + std::to_string(out.size()) + " values, the graph " +
                    "expects " + std::to_string(node.outputs.size()));
    for (size_t i = 0; i < out.size(); ++i) {
      const Value& value = flow.values[static_cast<size_t>(node.outputs[i])];
      if (!conforms(out[i], value.kind))
        throw Refused("output '" + value.name + "' of " + where(node) + " is not " +
                      kind_name(value.kind));
      if (out[i].isTensor()) check_elements(out[i].toTensor().numel(), limits);
      if (out[i].isTensorList())
        for (const at::Tensor& t : out[i].toTensorList()) check_elements(t.numel(), limits);
      env[static_cast<size_t>(node.outputs[i])] = std::move(out[i]);
    }
    if (hook && n < at_node.size())
      for (int v : at_node[n]) hook(n, v, env[static_cast<size_t>(v)]);
    for (int v : drop[n]) env[static_cast<size_t>(v)] = c10::IValue();
  }
  std::vector<c10::IValue> result;
  for (int v : flow.outputs) result.push_back(env[static_cast<size_t>(v)]);
  return result;
}

}  // namespace cnnscope::graph
