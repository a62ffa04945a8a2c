// A TorchScript archive (torch.jit.save) loaded without LibTorch's loader, which runs code of the
// archive (a class's __setstate__) while it restores objects. Here: the code/ files are compiled
// into class types (LibTorch's compiler only parses and type-checks; nothing runs), constants.pkl
// and data.pkl are read by cnnscope's restricted unpickler, and every object of data.pkl is built
// from its attributes, each converted to the type its class declares (refused when it does not
// fit). Classes that define __setstate__ or __getstate__ are refused by the compiled type, not by
// a text search. Walks are bounded: each pickled object is built once (shared references stay
// shared), nesting is bounded and the number of values built is budgeted. Leaves out: enums,
// interfaces, custom classes (torch.classes), quantized packed params.
// Spec: torch/csrc/jit/serialization/import.cpp (the archive layout: code/, constants.pkl,
// data.pkl, .data/version) and pickler.cpp (objects as GLOBAL + NEWOBJ + BUILD of their
// attributes).
#pragma once

#include <ATen/core/ivalue.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace torch::jit {
struct CompilationUnit;
}

namespace cnnscope::graph {

struct ScriptModule {
  std::shared_ptr<torch::jit::CompilationUnit> cu;  // owns the compiled classes
  c10::intrusive_ptr<c10::ivalue::Object> root;     // the module data.pkl holds, eval mode
  // Every module object once, in named_modules() order (the root first, named ""): a module
  // reached again under another name keeps its first name, as PyTorch's named_modules() does.
  std::vector<std::pair<std::string, c10::intrusive_ptr<c10::ivalue::Object>>> modules;
  std::unordered_map<const c10::ivalue::Object*, std::string> names;  // the same, by object
};

// Loads `file` (a TorchScript archive); throws Error naming it when anything does not fit. The
// compiler recurses with the code's nesting: call it through on_large_stack (large_stack.h); the
// code's size and nesting are checked first so that its stack holds.
ScriptModule load_script_module(const std::string& file);

}  // namespace cnnscope::graph
