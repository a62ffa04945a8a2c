// readable_zoom and readable (see readable.h).
#include "render/readable.h"

#include <algorithm>

namespace cnnscope {

int64_t readable_zoom(int64_t width, int64_t height) {
  const int64_t shorter = std::max<int64_t>(std::min(width, height), 1);
  const int64_t longer = std::max<int64_t>(std::max(width, height), 1);
  return std::max<int64_t>(
      std::min((kReadableSide + shorter - 1) / shorter, kMaxMagnifiedSide / longer), 1);
}

RgbImage readable(const RgbImage& image) {
  const int64_t zoom = readable_zoom(image.width, image.height);
  if (zoom == 1) return image;
  RgbImage out{image.width * zoom, image.height * zoom, {}};
  out.pixels.resize(static_cast<size_t>(out.width * out.height * 3));
  for (int64_t y = 0; y < out.height; ++y)
    for (int64_t x = 0; x < out.width; ++x) {
      const size_t from = static_cast<size_t>(((y / zoom) * image.width + x / zoom) * 3);
      const size_t to = static_cast<size_t>((y * out.width + x) * 3);
      std::copy_n(image.pixels.begin() + static_cast<std::ptrdiff_t>(from), 3,
                  out.pixels.begin() + static_cast<std::ptrdiff_t>(to));
    }
  return out;
}

}  // namespace cnnscope
