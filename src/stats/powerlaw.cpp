// fit_power_law (see powerlaw.h): suffix sums of ln x give each candidate's exponent in O(1); the
// KS distance over its tail is O(n), so O(n^2) in all (10^7 steps for a 4,608-eigenvalue layer).
// Spec: weightwatcher 0.7.7 WW_powerlaw.py, as powerlaw.h says.
#include "stats/powerlaw.h"

#include <cmath>
#include <limits>

namespace cnnscope {
namespace {

constexpr size_t kSmallSample = 20;  // below: the small-sample variant
constexpr size_t kSmallMinTail = 8;  // its shortest tail

// max_j |1 - (x_j / xmin)^(1 - alpha) - j / n| over the tail starting at `first`; `logs` are
// ln x (exp of a difference of logs is the power, at a third of pow's cost). Stops as soon as
// the maximum reaches `bound`: such a candidate cannot be the strict minimum, and most stop early.
double ks_distance(const std::vector<double>& logs, size_t first, double alpha,
                   double bound = std::numeric_limits<double>::infinity()) {
  const auto n = static_cast<double>(logs.size() - first);
  const bool infinite = std::isinf(alpha);  // a tail of ties: (x/xmin)^-inf is 1 at xmin, else 0
  double d = 0;
  for (size_t j = first; j < logs.size() && d < bound; ++j) {
    const double fitted = infinite ? (logs[j] > logs[first] ? 1.0 : 0.0)
                                   : 1.0 - std::exp((1.0 - alpha) * (logs[j] - logs[first]));
    d = std::max(d, std::abs(fitted - static_cast<double>(j - first) / n));
  }
  return d;
}

std::vector<double> logs_of(const std::vector<double>& x) {
  std::vector<double> logs(x.size());
  for (size_t i = 0; i < x.size(); ++i) logs[i] = std::log(x[i]);
  return logs;
}

PowerLawFit result(const std::vector<double>& x, size_t first, double alpha, double d) {
  PowerLawFit fit;
  fit.ok = true;
  fit.alpha = alpha;
  fit.xmin = x[first];
  fit.xmax = x.back();
  fit.D = d;
  fit.tail = static_cast<int64_t>(x.size() - first);
  fit.sigma = (alpha - 1.0) / std::sqrt(static_cast<double>(fit.tail));
  return fit;
}

// WWFit.fit_power_law_standard: alpha = 1 + n / (sum ln x - n ln xmin); D = 1 where alpha <= 1.
PowerLawFit fit_standard(const std::vector<double>& x) {
  const std::vector<double> logs = logs_of(x);
  std::vector<double> suffix(x.size() + 1, 0.0);  // suffix[i] = sum_{j >= i} ln x_j
  for (size_t i = x.size(); i-- > 0;) suffix[i] = suffix[i + 1] + logs[i];
  size_t best = 0;
  double best_d = std::numeric_limits<double>::infinity(), best_alpha = 0;
  for (size_t i = 0; i + 1 < x.size(); ++i) {
    const auto n = static_cast<double>(x.size() - i);
    const double denominator = suffix[i] - n * logs[i];
    const double alpha =
        denominator != 0 ? 1.0 + n / denominator : std::numeric_limits<double>::infinity();
    const double d = alpha > 1 ? ks_distance(logs, i, alpha, best_d) : 1.0;
    if (d < best_d) {
      best_d = d;
      best = i;
      best_alpha = alpha;
    }
  }
  return result(x, best, best_alpha, best_d);
}

// WWFit.fit_powerlaw_smallN, then WWFit.__init__'s argmin over the distances: tails of at least
// 8 values, alpha = 1 + (n - 1) / sum ln(x / xmin); a candidate not fitted keeps D = 1 and
// alpha = 0; when none is fitted, the whole sample is the tail.
PowerLawFit fit_small(const std::vector<double>& x) {
  const size_t count = x.size();
  const std::vector<double> logs = logs_of(x);
  std::vector<double> alphas(count - 1, 0.0), distances(count - 1, 1.0);
  const auto exponent = [&](size_t first) {  // 0 when the log sum is not positive
    const auto n = static_cast<double>(count - first);
    double s = 0;
    for (size_t j = first; j < count; ++j) s += logs[j];
    s -= n * logs[first];
    return s > 1e-12 ? 1.0 + (n - 1.0) / s : 0.0;
  };
  bool any = false;
  for (size_t i = 0; i + 1 < count; ++i) {
    if (count - i < kSmallMinTail) continue;
    alphas[i] = exponent(i);
    if (alphas[i] <= 1.0) continue;
    distances[i] = ks_distance(logs, i, alphas[i]);
    any = true;
  }
  if (!any) {
    alphas[0] = exponent(0);
    if (alphas[0] != 0.0) distances[0] = ks_distance(logs, 0, alphas[0]);
  }
  size_t best = 0;
  for (size_t i = 1; i < distances.size(); ++i)
    if (distances[i] < distances[best]) best = i;
  PowerLawFit fit = result(x, best, alphas[best], distances[best]);
  // WeightWatcher computes the sigmas before this fallback fills alphas[0]: its sigma is then
  // (0 - 1) / sqrt(n)
  if (!any && best == 0) fit.sigma = -1.0 / std::sqrt(static_cast<double>(fit.tail));
  return fit;
}

}  // namespace

PowerLawFit fit_power_law(const std::vector<double>& sorted) {
  if (sorted.size() < 2) return {};
  return sorted.size() < kSmallSample ? fit_small(sorted) : fit_standard(sorted);
}

}  // namespace cnnscope
