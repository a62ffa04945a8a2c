// load_state_dict: picks the reader from the file's first bytes. Formats: safetensors here;
// the torch.save zip and legacy readers plug in beside it.
#include "checkpoint/safetensors.h"
#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"

namespace cnnscope {

StateDict load_state_dict(const std::string& path, const LoadOptions& options) {
  auto file = MappedFile::open(path);
  register_input(path);
  if (file->size() == 0)
    fail(path, "file is empty", "expected a PyTorch checkpoint or safetensors");
  if (looks_like_safetensors(*file)) return read_safetensors(file);
  fail(path, "not a recognized checkpoint format",
       "expected torch.save output (.pth/.pt) or safetensors");
}

}  // namespace cnnscope
