// diff_tensors and relative_change (see compare.h). Spec: numpy.linalg.norm (2-norm of the
// flattened float64 array), numpy.dot, numpy.abs(...).max(), numpy.mean(a != b).
#include "stats/compare.h"

#include <algorithm>
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

namespace {

constexpr int64_t kLanes = 4;

// float32 and float64 tensors are read in place; every other dtype is converted to float64 once.
template <typename F>
void with_values(const at::Tensor& t, const F& f) {
  const at::Tensor c = t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble
                           ? t.contiguous()
                           : t.to(at::kDouble).contiguous();
  if (c.scalar_type() == at::kFloat)
    f(c.data_ptr<float>(), c.numel());
  else
    f(c.data_ptr<double>(), c.numel());
}

}  // namespace

std::optional<double> relative_change(const at::Tensor& a, const at::Tensor& b) {
  if (!a.sizes().equals(b.sizes()) || a.numel() == 0) return std::nullopt;
  double base = 0, change = 0;
  with_values(a, [&](const auto* x, int64_t n) {
    with_values(b, [&](const auto* y, int64_t m) {
      // Four independent accumulators let the compiler keep several additions in flight.
      double bs[kLanes] = {}, cs[kLanes] = {};
      const int64_t count = std::min(n, m), whole = count / kLanes * kLanes;
      for (int64_t i = 0; i < whole; i += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) {
          const double xi = static_cast<double>(x[i + l]);
          const double d = static_cast<double>(y[i + l]) - xi;
          bs[l] += xi * xi;
          cs[l] += d * d;
        }
      for (int64_t i = whole; i < count; ++i) {
        const double xi = static_cast<double>(x[i]), d = static_cast<double>(y[i]) - xi;
        bs[0] += xi * xi;
        cs[0] += d * d;
      }
      for (int64_t l = 0; l < kLanes; ++l) {
        base += bs[l];
        change += cs[l];
      }
    });
  });
  if (base == 0) return std::nullopt;
  return std::sqrt(change) / std::sqrt(base);
}

Moments moments(const at::Tensor& t) {
  Moments m;
  if (t.numel() == 0) return m;
  with_values(t, [&](const auto* x, int64_t n) {
    double sums[kLanes] = {}, squares_l[kLanes] = {}, lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(x[i]);
      sums[i % kLanes] += v;
      squares_l[i % kLanes] += v * v;
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    double sum = 0, squares = 0;
    for (int64_t l = 0; l < kLanes; ++l) {
      sum += sums[l];
      squares += squares_l[l];
    }
    const double mean = sum / static_cast<double>(n);
    m.mean = mean;
    m.l2 = std::sqrt(squares);
    if (n > 1) {
      double parts[kLanes] = {};
      for (int64_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(x[i]) - mean;
        parts[i % kLanes] += d * d;
      }
      double deviations = 0;
      for (double p : parts) deviations += p;
      m.std = std::sqrt(deviations / static_cast<double>(n - 1));
    }
    m.has_finite = lo <= hi;
    m.lo = lo;
    m.hi = hi;
  });
  return m;
}

}  // namespace cnnscope
