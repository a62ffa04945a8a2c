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
#include <unordered_map>
#include <vector>

#include "checkpoint/pickle.h"
#include "checkpoint/state_dict.h"
#include "common/mapped_file.h"

namespace caffe2::serialize {
class PyTorchStreamReader;
}

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

// One record's sizes in a zip's central directory.
struct ZipEntry {
  uint64_t size = 0;  // uncompressed
  uint64_t compressed = 0;
  uint16_t method = 0;
};

// A zip written by PyTorch (torch.save, torch.jit.save, torch.export.save): records named below
// the archive's one top-level folder, each read whole (its declared size checked first) or, when
// stored uncompressed, placed in the file's bytes without a copy. Errors name the record.
class ZipArchive {
 public:
  explicit ZipArchive(std::shared_ptr<const MappedFile> file);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  const std::string& path() const { return file_->path(); }
  std::vector<std::string> names() const;  // sorted, below the folder: "models/model.json"
  bool has(const std::string& name) const;
  uint64_t size(const std::string& name) const;  // uncompressed; 0 when missing
  std::string read(const std::string& name) const;
  PthFile::Bytes place(const std::string& name) const;

 private:
  std::shared_ptr<const MappedFile> file_;
  std::unordered_map<std::string, ZipEntry> entries_;  // full name -> sizes
  std::string folder_;                                 // "archive/"
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader_;
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
