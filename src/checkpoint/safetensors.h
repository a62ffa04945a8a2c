// safetensors reader: u64 LE header length, JSON header, raw little-endian buffer
// (https://github.com/huggingface/safetensors format spec). Tensors alias the memory map.
#pragma once

#include <memory>
#include <string>

#include "checkpoint/state_dict.h"
#include "common/mapped_file.h"

namespace cnnscope {

// True when the first bytes look like a safetensors header (length, then '{').
bool looks_like_safetensors(const MappedFile& file);

StateDict read_safetensors(const std::shared_ptr<const MappedFile>& file);

}  // namespace cnnscope
