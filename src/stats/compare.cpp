// diff_tensors and relative_change (see compare.h). Spec: numpy.linalg.norm (2-norm of the
// flattened float64 array), numpy.dot, numpy.abs(...).max(), numpy.mean(a != b).
#include "stats/compare.h"

#include <cmath>

#include "common/error.h"
#include "common/text.h"

namespace cnnscope {
namespace {

at::Tensor as_double(const at::Tensor& t) {
  return t.to(at::kDouble).contiguous().reshape({-1});  // [numel]
}

double l2(const at::Tensor& x) {
  return std::sqrt(at::dot(x, x).item<double>());
}

}  // namespace

TensorDiff diff_tensors(const at::Tensor& a, const at::Tensor& b) {
  if (!a.sizes().equals(b.sizes()))
    fail("", "shapes differ: " + shape_text(a.sizes()) + " vs " + shape_text(b.sizes()));
  TensorDiff d;
  d.numel = a.numel();
  if (d.numel == 0) return d;
  const at::Tensor x = as_double(a), y = as_double(b);  // [numel] each
  const at::Tensor delta = y - x;                       // [numel]
  d.l2_a = l2(x);
  d.l2_b = l2(y);
  d.l2_diff = l2(delta);
  if (d.l2_a > 0) d.rel_change = d.l2_diff / d.l2_a;
  if (d.l2_a > 0 && d.l2_b > 0) d.cosine = at::dot(x, y).item<double>() / (d.l2_a * d.l2_b);
  d.max_abs_diff = delta.abs().max().item<double>();
  d.changed_fraction =
      static_cast<double>(x.ne(y).sum().item<int64_t>()) / static_cast<double>(d.numel);
  return d;
}

std::optional<double> relative_change(const at::Tensor& a, const at::Tensor& b) {
  if (!a.sizes().equals(b.sizes()) || a.numel() == 0) return std::nullopt;
  const at::Tensor x = as_double(a);  // [numel]
  const double norm = l2(x);
  if (norm == 0) return std::nullopt;
  return l2(as_double(b) - x) / norm;
}

}  // namespace cnnscope
