// numpy.histogram's uniform-bin path re-done as numpy 2 does it (NEP 50 casting): range from the
// finite min/max (widened by 0.5 when equal, in the bin type), edges by numpy.linspace in the bin
// type (float32 for float32 tensors), bin index by numpy's formula in the bin type, then its
// one-ULP corrections against the edges. Leaves out: weights, density. Spec: numpy 2.4
// lib/_histograms_impl.py (_get_outer_edges, _get_bin_edges, _histogram) and _core/function_base.py
// linspace.
#include "stats/histogram.h"

#include <cmath>
#include <limits>
#include <string>

#include "checkpoint/dtype.h"
#include "common/error.h"
#include "stats/scalar.h"
#include "stats/stored_view.h"

namespace cnnscope {
namespace {

using stats_detail::as_double;

// numpy.linspace(start, stop, num) with endpoint, in type C: numpy 2 (NEP 50) keeps float32
// bounds float32, so delta, step, each product and sum are float32 operations.
template <typename C>
std::vector<C> linspace(C start, C stop, int num) {
  std::vector<C> y(static_cast<size_t>(num));
  const int div = num - 1;
  const C delta = stop - start;
  const C step = delta / static_cast<C>(div);
  for (int i = 0; i < num; ++i) {
    C v = static_cast<C>(i);
    if (step == 0) {  // denormal deltas: numpy divides first, then multiplies
      v /= static_cast<C>(div);
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
// numpy 2 refuses a float32 histogram whose edges do not strictly increase (a constant >= 2^23,
// where +-0.5 is lost, or a range of a few denormals); cnnscope then bins the values as float64.
template <typename C, typename T>
Histogram bin_values(const T* data, int64_t n, int bins, const HistogramRange* range = nullptr) {
  C lo = std::numeric_limits<C>::infinity();
  C hi = -std::numeric_limits<C>::infinity();
  int64_t finite = 0;
  for (int64_t i = 0; range == nullptr && i < n; ++i) {  // an explicit range needs no scan
    const C v = static_cast<C>(as_double(data[i]));
    if (!std::isfinite(v)) continue;
    ++finite;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  Histogram h;
  h.float32_edges = std::is_same_v<C, float>;
  h.counts.assign(static_cast<size_t>(bins), 0);
  if (range != nullptr) {  // numpy.histogram(range=(lo, hi)): values outside are left out
    lo = static_cast<C>(range->lo);
    hi = static_cast<C>(range->hi);
  } else if (finite == 0) {  // numpy's (0, 1) are Python ints: linspace in float64, cast
    for (double e : linspace<double>(0.0, 1.0, bins + 1)) h.edges.push_back(static_cast<C>(e));
    return h;
  }
  // _get_outer_edges: min/max as scalars of the data type, widened by 0.5 in that type.
  C first = lo, last = hi;
  if (lo == hi) {
    first = lo - static_cast<C>(0.5);
    last = hi + static_cast<C>(0.5);
  }
  const std::vector<C> edges = linspace<C>(first, last, bins + 1);  // [bins + 1]
  if constexpr (std::is_same_v<C, float>) {
    for (size_t i = 0; i + 1 < edges.size(); ++i)
      if (!(edges[i] < edges[i + 1])) return bin_values<double>(data, n, bins, range);
  }
  h.edges.assign(edges.begin(), edges.end());

  // _histogram (numpy 2): ((x - first) / (last - first)) * bins, every step in the bin type,
  // truncated; then its one-ULP corrections against the edges.
  const C denom = last - first;
  for (int64_t i = 0; i < n; ++i) {
    const C v = static_cast<C>(as_double(data[i]));
    if (!std::isfinite(v) || v < first || v > last) continue;
    const C scaled = ((v - first) / denom) * static_cast<C>(bins);
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

// The histogram of contiguous `t`, binned as its dtype asks.
Histogram bin_tensor(const at::Tensor& t, int bins) {
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
      // uint16/32/64 and float8 (LibTorch 2.3+): as float64 values, as numpy's astype(float64)
      if (dtype_from_scalar_type(t.scalar_type()))
        return bin_as_double<double>(t.to(at::kDouble), bins);
      fail("", "cannot histogram dtype " + dtype_name(t.scalar_type()),
           "floating, integer and bool tensors are supported");
  }
}

// The histogram of `view`'s stored values with every count times its repeat (an expanded view is
// never copied out).
template <typename Binner>
Histogram of_stored_values(const at::Tensor& tensor, const Binner& bin) {
  const stats_detail::StoredView view = stats_detail::stored_view(tensor);
  Histogram h = bin(view.values.contiguous());
  for (int64_t& c : h.counts) c *= view.repeat;
  return h;
}

}  // namespace

Histogram histogram_in_range(const at::Tensor& tensor, int bins, const HistogramRange& range) {
  check_bins(bins);
  if (!std::isfinite(range.lo) || !std::isfinite(range.hi) || range.lo > range.hi)
    fail("", "histogram range must be finite and ascending, got (" + std::to_string(range.lo) +
                 ", " + std::to_string(range.hi) + ")");
  return of_stored_values(tensor, [&](const at::Tensor& t) {
    if (t.scalar_type() == at::kFloat)  // float32 values are exact in float64: no copy
      return bin_values<double>(t.data_ptr<float>(), t.numel(), bins, &range);
    const at::Tensor wide = t.to(at::kDouble);  // numpy's astype(float64)
    return bin_values<double>(wide.data_ptr<double>(), wide.numel(), bins, &range);
  });
}

void check_bins(int bins) {
  if (bins < 1)
    fail("", "histogram bins must be at least 1, got " + std::to_string(bins),
         "the default is " + std::to_string(kDefaultHistogramBins));
}

Histogram histogram(const at::Tensor& tensor, int bins) {
  check_bins(bins);
  return of_stored_values(tensor, [bins](const at::Tensor& t) { return bin_tensor(t, bins); });
}

}  // namespace cnnscope
