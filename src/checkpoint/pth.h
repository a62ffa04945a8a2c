// torch.save readers: the zip format (PyTorch >= 1.6, through LibTorch's PyTorchStreamReader) and
// the legacy format (consecutive pickles, then raw storages). Both yield the unpickled tree plus
// where each storage's bytes lie; tensors are built from them on demand (zero-copy when aligned).
// Spec: torch/serialization.py (_save, _legacy_save, _load, _legacy_load).
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>

#include "checkpoint/pickle.h"
#include "common/mapped_file.h"

namespace cnnscope {

struct PthFile {
  std::shared_ptr<const MappedFile> file;
  std::string format;                            // "zip" | "legacy"
  std::unique_ptr<pickle::Unpickler> unpickler;  // owns every value of `root`
  pickle::Value* root = nullptr;

  struct Bytes {
    const uint8_t* data = nullptr;
    uint64_t size = 0;
  };
  std::map<std::string, Bytes> storages;  // storage key -> its bytes inside `file`

  // The tensor a TensorRef describes, over its storage's bytes; storages are shared by views.
  at::Tensor tensor(const pickle::TensorRef& ref);

 private:
  std::map<const pickle::StorageRef*, at::Tensor> cache_;  // [numel] per storage
};

bool looks_like_zip(const MappedFile& file);
bool looks_like_legacy(const MappedFile& file);
bool looks_like_tar(const MappedFile& file);

std::unique_ptr<PthFile> read_zip(const std::shared_ptr<const MappedFile>& file);
std::unique_ptr<PthFile> read_legacy(const std::shared_ptr<const MappedFile>& file);

}  // namespace cnnscope
