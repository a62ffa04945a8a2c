// What the per-format decoders (decode_bmp.cpp, decode_gif.cpp, decode_webp.cpp, decode_tiff.cpp)
// share with decode.cpp: the size check done before any pixel buffer exists, the [H, W, 3] result,
// and Pillow's CMYK -> RGB rule. Internal to src/image/. Spec: Pillow's Image.py
// (_decompression_bomb_check), Convert.c (cmyk2rgb).
#pragma once

#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace cnnscope {

// Refuses 0-pixel images and more than kMaxImagePixels (Pillow's DecompressionBombError) by name.
void check_dimensions(const std::string& path, int64_t width, int64_t height);

// A [height, width, 3] uint8 tensor, after check_dimensions.
at::Tensor new_rgb(const std::string& path, int64_t width, int64_t height);

// Pillow's cmyk2rgb on one pixel (plain ink values, 0 = no ink).
void cmyk_to_rgb(const uint8_t* cmyk, uint8_t* rgb);

// Pillow's MULDIV255: a * b / 255 rounded, in integers.
inline int muldiv255(int a, int b) {
  const int tmp = a * b + 128;
  return ((tmp >> 8) + tmp) >> 8;
}

// Each takes the whole file and returns [H, W, 3] uint8 as Image.open(path).convert("RGB").
at::Tensor decode_bmp(const std::string& path, const uint8_t* data, size_t size);
at::Tensor decode_gif(const std::string& path, const uint8_t* data, size_t size);
at::Tensor decode_webp(const std::string& path, const uint8_t* data, size_t size);
at::Tensor decode_tiff(const std::string& path, const uint8_t* data, size_t size);

}  // namespace cnnscope
