// The dtypes cnnscope reads and writes, with their names in torch, safetensors and pickled
// storages (torch.FloatStorage ...). One table, so the three formats never disagree.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "common/mapped_file.h"

namespace cnnscope {

struct DType {
  at::ScalarType scalar_type;
  const char* torch_name;   // "float32", as `str(tensor.dtype)` without "torch."
  const char* safetensors;  // "F32"
  const char* storage;      // "FloatStorage"
  size_t element_size;
  // torch 2.x has no typed storage for this dtype (uint16/32/64, float8): torch.save writes it as
  // _rebuild_tensor_v3 over an UntypedStorage, `storage` is only cnnscope's internal tag, and
  // neither the pickle allowlist nor save_pth uses it.
  bool untyped_only = false;
};

const std::vector<DType>& all_dtypes();
const DType* dtype_from_scalar_type(at::ScalarType t);
const DType* dtype_from_safetensors(const std::string& code);
const DType* dtype_from_storage(const std::string& storage_name);
const DType* dtype_from_torch_name(const std::string& name);  // "uint16", or nullptr
std::string dtype_name(at::ScalarType t);                     // torch name, or "unknown"

// A tensor over `numel * element_size` bytes at `data` inside `file`, sharing the mapping
// (zero-copy when `data` is aligned for the dtype, else a copy; bool: a copy, nonzero bytes true).
at::Tensor tensor_from_bytes(const std::shared_ptr<const MappedFile>& file, const uint8_t* data,
                             const DType& dtype, const std::vector<int64_t>& shape);

}  // namespace cnnscope
