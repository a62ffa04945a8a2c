// matrix_figure (see matrix_plot.h): cells as filled rectangles (not a pixel blit, so SVG/PDF stay
// crisp), the cell size chosen from the matrix's size within 40..1600 px of plot.
#include "render/matrix_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "render/axes.h"
#include "render/colormap.h"

namespace cnnscope {
namespace {

constexpr double kTitleSize = 15, kLabelSize = 11, kTickSize = 9;
constexpr Color kText{0.15, 0.15, 0.15};
constexpr double kMaxLabel = 260;  // px of a row or column label

double longest(Canvas& canvas, const std::vector<std::string>& labels) {
  double w = 0;
  for (const std::string& s : labels)
    w = std::max(w, canvas.text_width(fit_text(canvas, s, kMaxLabel, kTickSize, false), kTickSize));
  return w;
}

// The cell colour of `v` and whether text on it should be white.
std::pair<Color, bool> cell_color(const Colormap& cmap, double t) {
  const Rgb8 c = cmap.map(std::clamp(t, 0.0, 1.0));
  const Color color{c.r / 255.0, c.g / 255.0, c.b / 255.0};
  const double luma = 0.299 * color.r + 0.587 * color.g + 0.114 * color.b;
  return {color, luma < 0.5};
}

}  // namespace

std::string matrix_figure(const MatrixPlot& p, FigureFormat format) {
  if (p.rows.empty() || p.cols.empty() || p.values.size() != p.rows.size())
    fail("", "a matrix figure needs rows, columns and one row of values per row label");
  for (const auto& row : p.values)
    if (row.size() != p.cols.size()) fail("", "a matrix figure row has the wrong length");
  const auto nr = static_cast<double>(p.rows.size()), nc = static_cast<double>(p.cols.size());
  // 2 px cells at the most rows (1024: a 2 K canvas); numbers written from 30 px
  const double cell = std::clamp(std::floor(640 / std::max(nr, nc)), 2.0, 48.0);
  Canvas measure(10, 10, FigureFormat::kPng);
  const double left = longest(measure, p.rows) + 40, bottom = longest(measure, p.cols) + 40;
  const double bar_height = std::max(nr * cell, 120.0);
  const int width = static_cast<int>(left + nc * cell + 110);
  const int height = static_cast<int>(60 + bar_height + bottom);
  Canvas canvas(std::max(width, 360), height, format);
  canvas.clear(1, 1, 1);
  cairo_t* cr = canvas.cr();
  set_color(cr, kText);
  canvas.text(fit_text(canvas, p.title, canvas.width() - 20.0, kTitleSize, true),
              canvas.width() / 2.0, 26, kTitleSize, 0.5, true);
  const double x0 = left, y0 = 50;
  const Colormap& cmap = colormap(p.colormap);
  const bool numbers = cell >= 30;
  for (size_t i = 0; i < p.rows.size(); ++i) {
    for (size_t j = 0; j < p.cols.size(); ++j) {
      const double x = x0 + static_cast<double>(j) * cell, y = y0 + static_cast<double>(i) * cell;
      const std::optional<double>& v = p.values[i][j];
      const auto [color, dark] = v ? cell_color(cmap, (*v - p.vmin) / (p.vmax - p.vmin))
                                   : std::pair<Color, bool>{{0.8, 0.8, 0.8}, false};
      set_color(cr, color);
      cairo_rectangle(cr, x, y, cell, cell);
      cairo_fill(cr);
      if (!numbers) continue;
      set_color(cr, dark ? Color{1, 1, 1} : kText);
      canvas.text(v ? fmt::format("{:.2f}", *v) : "n/a", x + cell / 2, y + cell / 2 + 3,
                  kTickSize - 1, 0.5);
    }
  }
  set_color(cr, kText);
  for (size_t i = 0; i < p.rows.size(); ++i)
    canvas.text(fit_text(canvas, p.rows[i], left - 40, kTickSize, false), x0 - 6,
                y0 + (static_cast<double>(i) + 0.5) * cell + kTickSize * 0.35, kTickSize, 1.0);
  for (size_t j = 0; j < p.cols.size(); ++j) {
    cairo_save(cr);
    cairo_translate(cr, x0 + (static_cast<double>(j) + 0.5) * cell + kTickSize * 0.35,
                    y0 + nr * cell + 6);
    cairo_rotate(cr, M_PI / 2);
    canvas.text(fit_text(canvas, p.cols[j], bottom - 40, kTickSize, false), 0, 0, kTickSize);
    cairo_restore(cr);
  }
  canvas.text(p.col_title, x0 + nc * cell / 2, y0 + nr * cell + bottom - 6, kLabelSize, 0.5);
  cairo_save(cr);
  cairo_translate(cr, 16, y0 + nr * cell / 2);
  cairo_rotate(cr, -M_PI / 2);
  canvas.text(p.row_title, 0, 0, kLabelSize, 0.5);
  cairo_restore(cr);
  // colour bar
  const double bx = x0 + nc * cell + 24, bh = bar_height;
  for (int k = 0; k < 100; ++k) {
    set_color(cr, cell_color(cmap, 1.0 - k / 99.0).first);
    cairo_rectangle(cr, bx, y0 + bh * k / 100.0, 14, bh / 100.0 + 0.5);
    cairo_fill(cr);
  }
  set_color(cr, kText);
  canvas.text(fmt::format("{:g}", p.vmax), bx + 20, y0 + kTickSize * 0.35, kTickSize);
  canvas.text(fmt::format("{:g}", p.vmin), bx + 20, y0 + bh + kTickSize * 0.35, kTickSize);
  return canvas.finish();
}

}  // namespace cnnscope
