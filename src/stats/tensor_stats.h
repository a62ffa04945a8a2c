// Statistics of one tensor's values, accumulated in double: mean, std (ddof=1), min, max, L2
// norm, share of exact zeros, 1st/50th/99th percentiles (numpy's linear rule), NaN/Inf counts.
// Leaves out: per-channel statistics (stats/activation_stats.h). Spec: numpy 2.4 (as 1.24)
// mean/std/percentile.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cnnscope {

// NaN and ±Inf are counted, and every other figure covers the finite values only (numpy's would
// all be NaN, and numpy.histogram refuses them). Integer and bool tensors count as their values.
struct TensorStats {
  std::string dtype;           // torch name: "float32"
  std::vector<int64_t> shape;  // as stored
  int64_t numel = 0;
  bool floating = false;  // float16/bfloat16/float32/float64
  int64_t finite = 0;     // values the figures below cover
  int64_t nan_count = 0, posinf_count = 0, neginf_count = 0;
  // Defined when finite > 0 (else all 0 and `has_values` is false).
  bool has_values = false;
  double mean = 0, min = 0, max = 0;
  double l2 = 0;             // sqrt(sum of squares)
  double zero_fraction = 0;  // exact zeros / finite
  double p1 = 0, p50 = 0, p99 = 0;
  // ddof=1: undefined for fewer than two finite values.
  std::optional<double> std;
};

// Any dtype of dtype.h, any shape (0-d and empty included), contiguous or not.
TensorStats compute_stats(const at::Tensor& tensor);

// numpy.percentile(values, q) with the default "linear" method, over sorted finite values.
// `sorted` must be ascending and non-empty; q in [0, 100].
double percentile_sorted(const std::vector<double>& sorted, double q);

}  // namespace cnnscope
