// The top-patches mosaic of one layer (`scan`'s DIR/<layer>_top.png): a row per channel, labelled
// with its index, holding that channel's top-k input patches (each scaled into a square cell with
// nearest-neighbour magnification, aspect kept), so a person sees what each channel responds to.
// Leaves out: choosing and cutting the patches (app/scan). Draws with render/canvas.h.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cnnscope {

struct PatchRow {
  int64_t channel = 0;
  std::vector<at::Tensor> patches;  // each [h, w, 3] uint8 RGB
};

// PNG bytes; `columns` cells per row (k), rows in the order given, `title` above them.
std::string render_top_patches(const std::vector<PatchRow>& rows, int64_t columns,
                               const std::string& title);

}  // namespace cnnscope
