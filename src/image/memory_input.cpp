// load_input_bytes (see memory_input.h): decode_rgb_bytes, then the transforms of input.cpp.
#include "image/memory_input.h"

#include "common/error.h"
#include "image/decode.h"
#include "image/transforms.h"

namespace cnnscope {

at::Tensor load_input_bytes(const std::string& name, const std::string& bytes,
                            const PreprocessOptions& options) {
  const at::Tensor rgb =
      decode_rgb_bytes(name, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  try {
    return network_tensor(resize_and_crop(rgb, options), options);  // [C, H, W]
  } catch (const Error& e) {
    fail(name, e.what(), "", e.settings());
  }
}

}  // namespace cnnscope
