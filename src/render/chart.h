// Charts for checkpoint series and comparisons: line charts (drift curves), horizontal bar charts
// (relative change per tensor), overlaid histograms on shared bins (step outlines, one colour per
// checkpoint), a step x bin heat map of counts, and binned counts with a fitted curve and a
// marker (a spectrum's histogram with its power-law fit). Each returns the figure's bytes
// (PNG/SVG/PDF). Leaves out: log axes, legends outside the plot, interactive output. Spec:
// matplotlib's look (tab10 colours, MaxNLocator ticks) where it has one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "render/axes.h"
#include "render/canvas.h"

namespace cnnscope {

struct Series {
  std::string label;
  std::vector<double> y;  // one per x; NaN leaves a gap
};

struct LineChartOptions {
  std::string title;
  std::string x_label = "step";
  std::string y_label;
  std::vector<double> x;  // ascending, one per point of every series
  int width = 900, height = 520;
};

// Lines with markers, a legend of up to 12 labels (the rest counted). Throws Error when a series'
// length differs from x's or x is empty.
std::string line_chart(const std::vector<Series>& series, const LineChartOptions& options,
                       FigureFormat format);

struct BarChartOptions {
  std::string title;
  std::string value_label;
  int width = 900;
};

// One horizontal bar per name (top to bottom in the given order), values >= 0 (NaN: no bar,
// "n/a"); the height grows with the number of bars.
std::string bar_chart(const std::vector<std::string>& names, const std::vector<double>& values,
                      const BarChartOptions& options, FigureFormat format);

struct HistogramSet {
  std::string title;                         // e.g. the tensor's key
  std::vector<double> edges;                 // [bins + 1], shared by every entry of counts
  std::vector<std::vector<int64_t>> counts;  // [series][bins]
  std::vector<std::string> labels;           // [series]
};

// One panel per set, stacked; each draws its series' histograms as step outlines on the shared
// bins. Throws Error on empty input or mismatched sizes.
std::string overlay_histograms(const std::string& title, const std::vector<HistogramSet>& sets,
                               FigureFormat format);

// counts[step][bin] as a heat map (rows = steps top to bottom, columns = bins over `edges`),
// colour = count / the largest count through `colormap_name` (render/colormap.h).
std::string histogram_heatmap(const std::string& title, const std::vector<double>& edges,
                              const std::vector<std::vector<int64_t>>& counts,
                              const std::vector<std::string>& step_labels,
                              const std::string& colormap_name, FigureFormat format);

struct BinnedChartOptions {
  std::string title;
  std::string x_label;
  std::string y_label = "count";
  std::vector<double> edges;   // [bins + 1], ascending
  std::vector<double> counts;  // [bins]
  // A curve over the bars (e.g. a fit's expected counts at bin centres); empty: none.
  std::vector<double> curve_x, curve_y;
  std::string curve_label;
  std::optional<double> marker;  // a vertical line at this x (e.g. the fit's xmin)
  std::string marker_label;
  int width = 800, height = 500;
};

// Bars of `counts` on `edges`, the curve and the marker over them, a legend of the labels.
// Throws Error on mismatched sizes.
std::string binned_chart(const BinnedChartOptions& options, FigureFormat format);

}  // namespace cnnscope
