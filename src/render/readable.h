// Figures of small inputs drawn at a readable size: a 28x28 network's explanation is magnified
// by a whole factor, each pixel a square block (nearest neighbour: the pixels stay visible, nothing
// is smoothed). Only figures: arrays (.npy) keep their own size. Leaves out: downscaling of large
// figures.
#pragma once

#include <cstdint>

#include "render/heatmap.h"

namespace cnnscope {

constexpr int64_t kReadableSide = 224;       // the shorter side a figure is magnified to reach
constexpr int64_t kMaxMagnifiedSide = 4096;  // the longer side it never passes

// The smallest whole factor that brings the shorter side of width x height to kReadableSide,
// without the longer side passing kMaxMagnifiedSide (1 for figures that reach it already).
int64_t readable_zoom(int64_t width, int64_t height);

// `image` magnified by readable_zoom, nearest neighbour.
RgbImage readable(const RgbImage& image);

}  // namespace cnnscope
