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

// ‖B−A‖/‖A‖ alone (undefined when A is all zeros), for series of checkpoints.
std::optional<double> relative_change(const at::Tensor& a, const at::Tensor& b);

}  // namespace cnnscope
