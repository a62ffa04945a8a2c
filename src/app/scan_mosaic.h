// A scanned layer's mosaic: each channel's top hits cut out of their images along the layer's
// receptive field and drawn as one row per channel (render/top_patches.h), strongest channel
// first. Leaves out: finding the hits (app/scan.h). Spec: the `scan` section of docs/DESIGN.md.
#pragma once

#include <string>
#include <vector>

#include "app/scan.h"
#include "image/input.h"

namespace cnnscope::app {

// Writes OUT/<layer>_top.png into `out` and sets `layer.mosaic` to it and `layer.patches` to each
// drawn hit's box. `layer.field` must be set. An image that can no longer be read gives no patch.
void draw_scan_mosaic(ScanLayer& layer, const std::vector<ScanImage>& list,
                      const PreprocessOptions& pre, const std::string& out);

}  // namespace cnnscope::app
