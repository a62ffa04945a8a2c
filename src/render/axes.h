// Plot building blocks shared by every chart (histograms, line, bar and heat-map charts): the
// plot rectangle, data-to-pixel axes, "nice" tick positions and labels, colours and text that
// fits. Leaves out: log scales and dates. Spec: matplotlib's MaxNLocator steps (1, 2, 2.5, 5).
#pragma once

#include <string>
#include <vector>

#include "render/canvas.h"

namespace cnnscope {

struct PlotRect {
  double x = 0, y = 0, width = 0, height = 0;
};

// Maps data coordinates to the plot rectangle (y grows upwards).
struct Axes {
  PlotRect plot;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double px(double v) const { return plot.x + (v - x0) / (x1 - x0) * plot.width; }
  double py(double v) const { return plot.y + plot.height - (v - y0) / (y1 - y0) * plot.height; }
};

struct Color {
  double r, g, b;
};
void set_color(cairo_t* cr, const Color& c, double alpha = 1.0);

// matplotlib's tab10 colours C0..C9, for series.
const Color& series_color(size_t index);

// Tick positions covering [lo, hi] with a step of 1, 2, 2.5 or 5 times a power of ten; the step
// chosen is stored in *step_out.
std::vector<double> nice_ticks(double lo, double hi, int target, double* step_out);

// A tick label with as many decimals as the step needs; scientific for very small/large values.
std::string tick_label(double v, double step);

// Shortens `s` from the left with "…" until it fits `width` at `size` (at most its last
// kMaxFitBytes, whole UTF-8 characters: a label of any length costs a few measurements).
constexpr size_t kMaxFitBytes = 512;
std::string fit_text(Canvas& canvas, const std::string& s, double width, double size, bool bold);

}  // namespace cnnscope
