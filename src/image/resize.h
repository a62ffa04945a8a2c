// Pillow 13's Image.resize(size, Image.BILINEAR | Image.BICUBIC | Image.NEAREST) on 8-bit RGB,
// bit for bit: separable passes, support widened when shrinking (antialiasing), 22-bit fixed-point
// weights; NEAREST copies the pixel under each output pixel's center.
// Internal to src/image/.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

#include "image/input.h"

namespace cnnscope {

// [H, W, 3] uint8 -> [out_height, out_width, 3] uint8.
at::Tensor resize_rgb(const at::Tensor& rgb, int64_t out_height, int64_t out_width,
                      Interpolation interpolation);

}  // namespace cnnscope
