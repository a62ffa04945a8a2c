// Equal-width histograms with the edges and counts of numpy.histogram(values, bins=N), exactly:
// same range rule, same linspace edges, same bin of every value (edge values included).
// Leaves out: weights, explicit ranges, non-uniform bins. Spec: numpy 1.24 lib/histograms.py.
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

// Throws Error unless bins >= 1: the one check of every `--bins` value, made before any work.
void check_bins(int bins);

}  // namespace cnnscope
