// Axes, ticks, colours and fitted text (see axes.h). Spec: matplotlib's tab10 palette and
// MaxNLocator steps.
#include "render/axes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace cnnscope {

void set_color(cairo_t* cr, const Color& c, double alpha) {
  cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

const Color& series_color(size_t index) {
  static const Color kTab10[] = {
      {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173}, {0.839, 0.153, 0.157},
      {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294}, {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498},
      {0.737, 0.741, 0.133}, {0.090, 0.745, 0.812}};
  return kTab10[index % (sizeof kTab10 / sizeof kTab10[0])];
}

std::vector<double> nice_ticks(double lo, double hi, int target, double* step_out) {
  std::vector<double> ticks;
  double span = hi - lo;
  if (!(span > 0)) span = std::max(std::abs(lo), 1.0);
  const double raw = span / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  *step_out = step;
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (double v = first; v <= hi + step * 1e-9; v += step) {
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
    if (ticks.size() > static_cast<size_t>(4 * target)) break;
  }
  return ticks;
}

std::string tick_label(double v, double step) {
  constexpr int kMaxDecimals = 8;
  if (std::max(std::abs(v), step) >= 1e5 || step < 1e-4) return fmt::format("{:.3g}", v);
  int decimals = 0;
  for (double scaled = step; decimals < kMaxDecimals; scaled *= 10, ++decimals)
    if (std::abs(scaled - std::round(scaled)) < 1e-6 * scaled) break;
  return fmt::format("{:.{}f}", v, decimals);
}

std::string fit_text(Canvas& canvas, const std::string& s, double width, double size, bool bold) {
  if (s.size() <= kMaxFitBytes && canvas.text_width(s, size, bold) <= width) return s;
  const std::string ellipsis = "\u2026";
  // where each character of the last kMaxFitBytes starts (no label shows more)
  std::vector<size_t> starts;
  for (size_t i = s.size() > kMaxFitBytes ? s.size() - kMaxFitBytes : 1; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  // the longest tail that fits: tails narrow as their start moves right, so halve the range
  size_t lo = 0, hi = starts.size();
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (canvas.text_width(ellipsis + s.substr(starts[mid]), size, bold) <= width)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo < starts.size() ? ellipsis + s.substr(starts[lo]) : ellipsis;
}

}  // namespace cnnscope
