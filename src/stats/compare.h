// How one tensor changed between two checkpoints: L2 norms of A, B and B−A, the relative change
// ‖B−A‖/‖A‖, cosine similarity of the flattened tensors, max |B−A| and the fraction of elements
// that differ, all accumulated in float64 (numpy's figures on astype(float64) arrays).
// Leaves out: non-finite values (NaN/Inf make every figure NaN, as numpy's do) and tensors of
// different shapes (the caller reports those).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>

namespace cnnscope {

struct TensorDiff {
  int64_t numel = 0;
  double l2_a = 0, l2_b = 0, l2_diff = 0;
  std::optional<double> rel_change;  // l2_diff / l2_a; undefined when A is all zeros
  std::optional<double> cosine;      // undefined when A or B is all zeros
  double max_abs_diff = 0;           // 0 for empty tensors
  double changed_fraction = 0;       // elements with a != b, over numel (0 when empty)
};

// `a` and `b`: the same shape, any dtype of checkpoint/dtype.h (compared as float64 values).
// Throws Error on a shape mismatch.
TensorDiff diff_tensors(const at::Tensor& a, const at::Tensor& b);

// ‖B−A‖/‖A‖ alone (undefined when A is all zeros or the shapes differ), for series of
// checkpoints: one fused float64 loop over both tensors, no temporaries for float32/float64.
std::optional<double> relative_change(const at::Tensor& a, const at::Tensor& b);

// Mean, std (ddof=1), L2 and the finite min/max of one tensor in float64, in two fused passes
// (numpy's two-pass std); empty tensors give no figures, one element no std.
struct Moments {
  std::optional<double> mean, std, l2;
  double lo = 0, hi = 0;
  bool has_finite = false;
};
Moments moments(const at::Tensor& t);

}  // namespace cnnscope
