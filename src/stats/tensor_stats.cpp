// compute_stats: one pass for sums/extremes/counts, a second for squared deviations (as numpy's
// two-pass var), then order statistics by nth_element on the finite values. Leaves out: complex
// and quantized dtypes. Spec: numpy 1.24 mean, std(ddof=1), percentile(method="linear").
#include "stats/tensor_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "checkpoint/dtype.h"
#include "common/error.h"

namespace cnnscope {
namespace {

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

template <typename T>
double as_double(T v) {
  return static_cast<double>(v);
}
template <>
double as_double(at::Half v) {
  return static_cast<double>(static_cast<float>(v));
}
template <>
double as_double(at::BFloat16 v) {
  return static_cast<double>(static_cast<float>(v));
}

// Finite values are kept in the narrowest type that holds them exactly (float for 16/32-bit
// floats), for the order statistics.
template <typename T>
using KeepType = std::conditional_t<std::is_same_v<T, double> || std::is_same_v<T, int64_t> ||
                                        std::is_same_v<T, int32_t>,
                                    double, float>;

template <typename T>
void accumulate(const T* data, int64_t n, TensorStats& s) {
  using Keep = KeepType<T>;
  std::vector<Keep> kept;
  kept.reserve(static_cast<size_t>(n));
  double sum = 0, sum_squares = 0;
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  int64_t zeros = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = as_double(data[i]);
    if (!std::isfinite(v)) {
      if (std::isnan(v))
        ++s.nan_count;
      else if (v > 0)
        ++s.posinf_count;
      else
        ++s.neginf_count;
      continue;
    }
    kept.push_back(static_cast<Keep>(v));
    sum += v;
    sum_squares += v * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    zeros += v == 0.0;
  }
  s.finite = static_cast<int64_t>(kept.size());
  if (s.finite == 0) return;
  s.has_values = true;
  const double count = static_cast<double>(s.finite);
  s.mean = sum / count;
  s.min = lo;
  s.max = hi;
  s.l2 = std::sqrt(sum_squares);
  s.zero_fraction = static_cast<double>(zeros) / count;
  if (s.finite > 1) {
    double deviations = 0;
    for (Keep v : kept) {
      const double d = static_cast<double>(v) - s.mean;
      deviations += d * d;
    }
    s.std = std::sqrt(deviations / (count - 1.0));
  }

  // Order statistics: select each needed rank in ascending order on the shrinking upper part.
  PercentilePosition pos[std::size(kPercentiles)];
  std::vector<int64_t> ranks;
  for (size_t i = 0; i < std::size(kPercentiles); ++i) {
    pos[i] = percentile_position(s.finite, kPercentiles[i]);
    ranks.push_back(pos[i].previous);
    ranks.push_back(pos[i].next);
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  std::vector<std::pair<int64_t, double>> ranked;  // (rank, value), ascending ranks
  int64_t lower = 0;
  for (int64_t r : ranks) {
    std::nth_element(kept.begin() + lower, kept.begin() + r, kept.end());
    ranked.emplace_back(r, static_cast<double>(kept[static_cast<size_t>(r)]));
    lower = r + 1;
  }
  const auto value_at = [&ranked](int64_t rank) {
    return std::lower_bound(ranked.begin(), ranked.end(), std::make_pair(rank, -HUGE_VAL))->second;
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
  const at::Tensor t = tensor.contiguous();
  switch (t.scalar_type()) {
    case at::kFloat:
      accumulate(t.data_ptr<float>(), s.numel, s);
      break;
    case at::kDouble:
      accumulate(t.data_ptr<double>(), s.numel, s);
      break;
    case at::kHalf:
      accumulate(t.data_ptr<at::Half>(), s.numel, s);
      break;
    case at::kBFloat16:
      accumulate(t.data_ptr<at::BFloat16>(), s.numel, s);
      break;
    case at::kLong:
      accumulate(t.data_ptr<int64_t>(), s.numel, s);
      break;
    case at::kInt:
      accumulate(t.data_ptr<int32_t>(), s.numel, s);
      break;
    case at::kShort:
      accumulate(t.data_ptr<int16_t>(), s.numel, s);
      break;
    case at::kChar:
      accumulate(t.data_ptr<int8_t>(), s.numel, s);
      break;
    case at::kByte:
      accumulate(t.data_ptr<uint8_t>(), s.numel, s);
      break;
    case at::kBool:
      accumulate(t.data_ptr<bool>(), s.numel, s);
      break;
    default:
      fail("", "cannot compute statistics of dtype " + s.dtype,
           "floating, integer and bool tensors are supported");
  }
  return s;
}

}  // namespace cnnscope
