// Checkpoint writers: a state_dict as a torch.save zip file (what Python's torch.load reads back
// as an OrderedDict of tensors) and as safetensors. Both atomic: the file appears whole or not at
// all.
#pragma once

#include <string>

#include "checkpoint/state_dict.h"

namespace cnnscope {

// torch.save's zip format (pickle protocol 2, one contiguous storage per tensor, 64-byte aligned
// records). Tensors of any dtype in the dtype table; views are saved as their values.
void save_pth(const StateDict& sd, const std::string& path);

// safetensors (header padded with spaces to 8 bytes, tensors in state_dict order).
void save_safetensors(const StateDict& sd, const std::string& path);

}  // namespace cnnscope
