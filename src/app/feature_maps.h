// A layer's captured output as feature maps [N, C, H, W], whatever its rank: the one check of
// "never runs" and of the ranks cnnscope draws, shared by features, scan, report and serve.
// Leaves out: drawing (render/feature_grid.h) and statistics (stats/).
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace cnnscope::app {

// `output` [N, ...] of `layer` as [N, C, H, W]: 4-D as it is, a Linear's or pooled embedding's
// [N, C] as [N, C, 1, 1], a 1-D map [N, C, L] as [N, C, 1, L] (views, no copy). Throws Error naming
// `file` when the layer gave no tensor in `arch`'s forward (undefined: it never ran or returned
// no single tensor) or its output has another rank.
at::Tensor feature_maps(const at::Tensor& output, const std::string& layer, const std::string& arch,
                        const std::string& file);

}  // namespace cnnscope::app
