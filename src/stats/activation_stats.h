// Activation statistics of one captured layer output: per layer and per channel mean, std (ddof=1,
// as torch.std and the `weights` JSON), min, max and fraction of exact zeros (dead units after
// ReLU). Leaves out: histograms (stats/histogram) and batch dimensions (pass one image's [C, ...]
// tensor).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace cnnscope {

struct ValueStats {
  double mean = 0, std = 0, min = 0, max = 0;
  double zero_fraction = 0;  // share of elements that are exactly 0
};

struct ActivationStats {
  std::vector<int64_t> shape;        // [C, H, W] as given
  ValueStats layer;                  // over all elements
  std::vector<ValueStats> channels;  // one per channel (dimension 0)
};

// `activation`: [C, ...] of any floating dtype, at least one element per channel. Computed in
// float64. Throws Error on an empty tensor or a 0-d one.
ActivationStats activation_stats(const at::Tensor& activation);

// The `n` channels with the largest mean, largest first (ties: lower index first); n is clipped
// to the channel count.
std::vector<int64_t> top_channels(const ActivationStats& stats, int64_t n);

}  // namespace cnnscope
