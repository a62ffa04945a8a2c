// Histogram panels drawn with cairo: bars from the numpy-exact edges/counts, "nice" 1-2-2.5-5
// ticks, mean (solid) and mean±std (dashed) lines, a legend with the statistics. Leaves out:
// log axes. Spec: cairo 1.16 path API; tick choice after matplotlib's MaxNLocator steps.
#include "render/histogram_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace cnnscope {
namespace {

constexpr Color kBarFill{0.122, 0.467, 0.706};  // matplotlib's default blue, C0
constexpr Color kBarEdge{0.08, 0.32, 0.50};
constexpr Color kMeanColor{0.839, 0.153, 0.157};  // C3 red
constexpr Color kStdColor{1.0, 0.498, 0.055};     // C1 orange
constexpr Color kAxisColor{0.15, 0.15, 0.15};
constexpr Color kGridColor{0.90, 0.90, 0.90};
constexpr Color kWarnColor{0.70, 0.10, 0.10};

constexpr double kXMargin = 0.05;  // matplotlib's default data margin on each side
constexpr double kYHeadroom = 1.05;
constexpr int kTargetXTicks = 6;
constexpr int kTargetYTicks = 5;
constexpr double kDash[] = {5.0, 3.0};

// Full figure layout (points).
constexpr double kTitleSize = 16, kLabelSize = 12, kTickSize = 10, kLegendSize = 11;
constexpr double kLegendPad = 8, kLegendInset = 8, kLegendLine = kLegendSize * 1.45;
constexpr double kFullLeft = 78, kFullRight = 20, kFullTop = 44, kFullBottom = 56;
// Compact panel layout.
constexpr double kCompactTitleSize = 10, kCompactTextSize = 8;
constexpr double kCompactPad = 6, kCompactTop = 18, kCompactBottom = 14;
// Overview sheet.
constexpr int kOverviewCellWidth = 250, kOverviewCellHeight = 150, kOverviewHeader = 40;

std::string count_label(double v) {
  if (v >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.3g}k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

std::string number(double v) {
  return fmt::format("{:.4g}", v);
}

Axes make_axes(const HistogramPanel& panel, const PlotRect& plot) {
  const Histogram& h = panel.histogram;
  const double lo = h.edges.front(), hi = h.edges.back();
  const double margin = (hi - lo) * kXMargin;
  int64_t peak = 0;
  for (int64_t c : h.counts) peak = std::max(peak, c);
  return Axes{plot, lo - margin, hi + margin, 0.0, std::max(1.0, peak * kYHeadroom)};
}

void draw_bars(cairo_t* cr, const HistogramPanel& panel, const Axes& ax, bool edges) {
  const Histogram& h = panel.histogram;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (h.counts[i] == 0) continue;
    const double left = ax.px(h.edges[i]), right = ax.px(h.edges[i + 1]);
    const double top = ax.py(static_cast<double>(h.counts[i]));
    cairo_rectangle(cr, left, top, right - left, ax.py(0) - top);
  }
  set_color(cr, kBarFill);
  if (!edges) {
    cairo_fill(cr);
    return;
  }
  cairo_fill_preserve(cr);
  set_color(cr, kBarEdge);
  cairo_set_line_width(cr, 0.6);
  cairo_stroke(cr);
}

void vertical_line(cairo_t* cr, const Axes& ax, double v, const Color& c, double width,
                   bool dashed) {
  if (!std::isfinite(v) || v < ax.x0 || v > ax.x1) return;
  set_color(cr, c);
  cairo_set_line_width(cr, width);
  cairo_set_dash(cr, dashed ? kDash : nullptr, dashed ? 2 : 0, 0);
  // Snapped to the pixel grid so the line is crisp (full-colour columns) wherever the value falls.
  const double x = std::round(ax.px(v) - width / 2) + width / 2;
  cairo_move_to(cr, x, ax.plot.y);
  cairo_line_to(cr, x, ax.plot.y + ax.plot.height);
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0);
}

void draw_markers(cairo_t* cr, const HistogramPanel& panel, const Axes& ax, double scale) {
  const TensorStats& s = panel.stats;
  if (!s.has_values) return;
  if (s.std) {
    vertical_line(cr, ax, s.mean - *s.std, kStdColor, 2 * scale, true);
    vertical_line(cr, ax, s.mean + *s.std, kStdColor, 2 * scale, true);
  }
  vertical_line(cr, ax, s.mean, kMeanColor, 2.0 * scale, false);
}

// The bars (with edges or not) and the markers (line widths times `scale`), clipped to `plot`.
void draw_data(cairo_t* cr, const HistogramPanel& panel, const Axes& ax, const PlotRect& plot,
               bool edges, double scale) {
  cairo_save(cr);
  cairo_rectangle(cr, plot.x, plot.y, plot.width, plot.height);
  cairo_clip(cr);
  draw_bars(cr, panel, ax, edges);
  draw_markers(cr, panel, ax, scale);
  cairo_restore(cr);
}

std::string nonfinite_note(const TensorStats& s) {
  if (s.nan_count + s.posinf_count + s.neginf_count == 0) return "";
  return fmt::format("left out: {} NaN, {} +Inf, {} -Inf", s.nan_count, s.posinf_count,
                     s.neginf_count);
}

void draw_legend(Canvas& canvas, const HistogramPanel& panel, const Axes& ax) {
  cairo_t* cr = canvas.cr();
  const TensorStats& s = panel.stats;
  struct Entry {
    std::string text;
    const Color* line;
    bool dashed;
  };
  std::vector<Entry> entries;
  entries.push_back({"mean " + number(s.mean), &kMeanColor, false});
  entries.push_back({s.std ? "\u00b1std " + number(*s.std) : "std undefined (one value)",
                     s.std ? &kStdColor : nullptr, true});
  entries.push_back({"min " + number(s.min) + "   max " + number(s.max), nullptr, false});
  entries.push_back({"p1 " + number(s.p1) + "   p50 " + number(s.p50) + "   p99 " + number(s.p99),
                     nullptr, false});
  std::string shape;
  for (int64_t d : s.shape) shape += (shape.empty() ? "" : "\u00d7") + std::to_string(d);
  entries.push_back(
      {fmt::format("{} {} [{}]  zeros {:.1f}%", s.numel, s.dtype, shape, 100.0 * s.zero_fraction),
       nullptr, false});
  const std::string note = nonfinite_note(s);
  if (!note.empty()) entries.push_back({note, &kWarnColor, false});

  constexpr double kSample = 22, kGap = 6, kPad = kLegendPad;
  const double line_height = kLegendLine;
  double text_w = 0;
  for (const Entry& e : entries) text_w = std::max(text_w, canvas.text_width(e.text, kLegendSize));
  const double w = kPad * 2 + kSample + kGap + text_w;
  const double h = kPad * 2 + line_height * static_cast<double>(entries.size());
  const double x = ax.plot.x + ax.plot.width - w - kLegendInset, y = ax.plot.y + kLegendInset;
  cairo_rectangle(cr, x, y, w, h);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.88);
  cairo_fill_preserve(cr);
  set_color(cr, {0.8, 0.8, 0.8});
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (size_t i = 0; i < entries.size(); ++i) {
    const double baseline = y + kPad + line_height * (static_cast<double>(i) + 0.78);
    const Entry& e = entries[i];
    if (e.line && e.line != &kWarnColor) {
      set_color(cr, *e.line);
      cairo_set_line_width(cr, 2);
      cairo_set_dash(cr, e.dashed ? kDash : nullptr, e.dashed ? 2 : 0, 0);
      cairo_move_to(cr, x + kPad, baseline - kLegendSize * 0.35);
      cairo_line_to(cr, x + kPad + kSample, baseline - kLegendSize * 0.35);
      cairo_stroke(cr);
      cairo_set_dash(cr, nullptr, 0, 0);
    }
    set_color(cr, e.line == &kWarnColor ? kWarnColor : kAxisColor);
    canvas.text(e.text, x + kPad + kSample + kGap, baseline, kLegendSize);
  }
}

void draw_full(Canvas& canvas, const HistogramPanel& panel, const PlotRect& area) {
  cairo_t* cr = canvas.cr();
  const PlotRect plot{area.x + kFullLeft, area.y + kFullTop, area.width - kFullLeft - kFullRight,
                      area.height - kFullTop - kFullBottom};
  Axes ax = make_axes(panel, plot);
  // Headroom so the tallest bar stays below the legend box.
  const double legend_rows = nonfinite_note(panel.stats).empty() ? 5 : 6;
  const double legend_bottom = 2 * kLegendPad + kLegendInset + legend_rows * kLegendLine;
  if (panel.stats.has_values && legend_bottom < plot.height / 2)
    ax.y1 = std::max(ax.y1, ax.y1 / kYHeadroom / (1.0 - legend_bottom / plot.height));

  set_color(cr, kAxisColor);
  canvas.text(fit_text(canvas, panel.title, area.width - 20, kTitleSize, true),
              area.x + area.width / 2, area.y + 28, kTitleSize, 0.5, true);

  double xstep = 0, ystep = 0;
  const std::vector<double> xticks = nice_ticks(ax.x0, ax.x1, kTargetXTicks, &xstep);
  const std::vector<double> yticks = nice_ticks(0, ax.y1, kTargetYTicks, &ystep);
  // Horizontal grid behind the bars.
  set_color(cr, kGridColor);
  cairo_set_line_width(cr, 1);
  for (double t : yticks) {
    if (t <= 0 || t > ax.y1) continue;
    cairo_move_to(cr, plot.x, std::round(ax.py(t)) + 0.5);
    cairo_line_to(cr, plot.x + plot.width, std::round(ax.py(t)) + 0.5);
  }
  cairo_stroke(cr);

  draw_data(cr, panel, ax, plot, true, 1.0);

  // Frame, ticks and labels.
  set_color(cr, kAxisColor);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, plot.x + 0.5, plot.y + 0.5, plot.width - 1, plot.height - 1);
  cairo_stroke(cr);
  constexpr double kTickLength = 5;
  for (double t : xticks) {
    if (t < ax.x0 || t > ax.x1) continue;
    const double x = std::round(ax.px(t)) + 0.5;
    cairo_move_to(cr, x, plot.y + plot.height);
    cairo_line_to(cr, x, plot.y + plot.height + kTickLength);
    canvas.text(tick_label(t, xstep), x, plot.y + plot.height + kTickLength + kTickSize + 3,
                kTickSize, 0.5);
  }
  for (double t : yticks) {
    if (t > ax.y1) continue;
    const double y = std::round(ax.py(t)) + 0.5;
    cairo_move_to(cr, plot.x - kTickLength, y);
    cairo_line_to(cr, plot.x, y);
    canvas.text(count_label(t), plot.x - kTickLength - 3, y + kTickSize * 0.35, kTickSize, 1.0);
  }
  cairo_stroke(cr);
  canvas.text("value", plot.x + plot.width / 2, area.y + area.height - 12, kLabelSize, 0.5);
  cairo_save(cr);
  cairo_move_to(cr, 0, 0);
  cairo_translate(cr, area.x + 18, plot.y + plot.height / 2);
  cairo_rotate(cr, -M_PI / 2);
  canvas.text("count", 0, 0, kLabelSize, 0.5);
  cairo_restore(cr);

  if (!panel.stats.has_values) {
    set_color(cr, kWarnColor);
    canvas.text("no finite values", plot.x + plot.width / 2, plot.y + plot.height / 2, kLabelSize,
                0.5);
    return;
  }
  draw_legend(canvas, panel, ax);
}

void draw_compact(Canvas& canvas, const HistogramPanel& panel, const PlotRect& area) {
  cairo_t* cr = canvas.cr();
  const PlotRect plot{area.x + kCompactPad, area.y + kCompactTop, area.width - 2 * kCompactPad,
                      area.height - kCompactTop - kCompactBottom};
  const Axes ax = make_axes(panel, plot);
  set_color(cr, kAxisColor);
  canvas.text(fit_text(canvas, panel.title, area.width - 2 * kCompactPad, kCompactTitleSize, true),
              area.x + area.width / 2, area.y + kCompactTitleSize + 2, kCompactTitleSize, 0.5,
              true);
  draw_data(cr, panel, ax, plot, false, 0.6);
  set_color(cr, kAxisColor);
  cairo_set_line_width(cr, 0.8);
  cairo_move_to(cr, plot.x, plot.y + plot.height + 0.5);
  cairo_line_to(cr, plot.x + plot.width, plot.y + plot.height + 0.5);
  cairo_stroke(cr);
  const double baseline = plot.y + plot.height + kCompactTextSize + 3;
  if (!panel.stats.has_values) {
    set_color(cr, kWarnColor);
    canvas.text("no finite values", area.x + area.width / 2, baseline, kCompactTextSize, 0.5);
    return;
  }
  canvas.text(number(panel.histogram.edges.front()), plot.x, baseline, kCompactTextSize, 0.0);
  canvas.text(number(panel.histogram.edges.back()), plot.x + plot.width, baseline, kCompactTextSize,
              1.0);
  const std::string middle = panel.stats.std ? "\u03c3 " + number(*panel.stats.std) : "\u03c3 n/a";
  canvas.text(middle, plot.x + plot.width / 2, baseline, kCompactTextSize, 0.5);
  if (!nonfinite_note(panel.stats).empty()) {
    set_color(cr, kWarnColor);
    canvas.text("NaN/Inf!", plot.x + plot.width, plot.y + kCompactTextSize, kCompactTextSize, 1.0);
  }
}

}  // namespace

void draw_histogram(Canvas& canvas, const HistogramPanel& panel, const PlotRect& area,
                    PanelDetail detail) {
  if (panel.histogram.counts.empty() || panel.histogram.edges.size() < 2)
    fail("", "internal: histogram of '" + panel.title + "' has no bins");
  if (detail == PanelDetail::kFull)
    draw_full(canvas, panel, area);
  else
    draw_compact(canvas, panel, area);
}

std::string histogram_figure(const HistogramPanel& panel, FigureFormat format) {
  Canvas canvas(kHistogramFigureWidth, kHistogramFigureHeight, format);
  canvas.clear(1, 1, 1);
  draw_histogram(canvas, panel, PlotRect{0, 0, kHistogramFigureWidth, kHistogramFigureHeight},
                 PanelDetail::kFull);
  return canvas.finish();
}

std::string histogram_overview(const std::vector<HistogramPanel>& panels,
                               const OverviewOptions& options, FigureFormat format) {
  if (panels.empty()) fail("", "no tensors to draw on the overview sheet");
  const int columns = std::max(1, std::min(options.columns, static_cast<int>(panels.size())));
  const int rows = static_cast<int>((panels.size() + columns - 1) / columns);
  Canvas canvas(columns * kOverviewCellWidth, kOverviewHeader + rows * kOverviewCellHeight, format);
  canvas.clear(1, 1, 1);
  cairo_set_source_rgb(canvas.cr(), kAxisColor.r, kAxisColor.g, kAxisColor.b);
  canvas.text(options.title, canvas.width() / 2.0, 26, kTitleSize, 0.5, true);
  for (size_t i = 0; i < panels.size(); ++i) {
    const int row = static_cast<int>(i) / columns, col = static_cast<int>(i) % columns;
    const PlotRect cell{static_cast<double>(col * kOverviewCellWidth),
                        static_cast<double>(kOverviewHeader + row * kOverviewCellHeight),
                        kOverviewCellWidth, kOverviewCellHeight};
    draw_histogram(canvas, panels[i], cell, PanelDetail::kCompact);
  }
  return canvas.finish();
}

}  // namespace cnnscope
