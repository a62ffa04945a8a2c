// A labelled matrix as a heat map: one cell per (row, column) coloured through a colormap over a
// fixed value range, the value written in each cell while cells are large enough, row labels on
// the left, column labels rotated below, a colour bar and the axis titles. For layer-by-layer
// similarity (CKA) and any other small matrix of scores. Leaves out: clustering/reordering, log
// colour scales. Spec: matplotlib's imshow + colorbar look, viridis by default.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "render/canvas.h"

namespace cnnscope {

struct MatrixPlot {
  std::string title;
  std::string row_title, col_title;     // what the rows and columns are (e.g. the two files)
  std::vector<std::string> rows, cols;  // labels
  std::vector<std::vector<std::optional<double>>> values;  // [rows][cols]; nullopt: grey "n/a"
  double vmin = 0, vmax = 1;
  std::string colormap = "viridis";
};

// The figure's bytes. Throws Error when the values do not have rows x cols entries or a size is 0.
std::string matrix_figure(const MatrixPlot& plot, FigureFormat format);

}  // namespace cnnscope
