// Convolution kernels as pictures: a [C_out, C_in, kH, kW] weight drawn as a grid of colour
// patches (C_in == 3), of gray tiles per input channel, or of each kernel's channel mean.
// Leaves out: transposed/grouped-conv layouts (drawn as stored). Draws with render/canvas.h.
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "render/canvas.h"

namespace cnnscope {

enum class FilterScale {
  kKernel,  // each kernel stretched over its own min..max
  kLayer,   // one min..max shared by the whole layer
};

enum class FilterMode {
  kAuto,      // kRgb when C_in == 3, else kChannels
  kRgb,       // one colour patch per kernel (needs C_in == 3)
  kChannels,  // one row per kernel, one gray tile per input channel
  kMean,      // one gray tile per kernel: the mean over its input channels
};

struct FilterMosaicOptions {
  std::string title;  // e.g. the layer name; the shape and scaling are added below it
  FilterScale scale = FilterScale::kKernel;
  FilterMode mode = FilterMode::kAuto;
  int max_kernels = 0;    // 0: all output channels
  int max_channels = 16;  // kChannels: input channels shown per kernel (0: all)
};

// "kernel"|"layer" and "auto"|"rgb"|"channels"|"mean"; throw Error listing the choices.
FilterScale parse_filter_scale(const std::string& name);
FilterMode parse_filter_mode(const std::string& name);

// `weight`: [C_out, C_in, kH, kW], any floating dtype (NaN/Inf drawn as the range's low end).
// Throws Error on another rank, on kRgb without 3 input channels, or on no finite value.
std::string filter_mosaic(const at::Tensor& weight, const FilterMosaicOptions& options,
                          FigureFormat format);

}  // namespace cnnscope
