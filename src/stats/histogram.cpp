// numpy.histogram's uniform-bin path re-done: range from the finite min/max (widened by 0.5 when
// equal), edges by numpy.linspace in float64 cast to the bin type, bin index by numpy's formula in
// the bin type, then its one-ULP corrections against the edges. Leaves out: weights, density.
// Spec: numpy 1.24 lib/histograms.py (_get_outer_edges, _histogram) and function_base.linspace.
#include "stats/histogram.h"

#include <cmath>
#include <limits>
#include <string>

#include "checkpoint/dtype.h"
#include "common/error.h"
#include "stats/scalar.h"

namespace cnnscope {
namespace {

using stats_detail::as_double;

// numpy.linspace(start, stop, num) with endpoint, in float64 (numpy multiplies start and stop by
// 1.0 first, so float32 bounds are promoted).
std::vector<double> linspace(double start, double stop, int num) {
  std::vector<double> y(static_cast<size_t>(num));
  const int div = num - 1;
  const double delta = stop - start;
  const double step = delta / div;
  for (int i = 0; i < num; ++i) {
    double v = static_cast<double>(i);
    if (step == 0) {  // denormal deltas: numpy divides first, then multiplies
      v /= div;
      v *= delta;
    } else {
      v *= step;
    }
    y[static_cast<size_t>(i)] = v + start;
  }
  y.back() = stop;
  return y;
}

// Bins the finite values of `data` in compute type C (float for float32 tensors, else double).
template <typename C, typename T>
Histogram bin_values(const T* data, int64_t n, int bins) {
  C lo = std::numeric_limits<C>::infinity();
  C hi = -std::numeric_limits<C>::infinity();
  int64_t finite = 0;
  for (int64_t i = 0; i < n; ++i) {
    const C v = static_cast<C>(as_double(data[i]));
    if (!std::isfinite(v)) continue;
    ++finite;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // _get_outer_edges: min/max as scalars of the data type; the 0.5 widening happens in float64.
  double first = 0.0, last = 1.0;
  if (finite > 0) {
    first = static_cast<double>(lo);
    last = static_cast<double>(hi);
    if (lo == hi) {
      first -= 0.5;
      last += 0.5;
    }
  }
  Histogram h;
  h.float32_edges = std::is_same_v<C, float>;
  const std::vector<double> wide_edges = linspace(first, last, bins + 1);
  std::vector<C> edges(wide_edges.size());  // [bins + 1] in the bin type
  for (size_t i = 0; i < edges.size(); ++i) edges[i] = static_cast<C>(wide_edges[i]);
  h.edges.assign(edges.begin(), edges.end());
  h.counts.assign(static_cast<size_t>(bins), 0);
  if (finite == 0) return h;

  // _histogram: norm = bins / (last - first) in float64 (a Python int over a numpy scalar), the
  // difference taken in the edges' type; then (x - first) * norm, truncated. numpy's value-based
  // casting does that product in float32 for float32 data unless norm overflows float32 (tiny,
  // denormal ranges), and then in float64.
  const C first_c = static_cast<C>(first);
  const double span = lo == hi ? last - first : static_cast<double>(static_cast<C>(hi - lo));
  const double norm = static_cast<double>(bins) / span;
  const bool narrow =
      std::is_same_v<C, float> && std::abs(norm) <= std::numeric_limits<float>::max();
  for (int64_t i = 0; i < n; ++i) {
    const C v = static_cast<C>(as_double(data[i]));
    if (!std::isfinite(v)) continue;
    const C offset = v - first_c;
    const double scaled = narrow ? static_cast<double>(offset * static_cast<C>(norm))
                                 : static_cast<double>(offset) * norm;
    int64_t index = static_cast<int64_t>(scaled);
    if (index >= bins) index = bins - 1;
    if (index < 0) index = 0;
    if (v < edges[static_cast<size_t>(index)] && index > 0) --index;
    if (v >= edges[static_cast<size_t>(index + 1)] && index != bins - 1) ++index;
    ++h.counts[static_cast<size_t>(index)];
  }
  return h;
}

template <typename T>
Histogram bin_as_double(const at::Tensor& t, int bins) {
  return bin_values<double>(t.data_ptr<T>(), t.numel(), bins);
}

}  // namespace

Histogram histogram(const at::Tensor& tensor, int bins) {
  if (bins < 1)
    fail("", "histogram needs at least one bin, got " + std::to_string(bins),
         "use --bins 1 or more");
  const at::Tensor t = tensor.contiguous();
  switch (t.scalar_type()) {
    case at::kFloat:
      return bin_values<float>(t.data_ptr<float>(), t.numel(), bins);
    case at::kDouble:
      return bin_as_double<double>(t, bins);
    case at::kHalf:
      return bin_as_double<at::Half>(t, bins);
    case at::kBFloat16:
      return bin_as_double<at::BFloat16>(t, bins);
    case at::kLong:
      return bin_as_double<int64_t>(t, bins);
    case at::kInt:
      return bin_as_double<int32_t>(t, bins);
    case at::kShort:
      return bin_as_double<int16_t>(t, bins);
    case at::kChar:
      return bin_as_double<int8_t>(t, bins);
    case at::kByte:
      return bin_as_double<uint8_t>(t, bins);
    case at::kBool:
      return bin_as_double<bool>(t, bins);
    default:
      fail("", "cannot histogram dtype " + dtype_name(t.scalar_type()),
           "floating, integer and bool tensors are supported");
  }
}

}  // namespace cnnscope
