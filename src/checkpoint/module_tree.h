// Inside the checkpoint stage: nn.Module trees of whole-model pickles (torch.save(model)) and
// TorchScript archives, kept as opaque pickle Objects, read back as PyTorch's state_dict() and
// named_modules() give them. Leaves out: _extra_state and state_dict hooks (nothing runs), and
// modules whose own _save_to_state_dict adds entries (quantized modules: save their state_dict).
// Spec: torch/nn/modules/module.py (state_dict, _save_to_state_dict, named_modules).
#pragma once

#include <string>
#include <vector>

#include "checkpoint/pth.h"
#include "checkpoint/state_dict.h"

namespace cnnscope {

// An nn.Module of `pth`: an object whose state holds `_parameters` and `_modules` dicts, or an
// object of a class that the TorchScript archive declares.
bool is_module(const PthFile& pth, const pickle::Value& v);

// Appends the state_dict of module `root` with names under `prefix` ("" or "model.") to
// `tensors`: each module's parameters, then its persistent buffers (None entries skipped), then
// its children, recursively. With `modules`, also appends each module (path, class, hparams).
// Throws Error for a tree deeper than 64 or one that contains itself.
void module_state_dict(PthFile& pth, const pickle::Value& root, const std::string& prefix,
                       std::vector<NamedTensor>& tensors, std::vector<ModuleInfo>* modules);

}  // namespace cnnscope
