// render_top_patches: a white canvas, a title line, then per row the channel index and its patches
// in fixed square cells (smaller cells for layers of many channels, so the figure stays a few
// thousand pixels tall). Spec: top_patches.h.
#include "render/top_patches.h"

#include <algorithm>

#include "render/canvas.h"

namespace cnnscope {

std::string render_top_patches(const std::vector<PatchRow>& rows, int64_t columns,
                               const std::string& title) {
  const int cell = rows.size() > 256 ? 24 : rows.size() > 64 ? 40 : 64;
  const int gap = 2, label = 48, top = 28;
  const int width = label + static_cast<int>(columns) * (cell + gap) + gap;
  const int height = top + static_cast<int>(rows.size()) * (cell + gap) + gap;
  Canvas canvas(width, height, FigureFormat::kPng);
  canvas.clear(1, 1, 1);
  cairo_set_source_rgb(canvas.cr(), 0, 0, 0);
  canvas.text(title, 4, 18, 13, 0.0, true);
  std::vector<uint32_t> pixels;
  for (size_t r = 0; r < rows.size(); ++r) {
    const double y = top + static_cast<double>(r) * (cell + gap);
    cairo_set_source_rgb(canvas.cr(), 0, 0, 0);
    canvas.text("#" + std::to_string(rows[r].channel), label - 6, y + cell / 2.0 + 4, 11, 1.0);
    for (size_t c = 0; c < rows[r].patches.size(); ++c) {
      const at::Tensor patch = rows[r].patches[c].contiguous();  // [h, w, 3] uint8
      const int h = static_cast<int>(patch.size(0)), w = static_cast<int>(patch.size(1));
      if (h == 0 || w == 0) continue;
      pixels.resize(static_cast<size_t>(h) * static_cast<size_t>(w));
      const uint8_t* p = patch.data_ptr<uint8_t>();
      for (size_t i = 0; i < pixels.size(); ++i)
        pixels[i] = (uint32_t{p[3 * i]} << 16) | (uint32_t{p[3 * i + 1]} << 8) | p[3 * i + 2];
      const double scale = static_cast<double>(cell) / std::max(h, w);
      const double x = label + gap + static_cast<double>(c) * (cell + gap);
      canvas.draw_pixels(pixels.data(), w, h, x, y, w * scale, h * scale);
    }
  }
  return canvas.finish();
}

}  // namespace cnnscope
