// torch.save readers: the zip format (PyTorch >= 1.6, through LibTorch's PyTorchStreamReader) and
// the legacy format (consecutive pickles, then raw storages). Both yield the unpickled tree plus
// where each storage's bytes lie; tensors are built from them on demand (zero-copy when aligned;
// quantized ones dequantized). A zip with code/ is a TorchScript archive (torch.jit.save): its
// data.pkl is read the same way, and the class declarations of its code/ files are parsed as text
// (torchscript.cpp). Spec: torch/serialization.py (_save, _legacy_save, _load, _legacy_load).
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>

#include "checkpoint/pickle.h"
#include "checkpoint/state_dict.h"
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

  // TorchScript archives: what each class of code/ declares, by its qualified name in data.pkl
  // ("__torch__.torch.nn.modules.conv.___torch_mangle_0.Conv2d").
  struct ScriptClass {
    std::vector<std::string> parameters;                         // __parameters__
    std::vector<std::string> buffers;                            // __buffers__
    std::vector<std::pair<std::string, std::string>> constants;  // `name : Final[T] = value`
  };
  std::map<std::string, ScriptClass> script_classes;
  // Their source text by module ("__torch__.torch.nn.modules.conv" for code/__torch__/torch/nn/
  // modules/conv.py), compiled by graph/script_module.cpp, and the archive's version record.
  std::map<std::string, std::string> script_sources;
  uint64_t script_version = 0;

  // The tensor a TensorRef describes, over its storage's bytes; storages are shared by views. A
  // quantized tensor comes back dequantized (float32, as Tensor.dequantize()).
  at::Tensor tensor(const pickle::TensorRef& ref);
  // How a quantized TensorRef was quantized; nullopt for a plain tensor.
  std::optional<Quantization> quantization(const pickle::TensorRef& ref);

 private:
  std::map<const pickle::StorageRef*, at::Tensor> cache_;  // [numel] per storage
};

bool looks_like_zip(const MappedFile& file);
bool looks_like_legacy(const MappedFile& file);
bool looks_like_tar(const MappedFile& file);

// `archive`: the pickle to read, "data" (data.pkl, storages in data/) or, for a TorchScript
// archive, "constants" (constants.pkl and constants/).
std::unique_ptr<PthFile> read_zip(const std::shared_ptr<const MappedFile>& file,
                                  const std::string& archive = "data");
std::unique_ptr<PthFile> read_legacy(const std::shared_ptr<const MappedFile>& file);

// torchscript.cpp: the classes that TorchScript source `code` (one code/ file, whose records
// name the Python module `module`, e.g. "__torch__.torch.nn.modules.conv") declares.
void parse_script_classes(const std::string& module, std::string_view code,
                          std::map<std::string, PthFile::ScriptClass>& out);

}  // namespace cnnscope
