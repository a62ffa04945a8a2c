// compute_stats: one pass for sums/extremes/counts, a second for squared deviations (as numpy's
// two-pass var) and a rank histogram, a third gathering the few values that hold the percentiles.
// Leaves out: complex and quantized dtypes. Spec: numpy 2.4 (as 1.24) mean, std(ddof=1),
// percentile(method="linear"). An expanded view is summarised from its stored values, each counted
// as often as the view repeats it (stats/stored_view.h), never copied out.
#include "stats/tensor_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "checkpoint/dtype.h"
#include "common/error.h"
#include "stats/scalar.h"
#include "stats/stored_view.h"

namespace cnnscope {
namespace {

using stats_detail::as_double;

constexpr double kPercentiles[] = {1.0, 50.0, 99.0};

// numpy's _compute_virtual_index / _get_indexes / _get_gamma for method "linear" (alpha = beta =
// 1).
struct PercentilePosition {
  int64_t previous = 0, next = 0;
  double gamma = 0;
};

PercentilePosition percentile_position(int64_t n, double q) {
  const double quantile = q / 100.0;
  const double alpha = 1.0, beta = 1.0;
  const double virtual_index =
      static_cast<double>(n) * quantile + (alpha + quantile * (1.0 - alpha - beta)) - 1.0;
  PercentilePosition p;
  const double floor_index = std::floor(virtual_index);
  p.gamma = virtual_index - floor_index;
  if (virtual_index >= static_cast<double>(n - 1)) {
    p.previous = p.next = n - 1;
  } else if (virtual_index < 0) {
    p.previous = p.next = 0;
  } else {
    p.previous = static_cast<int64_t>(floor_index);
    p.next = p.previous + 1;
  }
  return p;
}

// numpy's _lerp: a + (b - a) * t, or b - (b - a) * (1 - t) when t >= 0.5.
double lerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

// Order statistics are found without sorting: a fine histogram over [min, max] (monotone bin
// index) tells which bin holds each wanted rank, then only that bin's values are selected from.
constexpr int64_t kRankBins = 4096;

// The statistics of the `n` values at `data`, each counted `repeat` times.
template <typename T>
void accumulate(const T* data, int64_t n, int64_t repeat, TensorStats& s) {
  double sum = 0, sum_squares = 0;
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  int64_t zeros = 0, finite = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = as_double(data[i]);
    if (!std::isfinite(v)) {
      if (std::isnan(v))
        s.nan_count += repeat;
      else if (v > 0)
        s.posinf_count += repeat;
      else
        s.neginf_count += repeat;
      continue;
    }
    ++finite;
    sum += v;
    sum_squares += v * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    zeros += v == 0.0;
  }
  s.finite = finite * repeat;
  if (finite == 0) return;
  s.has_values = true;
  const double count = static_cast<double>(finite);
  s.mean = sum / count;
  s.min = lo;
  s.max = hi;
  s.l2 = std::sqrt(sum_squares * static_cast<double>(repeat));
  s.zero_fraction = static_cast<double>(zeros) / count;

  // Second pass: squared deviations from the mean (numpy's two-pass var) and the rank histogram.
  double scale = hi > lo ? static_cast<double>(kRankBins) / (hi - lo) : 0.0;
  if (!std::isfinite(scale)) scale = 0.0;
  const auto bin_of = [lo, scale](double v) {
    return std::min(kRankBins - 1, static_cast<int64_t>((v - lo) * scale));
  };
  std::vector<int64_t> bin_counts(kRankBins, 0);
  double deviations = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = as_double(data[i]);
    if (!std::isfinite(v)) continue;
    const double d = v - s.mean;
    deviations += d * d;
    ++bin_counts[static_cast<size_t>(bin_of(v))];
  }
  if (s.finite > 1)
    s.std =
        std::sqrt(deviations * static_cast<double>(repeat) / (static_cast<double>(s.finite) - 1.0));

  // The bin of each wanted rank, and how many values lie in lower bins (ranks of the view: rank r
  // is stored value r / repeat in order).
  PercentilePosition pos[std::size(kPercentiles)];
  struct Wanted {
    int64_t rank, bin, below;
  };
  std::vector<Wanted> wanted;
  for (size_t i = 0; i < std::size(kPercentiles); ++i) {
    pos[i] = percentile_position(s.finite, kPercentiles[i]);
    for (int64_t r : {pos[i].previous, pos[i].next}) {
      int64_t below = 0, bin = 0;
      while (below + bin_counts[static_cast<size_t>(bin)] <= r / repeat)
        below += bin_counts[static_cast<size_t>(bin++)];
      wanted.push_back({r, bin, below});
    }
  }
  // Third pass: gather the values of those bins only, then select within each.
  std::vector<int> slot(kRankBins, -1);
  std::vector<std::vector<double>> gathered;
  for (const Wanted& w : wanted) {
    if (slot[static_cast<size_t>(w.bin)] >= 0) continue;
    slot[static_cast<size_t>(w.bin)] = static_cast<int>(gathered.size());
    gathered.emplace_back();
    gathered.back().reserve(static_cast<size_t>(bin_counts[static_cast<size_t>(w.bin)]));
  }
  for (int64_t i = 0; i < n; ++i) {
    const double v = as_double(data[i]);
    if (!std::isfinite(v)) continue;
    const int target = slot[static_cast<size_t>(bin_of(v))];
    if (target >= 0) gathered[static_cast<size_t>(target)].push_back(v);
  }
  const auto value_at = [&](int64_t rank) {
    for (const Wanted& w : wanted) {
      if (w.rank != rank) continue;
      std::vector<double>& values = gathered[static_cast<size_t>(slot[static_cast<size_t>(w.bin)])];
      const auto nth = values.begin() + (rank / repeat - w.below);
      std::nth_element(values.begin(), nth, values.end());
      return *nth;
    }
    return 0.0;  // every rank asked for is in `wanted`
  };
  double* out[] = {&s.p1, &s.p50, &s.p99};
  for (size_t i = 0; i < std::size(kPercentiles); ++i)
    *out[i] = lerp(value_at(pos[i].previous), value_at(pos[i].next), pos[i].gamma);
}

}  // namespace

double percentile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) fail("", "internal: percentile of no values");
  const PercentilePosition p = percentile_position(static_cast<int64_t>(sorted.size()), q);
  return lerp(sorted[static_cast<size_t>(p.previous)], sorted[static_cast<size_t>(p.next)],
              p.gamma);
}

TensorStats compute_stats(const at::Tensor& tensor) {
  TensorStats s;
  s.dtype = dtype_name(tensor.scalar_type());
  s.shape = tensor.sizes().vec();
  s.numel = tensor.numel();
  s.floating = at::isFloatingType(tensor.scalar_type());
  if (s.numel == 0) return s;
  const stats_detail::StoredView view = stats_detail::stored_view(tensor);
  const at::Tensor t = view.values.contiguous();  // at most the storage's size
  const int64_t n = t.numel(), repeat = view.repeat;
  switch (t.scalar_type()) {
    case at::kFloat:
      accumulate(t.data_ptr<float>(), n, repeat, s);
      break;
    case at::kDouble:
      accumulate(t.data_ptr<double>(), n, repeat, s);
      break;
    case at::kHalf:
      accumulate(t.data_ptr<at::Half>(), n, repeat, s);
      break;
    case at::kBFloat16:
      accumulate(t.data_ptr<at::BFloat16>(), n, repeat, s);
      break;
    case at::kLong:
      accumulate(t.data_ptr<int64_t>(), n, repeat, s);
      break;
    case at::kInt:
      accumulate(t.data_ptr<int32_t>(), n, repeat, s);
      break;
    case at::kShort:
      accumulate(t.data_ptr<int16_t>(), n, repeat, s);
      break;
    case at::kChar:
      accumulate(t.data_ptr<int8_t>(), n, repeat, s);
      break;
    case at::kByte:
      accumulate(t.data_ptr<uint8_t>(), n, repeat, s);
      break;
    case at::kBool:
      accumulate(t.data_ptr<bool>(), n, repeat, s);
      break;
    default:
      // uint16/32/64 and float8 (LibTorch 2.3+): their values as float64 (float8 counts as float)
      if (dtype_from_scalar_type(t.scalar_type())) {
        const at::Tensor wide = t.to(at::kDouble);
        accumulate(wide.data_ptr<double>(), n, repeat, s);
        break;
      }
      fail("", "cannot compute statistics of dtype " + s.dtype,
           "floating, integer and bool tensors are supported");
  }
  return s;
}

}  // namespace cnnscope
