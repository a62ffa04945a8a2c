// Pillow 13's Image.resize(size, Image.BILINEAR) on 8-bit RGB, bit for bit: separable passes,
// support widened when shrinking (antialiasing), 22-bit fixed-point weights. Internal to
// src/image/.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace cnnscope {

// [H, W, 3] uint8 -> [out_height, out_width, 3] uint8.
at::Tensor resize_bilinear(const at::Tensor& rgb, int64_t out_height, int64_t out_width);

}  // namespace cnnscope
