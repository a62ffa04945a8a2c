// cnnscope's own graph interpreter: runs TorchScript IR graphs (torch/csrc/jit/ir/ir.h) node by
// node without LibTorch's interpreter, which is no sandbox. A Program is made once from a class
// type and a method: every graph that method can reach (methods of submodules through
// prim::CallMethod, functions through prim::CallFunction) is checked before anything runs, each
// node either a structural node the interpreter executes itself or an operator of the allowlist
// (allowlist.h). A run then checks at every node that each input and output value is of the type
// the graph declares (so prim::unchecked_cast of a module to another class is refused, and an
// uninitialised value never reaches an op), reads attributes only from the objects it was given,
// and stays inside its Limits (steps, memory, deadline). Leaves out: forks, RPC, printing,
// object creation, interfaces, `with` blocks and every op not allowlisted (refused by name).
// aten::warn is dropped: a network's warnings are not shown.
#pragma once

#include <ATen/core/ivalue.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph/limits.h"

namespace torch::jit {
struct Node;
struct Graph;
}  // namespace torch::jit

namespace cnnscope::graph {

// The graph cannot be run safely: an op outside the allowlist, a value of the wrong type, an
// unsupported node. `what` names the node and where it is ("aten::save in Net.forward").
struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An op failed or the graph raised (a shape that does not fit, `raise` in the code): `where` is
// the node and method, `what()` the op's first line of explanation.
struct OpFailed : std::runtime_error {
  OpFailed(const std::string& what, std::string where_)
      : std::runtime_error(what), where(std::move(where_)) {}
  std::string where;
};

// Called after every `forward` of a module object returns (the module, its output); the output
// may be replaced (taps, hooks).
using ModuleHook = std::function<void(const c10::ivalue::Object& module, c10::IValue& output)>;

class Program {
 public:
  // Checks every graph `method` of `type` can reach; throws Refused naming the first op not
  // allowed.
  Program(const c10::ClassTypePtr& type, const std::string& method);
  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // Runs the method on `self` (which must be of the Program's type) with `args`, inside
  // `limits`. Thread-safe: runs share nothing but the checked graphs.
  c10::IValue run(const c10::intrusive_ptr<c10::ivalue::Object>& self,
                  std::vector<c10::IValue> args, const Limits& limits,
                  const ModuleHook& hook = {}) const;

  struct Compiled;  // per node: how it runs (interpreter.cpp)

 private:
  c10::ClassTypePtr type_;
  std::string method_;
  std::shared_ptr<torch::jit::Graph> entry_;  // the method's graph
  std::unordered_map<const torch::jit::Node*, std::unique_ptr<Compiled>> nodes_;
};

// "Net.forward": the class's own name (no "__torch__." or mangling) and the method.
std::string method_label(const c10::ClassTypePtr& type, const std::string& method);

}  // namespace cnnscope::graph
