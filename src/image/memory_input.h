// The network input from an image held in memory (an HTTP upload to `cnnscope serve`): the same
// decode -> resize -> crop -> ToTensor -> Normalize as load_input, without touching the disk.
// Leaves out: .npy inputs (refused: uploads are photos).
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "image/input.h"

namespace cnnscope {

// `bytes`: a JPEG, PNG, BMP, GIF, WebP or TIFF file's contents; `name` names it in messages.
// Returns [3, H, W] float32. Throws Error naming `name` on anything that is not a readable image.
at::Tensor load_input_bytes(const std::string& name, const std::string& bytes,
                            const PreprocessOptions& options);

}  // namespace cnnscope
