// Decodes a JPEG, PNG, BMP, GIF (first frame), WebP or TIFF (first page) file into 8-bit RGB
// exactly as Pillow's Image.open(path).convert("RGB"): alpha dropped, palette and gray expanded,
// 16-bit reduced as Pillow does; refuses what Pillow refuses. Internal to src/image/.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace cnnscope {

// Pillow's Image.MAX_IMAGE_PIXELS * 2: beyond it Pillow raises DecompressionBombError.
constexpr int64_t kMaxImagePixels = 2 * (1024LL * 1024 * 1024 / 4 / 3);

enum class ImageKind { kJpeg, kPng, kBmp, kGif, kWebp, kTiff, kNpy, kUnknown };

// Guesses the kind from the first bytes (not the extension).
ImageKind sniff_image(const uint8_t* data, size_t size);

// [H, W, 3] uint8 RGB. Throws Error naming `path` for missing, empty, truncated, unsupported or
// oversized images (more than kMaxImagePixels, checked before any pixel buffer is allocated).
at::Tensor decode_rgb(const std::string& path);

// The same from bytes in memory (an HTTP upload); `path` names them in messages.
at::Tensor decode_rgb_bytes(const std::string& path, const uint8_t* data, size_t size);

}  // namespace cnnscope
