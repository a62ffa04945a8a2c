// Inside the checkpoint stage: nn.Module trees of whole-model pickles (torch.save(model)) and
// TorchScript archives, kept as opaque pickle Objects, read back as PyTorch's state_dict() and
// named_modules() give them. Leaves out: _extra_state and state_dict hooks (nothing runs), and
// modules whose own _save_to_state_dict adds entries (quantized modules: save their state_dict).
// Spec: torch/nn/modules/module.py (state_dict, _save_to_state_dict, named_modules).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "checkpoint/pth.h"
#include "checkpoint/state_dict.h"

namespace cnnscope {

// What one walk over an unpickled tree may produce: a pickle shares values through its memo, so a
// 1 KB file can describe a tree of 2^40 nodes. Walks expand each node once and charge here every
// entry and every name or text they build, and every dict entry they scan (modules may share one
// state dict); past 2^20 entries, 64 MiB of text or 2^26 entries scanned they stop with one Error
// naming the file.
class OutputBudget {
 public:
  explicit OutputBudget(std::string file) : file_(std::move(file)) {}
  void charge(size_t entries, size_t bytes, size_t scanned = 0);

 private:
  std::string file_;
  size_t entries_ = 0, bytes_ = 0, scanned_ = 0;
};

// An nn.Module of `pth`: an object whose state holds `_parameters` and `_modules` dicts, or an
// object of a class that the TorchScript archive declares.
bool is_module(const PthFile& pth, const pickle::Value& v);

// Appends the state_dict of module `root` with names under `prefix` ("" or "model.") to
// `tensors`: each module's parameters, then its persistent buffers (None entries skipped), then
// its children, recursively. With `modules`, also appends each module (path, class, hparams).
// A module reached by two paths is walked once and its entries repeated under the second path, as
// state_dict() does. Throws Error for a tree deeper than 64, one that contains itself, or one
// whose entries exceed `budget`.
void module_state_dict(PthFile& pth, const pickle::Value& root, const std::string& prefix,
                       std::vector<NamedTensor>& tensors, std::vector<ModuleInfo>* modules,
                       OutputBudget& budget);

}  // namespace cnnscope
