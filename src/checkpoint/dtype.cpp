// dtype table and zero-copy tensor construction over a file's bytes (bool storages copied with
// every nonzero byte read as true, as torch reads them). Names follow torch (`torch.float32`),
// safetensors (`F32`) and torch/storage.py (`FloatStorage`).
#include "checkpoint/dtype.h"

#include <torch/version.h>

#include <cstdint>
#include <cstring>

namespace cnnscope {

const std::vector<DType>& all_dtypes() {
  static const std::vector<DType> table = {
      {at::kFloat, "float32", "F32", "FloatStorage", 4},
      {at::kHalf, "float16", "F16", "HalfStorage", 2},
      {at::kBFloat16, "bfloat16", "BF16", "BFloat16Storage", 2},
      {at::kDouble, "float64", "F64", "DoubleStorage", 8},
      {at::kLong, "int64", "I64", "LongStorage", 8},
      {at::kInt, "int32", "I32", "IntStorage", 4},
      {at::kShort, "int16", "I16", "ShortStorage", 2},
      {at::kChar, "int8", "I8", "CharStorage", 1},
      {at::kByte, "uint8", "U8", "ByteStorage", 1},
      {at::kBool, "bool", "BOOL", "BoolStorage", 1},
  // LibTorch 2.3+ (the pip wheel's): the dtypes torch.save writes with _rebuild_tensor_v3.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
      {at::kUInt16, "uint16", "U16", "UInt16Storage", 2, true},
      {at::kUInt32, "uint32", "U32", "UInt32Storage", 4, true},
      {at::kUInt64, "uint64", "U64", "UInt64Storage", 8, true},
      {at::kFloat8_e4m3fn, "float8_e4m3fn", "F8_E4M3", "Float8_e4m3fnStorage", 1, true},
      {at::kFloat8_e5m2, "float8_e5m2", "F8_E5M2", "Float8_e5m2Storage", 1, true},
#endif
  };
  return table;
}

const DType* dtype_from_scalar_type(at::ScalarType t) {
  for (const DType& d : all_dtypes())
    if (d.scalar_type == t) return &d;
  return nullptr;
}

const DType* dtype_from_safetensors(const std::string& code) {
  for (const DType& d : all_dtypes())
    if (code == d.safetensors) return &d;
  return nullptr;
}

const DType* dtype_from_storage(const std::string& storage_name) {
  for (const DType& d : all_dtypes())
    if (storage_name == d.storage) return &d;
  return nullptr;
}

const DType* dtype_from_torch_name(const std::string& name) {
  for (const DType& d : all_dtypes())
    if (name == d.torch_name) return &d;
  return nullptr;
}

std::string dtype_name(at::ScalarType t) {
  const DType* d = dtype_from_scalar_type(t);
  return d ? d->torch_name : "unknown";
}

at::Tensor tensor_from_bytes(const std::shared_ptr<const MappedFile>& file, const uint8_t* data,
                             const DType& dtype, const std::vector<int64_t>& shape) {
  auto options = at::TensorOptions().dtype(dtype.scalar_type).device(at::kCPU);
  if (dtype.scalar_type == at::kBool) {
    // A C++ bool holding a byte other than 0 or 1 is undefined behaviour (sums read 2 as 2).
    at::Tensor t = at::empty(shape, options);
    bool* out = t.data_ptr<bool>();
    for (int64_t i = 0; i < t.numel(); ++i) out[i] = data[i] != 0;
    return t;
  }
  if (reinterpret_cast<uintptr_t>(data) % dtype.element_size == 0) {
    // The deleter keeps the mapping alive as long as the tensor (or a view of it) lives.
    auto keep = new std::shared_ptr<const MappedFile>(file);
    return at::from_blob(
        const_cast<uint8_t*>(data), shape, [keep](void*) { delete keep; }, options);
  }
  at::Tensor t = at::empty(shape, options);
  if (t.numel() > 0) std::memcpy(t.data_ptr(), data, t.numel() * dtype.element_size);
  return t;
}

}  // namespace cnnscope
