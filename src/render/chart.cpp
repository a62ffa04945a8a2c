// line_chart, bar_chart, overlay_histograms, histogram_heatmap, binned_chart (see chart.h), drawn
// on a Canvas with the shared axes helpers. Spec: matplotlib's tab10 colours and tick steps.
#include "render/chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "render/colormap.h"

namespace cnnscope {
namespace {

constexpr Color kAxisColor{0.15, 0.15, 0.15};
constexpr Color kGridColor{0.90, 0.90, 0.90};
constexpr double kTitleSize = 15, kLabelSize = 11, kTickSize = 9, kLegendSize = 10;
constexpr double kLeft = 80, kRight = 24, kTop = 44, kBottom = 52;
constexpr int kTargetTicks = 6;
constexpr size_t kMaxLegend = 12;

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

// Axes with a 5% margin (none when `tight`), and a range of 1 around a single value.
Axes make_axes(const PlotRect& plot, Range x, Range y, bool tight_x) {
  if (x.empty()) x = {0, 1};
  if (y.empty()) y = {0, 1};
  if (x.hi == x.lo) x = {x.lo - 0.5, x.hi + 0.5};
  if (y.hi == y.lo) y = {y.lo - 0.5, y.hi + 0.5};
  const double mx = tight_x ? 0 : (x.hi - x.lo) * 0.05, my = (y.hi - y.lo) * 0.05;
  return Axes{plot, x.lo - mx, x.hi + mx, y.lo - my, y.hi + my};
}

// Frame, grid, ticks and axis labels of `ax`.
void draw_frame(Canvas& canvas, const Axes& ax, const std::string& x_label,
                const std::string& y_label, bool x_ticks = true) {
  cairo_t* cr = canvas.cr();
  double step = 0;
  cairo_set_line_width(cr, 1);
  for (double v : nice_ticks(ax.y0, ax.y1, kTargetTicks, &step)) {
    if (v < ax.y0 || v > ax.y1) continue;
    set_color(cr, kGridColor);
    cairo_move_to(cr, ax.plot.x, std::round(ax.py(v)) + 0.5);
    cairo_line_to(cr, ax.plot.x + ax.plot.width, std::round(ax.py(v)) + 0.5);
    cairo_stroke(cr);
    set_color(cr, kAxisColor);
    canvas.text(tick_label(v, step), ax.plot.x - 6, ax.py(v) + kTickSize * 0.35, kTickSize, 1.0);
  }
  if (x_ticks) {
    for (double v : nice_ticks(ax.x0, ax.x1, kTargetTicks, &step)) {
      if (v < ax.x0 || v > ax.x1) continue;
      set_color(cr, kAxisColor);
      canvas.text(tick_label(v, step), ax.px(v), ax.plot.y + ax.plot.height + kTickSize + 6,
                  kTickSize, 0.5);
    }
  }
  set_color(cr, kAxisColor);
  cairo_rectangle(cr, ax.plot.x + 0.5, ax.plot.y + 0.5, ax.plot.width, ax.plot.height);
  cairo_stroke(cr);
  if (!x_label.empty())
    canvas.text(x_label, ax.plot.x + ax.plot.width / 2, ax.plot.y + ax.plot.height + 38, kLabelSize,
                0.5);
  if (!y_label.empty()) {
    cairo_save(cr);
    cairo_translate(cr, ax.plot.x - 56, ax.plot.y + ax.plot.height / 2);
    cairo_rotate(cr, -M_PI / 2);
    canvas.text(y_label, 0, 0, kLabelSize, 0.5);
    cairo_restore(cr);
  }
}

// Legend entries in the top-right corner of the plot: a colour swatch and a label each.
void draw_legend(Canvas& canvas, const PlotRect& plot, const std::vector<std::string>& labels) {
  cairo_t* cr = canvas.cr();
  const size_t shown = std::min(labels.size(), kMaxLegend);
  double width = 0;
  for (size_t i = 0; i < shown; ++i)
    width = std::max(width, canvas.text_width(labels[i], kLegendSize));
  width = std::min(width, plot.width / 2);
  const double line = kLegendSize * 1.5;
  const double rows = static_cast<double>(shown) + (labels.size() > shown ? 1 : 0);
  const double x = plot.x + plot.width - width - 40, y = plot.y + 8;
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_rectangle(cr, x - 6, y - 4, width + 40, rows * line + 8);
  cairo_fill(cr);
  for (size_t i = 0; i < shown; ++i) {
    set_color(cr, series_color(i));
    cairo_rectangle(cr, x, y + static_cast<double>(i) * line + 3, 18, 3);
    cairo_fill(cr);
    set_color(cr, kAxisColor);
    canvas.text(fit_text(canvas, labels[i], width, kLegendSize, false), x + 24,
                y + static_cast<double>(i) * line + kLegendSize * 0.9, kLegendSize);
  }
  if (labels.size() > shown)
    canvas.text(fmt::format("+{} more", labels.size() - shown), x + 24,
                y + static_cast<double>(shown) * line + kLegendSize * 0.9, kLegendSize);
}

void draw_title(Canvas& canvas, const std::string& title) {
  set_color(canvas.cr(), kAxisColor);
  canvas.text(fit_text(canvas, title, canvas.width() - 20.0, kTitleSize, true),
              canvas.width() / 2.0, 26, kTitleSize, 0.5, true);
}

// A white canvas with the title, and the frame of one plot filling it: where every single-plot
// chart starts.
Axes start_plot(Canvas& canvas, const std::string& title, Range x, Range y, bool tight_x,
                const std::string& x_label, const std::string& y_label) {
  canvas.clear(1, 1, 1);
  draw_title(canvas, title);
  const PlotRect plot{kLeft, kTop, canvas.width() - kLeft - kRight,
                      canvas.height() - kTop - kBottom};
  const Axes ax = make_axes(plot, x, y, tight_x);
  draw_frame(canvas, ax, x_label, y_label);
  return ax;
}

}  // namespace

std::string line_chart(const std::vector<Series>& series, const LineChartOptions& o,
                       FigureFormat format) {
  if (o.x.empty()) fail("", "a line chart needs at least one x value");
  Range xr, yr;
  for (double v : o.x) xr.add(v);
  for (const Series& s : series) {
    if (s.y.size() != o.x.size())
      fail("", fmt::format("series '{}' has {} values for {} x values", s.label, s.y.size(),
                           o.x.size()));
    for (double v : s.y) yr.add(v);
  }
  Canvas canvas(o.width, o.height, format);
  const Axes ax = start_plot(canvas, o.title, xr, yr, false, o.x_label, o.y_label);
  cairo_t* cr = canvas.cr();
  cairo_set_line_width(cr, 1.8);
  std::vector<std::string> labels;
  for (size_t k = 0; k < series.size(); ++k) {
    set_color(cr, series_color(k));
    bool pen = false;
    for (size_t i = 0; i < o.x.size(); ++i) {
      const double v = series[k].y[i];
      if (!std::isfinite(v)) {
        pen = false;
        continue;
      }
      if (pen)
        cairo_line_to(cr, ax.px(o.x[i]), ax.py(v));
      else
        cairo_move_to(cr, ax.px(o.x[i]), ax.py(v));
      pen = true;
    }
    cairo_stroke(cr);
    for (size_t i = 0; i < o.x.size(); ++i)
      if (std::isfinite(series[k].y[i])) {
        cairo_arc(cr, ax.px(o.x[i]), ax.py(series[k].y[i]), 2.5, 0, 2 * M_PI);
        cairo_fill(cr);
      }
    labels.push_back(series[k].label);
  }
  if (!labels.empty()) draw_legend(canvas, ax.plot, labels);
  return canvas.finish();
}

std::string bar_chart(const std::vector<std::string>& names, const std::vector<double>& values,
                      const BarChartOptions& o, FigureFormat format) {
  if (names.size() != values.size() || names.empty())
    fail("", fmt::format("a bar chart needs one value per name, got {} names and {} values",
                         names.size(), values.size()));
  constexpr double kBar = 16, kGap = 6, kNameWidth = 260;
  const int height = static_cast<int>(kTop + kBottom + names.size() * (kBar + kGap));
  Canvas canvas(o.width, height, format);
  canvas.clear(1, 1, 1);
  draw_title(canvas, o.title);
  Range xr{0, 0};
  for (double v : values) xr.add(v);
  const PlotRect plot{kNameWidth, kTop, o.width - kNameWidth - kRight - 50,
                      height - kTop - kBottom};
  Axes ax = make_axes(plot, xr, Range{0, 1}, false);
  ax.x0 = 0;
  cairo_t* cr = canvas.cr();
  double step = 0;
  for (double v : nice_ticks(ax.x0, ax.x1, kTargetTicks, &step)) {
    if (v > ax.x1) continue;
    set_color(cr, kGridColor);
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, std::round(ax.px(v)) + 0.5, plot.y);
    cairo_line_to(cr, std::round(ax.px(v)) + 0.5, plot.y + plot.height);
    cairo_stroke(cr);
    set_color(cr, kAxisColor);
    canvas.text(tick_label(v, step), ax.px(v), plot.y + plot.height + kTickSize + 6, kTickSize,
                0.5);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    const double y = plot.y + static_cast<double>(i) * (kBar + kGap) + kGap / 2;
    set_color(cr, kAxisColor);
    canvas.text(fit_text(canvas, names[i], kNameWidth - 12, kLabelSize, false), kNameWidth - 8,
                y + kBar * 0.75, kLabelSize, 1.0);
    if (!std::isfinite(values[i])) {
      canvas.text("n/a", plot.x + 4, y + kBar * 0.75, kTickSize);
      continue;
    }
    set_color(cr, series_color(0));
    cairo_rectangle(cr, plot.x, y, std::max(1.0, ax.px(values[i]) - plot.x), kBar);
    cairo_fill(cr);
    set_color(cr, kAxisColor);
    canvas.text(fmt::format("{:.3g}", values[i]), ax.px(values[i]) + 4, y + kBar * 0.75, kTickSize);
  }
  set_color(cr, kAxisColor);
  canvas.text(o.value_label, plot.x + plot.width / 2, plot.y + plot.height + 38, kLabelSize, 0.5);
  return canvas.finish();
}

std::string overlay_histograms(const std::string& title, const std::vector<HistogramSet>& sets,
                               FigureFormat format) {
  if (sets.empty()) fail("", "no histograms to overlay");
  constexpr int kWidth = 900, kPanel = 260;
  Canvas canvas(kWidth, static_cast<int>(kTop + sets.size() * kPanel), format);
  canvas.clear(1, 1, 1);
  draw_title(canvas, title);
  cairo_t* cr = canvas.cr();
  for (size_t p = 0; p < sets.size(); ++p) {
    const HistogramSet& set = sets[p];
    if (set.edges.size() < 2 || set.counts.size() != set.labels.size())
      fail("", "histogram set '" + set.title + "' has no bins or mismatched labels");
    Range xr{set.edges.front(), set.edges.back()}, yr{0, 1};
    for (const auto& c : set.counts) {
      if (c.size() + 1 != set.edges.size())
        fail("", "histogram set '" + set.title + "': counts do not fit the edges");
      for (int64_t n : c) yr.add(static_cast<double>(n));
    }
    const double top = kTop + static_cast<double>(p) * kPanel;
    const PlotRect plot{kLeft, top + 22, kWidth - kLeft - kRight, kPanel - 22.0 - kBottom};
    const Axes ax = make_axes(plot, xr, yr, true);
    set_color(cr, kAxisColor);
    canvas.text(fit_text(canvas, set.title, plot.width, kLabelSize, true), plot.x, top + 14,
                kLabelSize, 0.0, true);
    draw_frame(canvas, ax, "", "count");
    cairo_set_line_width(cr, 1.6);
    for (size_t k = 0; k < set.counts.size(); ++k) {
      set_color(cr, series_color(k));
      cairo_move_to(cr, ax.px(set.edges[0]), ax.py(0));
      for (size_t b = 0; b < set.counts[k].size(); ++b) {
        const double y = ax.py(static_cast<double>(set.counts[k][b]));
        cairo_line_to(cr, ax.px(set.edges[b]), y);
        cairo_line_to(cr, ax.px(set.edges[b + 1]), y);
      }
      cairo_line_to(cr, ax.px(set.edges.back()), ax.py(0));
      cairo_stroke(cr);
    }
    draw_legend(canvas, plot, set.labels);
  }
  return canvas.finish();
}

std::string histogram_heatmap(const std::string& title, const std::vector<double>& edges,
                              const std::vector<std::vector<int64_t>>& counts,
                              const std::vector<std::string>& step_labels,
                              const std::string& colormap_name, FigureFormat format) {
  if (edges.size() < 2 || counts.empty() || counts.size() != step_labels.size())
    fail("", "a heat map needs bins and one label per step");
  const Colormap& cmap = colormap(colormap_name);
  const size_t bins = edges.size() - 1;
  int64_t peak = 1;
  for (const auto& row : counts) {
    if (row.size() != bins) fail("", "heat map rows do not fit the edges");
    for (int64_t n : row) peak = std::max(peak, n);
  }
  constexpr int kWidth = 900;
  const int row_height = std::clamp(360 / static_cast<int>(counts.size()), 6, 28);
  const int height = static_cast<int>(kTop + kBottom + counts.size() * row_height);
  Canvas canvas(kWidth, height, format);
  canvas.clear(1, 1, 1);
  draw_title(canvas, title);
  const PlotRect plot{kLeft + 40, kTop, kWidth - kLeft - 40 - kRight,
                      static_cast<double>(counts.size() * row_height)};
  std::vector<uint32_t> pixels(bins * counts.size());  // [steps, bins] packed 0x00RRGGBB
  for (size_t s = 0; s < counts.size(); ++s)
    for (size_t b = 0; b < bins; ++b) {
      const Rgb8 c = cmap.map(static_cast<double>(counts[s][b]) / static_cast<double>(peak));
      pixels[s * bins + b] = (uint32_t{c.r} << 16) | (uint32_t{c.g} << 8) | c.b;
    }
  canvas.draw_pixels(pixels.data(), static_cast<int>(bins), static_cast<int>(counts.size()), plot.x,
                     plot.y, plot.width, plot.height);
  const Axes ax{plot, edges.front(), edges.back(), 0, 1};
  cairo_t* cr = canvas.cr();
  double step = 0;
  set_color(cr, kAxisColor);
  for (double v : nice_ticks(ax.x0, ax.x1, kTargetTicks, &step))
    if (v >= ax.x0 && v <= ax.x1)
      canvas.text(tick_label(v, step), ax.px(v), plot.y + plot.height + kTickSize + 6, kTickSize,
                  0.5);
  const size_t label_every = std::max<size_t>(1, counts.size() * 14 / plot.height + 1);
  for (size_t s = 0; s < counts.size(); s += label_every)
    canvas.text(fit_text(canvas, step_labels[s], plot.x - 12, kTickSize, false), plot.x - 6,
                plot.y + (static_cast<double>(s) + 0.5) * row_height + kTickSize * 0.35, kTickSize,
                1.0);
  canvas.text("value (shared bins)", plot.x + plot.width / 2, plot.y + plot.height + 38, kLabelSize,
              0.5);
  return canvas.finish();
}

std::string binned_chart(const BinnedChartOptions& o, FigureFormat format) {
  if (o.edges.size() < 2 || o.counts.size() + 1 != o.edges.size() ||
      o.curve_x.size() != o.curve_y.size())
    fail("", "a binned chart needs one count per bin and one y per curve x");
  Range xr, yr{0, 0};
  xr.add(o.edges.front());
  xr.add(o.edges.back());
  for (double c : o.counts) yr.add(c);
  for (double y : o.curve_y) yr.add(y);
  if (o.marker) xr.add(*o.marker);
  Canvas canvas(o.width, o.height, format);
  const Axes ax = start_plot(canvas, o.title, xr, yr, true, o.x_label, o.y_label);
  cairo_t* cr = canvas.cr();
  set_color(cr, series_color(0), 0.75);
  for (size_t b = 0; b < o.counts.size(); ++b) {
    if (!(o.counts[b] > 0)) continue;
    const double x0 = ax.px(o.edges[b]), x1 = ax.px(o.edges[b + 1]);
    cairo_rectangle(cr, x0, ax.py(o.counts[b]), std::max(x1 - x0, 0.5),
                    ax.py(0) - ax.py(o.counts[b]));
  }
  cairo_fill(cr);
  std::vector<std::string> labels{"counts"};
  if (!o.curve_x.empty()) {
    set_color(cr, series_color(labels.size()));  // the legend's colour for its entry
    cairo_set_line_width(cr, 2);
    for (size_t i = 0; i < o.curve_x.size(); ++i)
      (i ? cairo_line_to : cairo_move_to)(cr, ax.px(o.curve_x[i]), ax.py(o.curve_y[i]));
    cairo_stroke(cr);
    labels.push_back(o.curve_label);
  }
  if (o.marker) {
    set_color(cr, series_color(labels.size()));
    cairo_set_line_width(cr, 1.5);
    const double dashes[] = {5, 3};
    cairo_set_dash(cr, dashes, 2, 0);
    cairo_move_to(cr, ax.px(*o.marker), ax.plot.y);
    cairo_line_to(cr, ax.px(*o.marker), ax.plot.y + ax.plot.height);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    labels.push_back(o.marker_label);
  }
  draw_legend(canvas, ax.plot, labels);
  return canvas.finish();
}

}  // namespace cnnscope
