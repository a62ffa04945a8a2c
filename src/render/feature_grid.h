// Feature-map grid figure: N channels of one layer's [C, H, W] activation as colormapped tiles in a
// near-square grid (12 -> 3x4), each tile labelled with its channel, scaled per channel (matplotlib
// imshow's own min..max) or by one layer range with a colorbar; titled with layer, shape and image.
// Leaves out: interpolation (cells are magnified by an integer factor, nearest, so they stay
// sharp).
#pragma once

#include "render/canvas.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cnnscope {

enum class FeatureScale { kChannel, kLayer };

// "channel" | "layer"; throws Error naming the value otherwise.
FeatureScale parse_feature_scale(const std::string& name);

struct GridShape {
  int rows = 0, cols = 0;
};

// Near-square grid for n tiles, never taller than wide: cols = ceil(sqrt(n)), rows = ceil(n /
// cols).
GridShape near_square_grid(int n);

struct FeatureGridOptions {
  std::vector<int64_t> channels;  // channels to draw, in this order; empty: the first 12
  std::string colormap = "viridis";
  FeatureScale scale = FeatureScale::kChannel;
  std::string layer;     // title: the layer's tap name
  std::string image;     // subtitle: the image's name
  bool by_mean = false;  // subtitle: the channels were picked by largest mean (--pick top)
  int max_width = 1600;  // the figure aims to fit this screen area
  int max_height = 1000;
};

struct Box {
  double x = 0, y = 0, w = 0, h = 0;
};

struct FeatureGridLayout {
  int width = 0, height = 0;  // whole figure
  GridShape grid;
  int zoom = 1;            // figure pixels per activation cell
  std::vector<Box> tiles;  // one per shown channel, row by row
  Box colorbar;            // w == 0 unless one layer range is shared
};

constexpr int kDefaultFeatureChannels = 12;

// Where everything goes for an activation of `shape` [C, H, W]. Throws Error on a wrong shape or a
// figure larger than 16384 pixels a side.
FeatureGridLayout feature_grid_layout(const std::vector<int64_t>& shape,
                                      const FeatureGridOptions& options);

// Draws the grid of `activation` [C, H, W] (any floating dtype) and returns the figure's bytes; a
// [C, 1, 1] activation (a Linear's output) is drawn as a strip: one row of all C values, one range.
// Throws Error on a wrong shape, a channel out of range or a figure too large to draw.
std::string render_feature_grid(const at::Tensor& activation, const FeatureGridOptions& options,
                                FigureFormat format);

}  // namespace cnnscope
