// Equal-width histograms with the edges and counts of numpy.histogram(values, bins=N), exactly:
// same range rule, same linspace edges, same bin of every value (edge values included); and with
// an explicit range shared by several tensors (a checkpoint series). Leaves out: weights,
// non-uniform bins. Spec: numpy 2.4 lib/_histograms_impl.py.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace cnnscope {

struct Histogram {
  // float32 tensors are binned as float32 arrays (edges are float32 values), every other dtype as
  // its values in float64 (edges float64), as cnnscope's rule in docs/DESIGN.md.
  bool float32_edges = false;
  std::vector<double> edges;    // [bins + 1], ascending
  std::vector<int64_t> counts;  // [bins]; sums to the number of finite values
};

constexpr int kDefaultHistogramBins = 50;

// NaN/±Inf are left out (numpy.histogram refuses them); with no finite value the range is (0, 1)
// as numpy's for an empty array. Bool tensors count as 0/1. Throws Error when bins < 1.
Histogram histogram(const at::Tensor& tensor, int bins = kDefaultHistogramBins);

// numpy.histogram(values.astype(float64), bins, range=(lo, hi)): float64 edges over the given
// range (widened by 0.5 each side when lo == hi), values outside it and non-finite ones left out.
// Throws Error when bins < 1 or the range is not finite and ascending.
struct HistogramRange {
  double lo = 0, hi = 1;
};
Histogram histogram_in_range(const at::Tensor& tensor, int bins, const HistogramRange& range);

// Throws Error unless bins >= 1: the one check of every `--bins` value, made before any work.
void check_bins(int bins);

}  // namespace cnnscope
