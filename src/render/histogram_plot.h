// Histogram figures of tensor values: one full figure per tensor (title, axes with ticks and
// labels, bars, mean and ±std lines, statistics legend) and an overview sheet of small panels.
// Leaves out: log scales, overlays of several tensors. Draws with render/canvas.h (PNG/SVG/PDF).
#pragma once

#include <string>
#include <vector>

#include "render/axes.h"
#include "render/canvas.h"
#include "stats/histogram.h"
#include "stats/tensor_stats.h"

namespace cnnscope {

// What one histogram panel shows: numbers only, no model.
struct HistogramPanel {
  std::string title;  // the state_dict key
  TensorStats stats;
  Histogram histogram;
};

enum class PanelDetail {
  kFull,     // ticks, tick labels, axis labels, legend
  kCompact,  // title, bars, mean/±std lines, min/max under the axis
};

// Draws one panel into `area` of `canvas`.
void draw_histogram(Canvas& canvas, const HistogramPanel& panel, const PlotRect& area,
                    PanelDetail detail);

constexpr int kHistogramFigureWidth = 800;
constexpr int kHistogramFigureHeight = 500;

// One tensor's figure, kHistogramFigureWidth x kHistogramFigureHeight; returns the file's bytes.
std::string histogram_figure(const HistogramPanel& panel, FigureFormat format);

struct OverviewOptions {
  std::string title;  // sheet heading, e.g. the checkpoint's file name
  int columns = 6;
};

// Every panel small on one sheet (rows of `columns`); returns the file's bytes. Throws Error
// when `panels` is empty.
std::string histogram_overview(const std::vector<HistogramPanel>& panels,
                               const OverviewOptions& options, FigureFormat format);

}  // namespace cnnscope
