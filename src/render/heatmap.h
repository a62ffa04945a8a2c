// Heat maps of explanations as RGB pixels: a CAM through a colormap and blended over the picture
// (pytorch-grad-cam's show_cam_on_image), and a pixel attribution as a signed map (red positive,
// blue negative) and as a magnitude map through a colormap. Leaves out: computing the maps
// (explain/), encoding and writing files (render/canvas.h, app/explain.cpp), resizing.
// Spec: pytorch-grad-cam 1.5.7 utils/image.py show_cam_on_image (use_rgb=True, colormap lookup of
// np.uint8(255 * mask)); the attribution figures of the `explain` section of docs/DESIGN.md.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "render/colormap.h"

namespace cnnscope {

// Pixels row by row, 3 bytes (R, G, B) each.
struct RgbImage {
  int64_t width = 0;
  int64_t height = 0;
  std::vector<uint8_t> pixels;  // [height, width, 3]
};

// A CAM `map` [H, W] float (values 0..1) coloured as show_cam_on_image: entry uint8(255 * v).
RgbImage cam_heatmap(const at::Tensor& map, const Colormap& cmap);

// show_cam_on_image's overlay: alpha * heat + (1 - alpha) * picture, divided by its max, as bytes.
// `picture` [H, W, C] uint8 (C = 3, or 1 for gray) of the heat map's size; undefined or of another
// size: the heat map over black.
RgbImage cam_overlay(const RgbImage& heat, const at::Tensor& picture, double alpha);

// A signed map [H, W] float scaled by its largest magnitude: red for positive values, blue for
// negative ones, fading to white at 0.
RgbImage signed_heatmap(const at::Tensor& map);

// A non-negative map [H, W] float scaled by its max and coloured by `cmap` (all entry 0 when the
// map is all 0).
RgbImage magnitude_heatmap(const at::Tensor& map, const Colormap& cmap);

}  // namespace cnnscope
