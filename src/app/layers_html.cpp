// spectra_report_html and similarity_report_html (see layers_html.h). Spec: the `report` section
// of docs/DESIGN.md.
#include "app/layers_html.h"

#include <fmt/format.h>

#include <cmath>

#include "common/text.h"
#include "export/html_report.h"
#include "render/chart.h"
#include "render/matrix_plot.h"

namespace cnnscope::app {
namespace {

std::string cell(const std::string& text, bool number = true) {
  return std::string(number ? "<td class=\"num\">" : "<td>") + html_escape(text) + "</td>";
}

}  // namespace

std::string spectra_report_html(const std::vector<LayerSpectrum>& layers, const SpectraSummary& s) {
  std::string out = fmt::format(
      "<h3>Spectral health</h3><p>{} Linear/Conv2d layers (WeightWatcher's analyze(): power law "
      "fitted to each layer's eigenvalue tail). Mean alpha {}, weighted alpha {}, log "
      "spectral norm {}, stable rank {}; {} over-trained (alpha &lt; 2), {} under-trained "
      "(alpha &gt; 6).</p>",
      layers.size(), fixed_or_dash(s.alpha, 3), fixed_or_dash(s.alpha_weighted, 3),
      fixed_or_dash(s.log_spectral_norm, 3), fixed_or_dash(s.stable_rank, 1), s.over_trained,
      s.under_trained);
  std::vector<std::string> names;
  std::vector<double> alphas;
  for (const LayerSpectrum& l : layers) {
    names.push_back(l.name);
    alphas.push_back(l.fit.ok ? l.fit.alpha : NAN);
  }
  BarChartOptions chart;
  chart.title = "power-law alpha per layer (2 to 6: well trained)";
  chart.value_label = "alpha";
  out +=
      html_figure({chart.title, "image/png", bar_chart(names, alphas, chart, FigureFormat::kPng)});
  out +=
      "<div class=\"scroll\"><table><thead><tr><th>layer</th><th>shape</th><th "
      "class=\"num\">eigenvalues</th><th class=\"num\">alpha</th><th class=\"num\">weighted "
      "alpha</th><th class=\"num\">D</th><th class=\"num\">log10 &lambda;max</th><th "
      "class=\"num\">stable rank</th><th>warning</th></tr></thead><tbody>";
  for (const LayerSpectrum& l : layers) {
    const auto fitted = [&](double v) { return l.fit.ok ? fixed_or_dash(v, 3) : "-"; };
    out += "<tr>" + cell(l.name, false) + cell(dims_text(l.shape, "\u00d7"), false) +
           cell(std::to_string(l.eigenvalues.size())) + cell(fitted(l.fit.alpha)) +
           cell(fitted(l.alpha_weighted)) + cell(fitted(l.fit.D)) +
           cell(fixed_or_dash(l.log_spectral_norm, 3)) + cell(fixed_or_dash(l.stable_rank, 1)) +
           cell(l.warning, false) + "</tr>";
  }
  return out + "</tbody></table></div>";
}

std::string similarity_report_html(const SimilarityResult& r, const std::string& dir) {
  std::string out =
      "<h3>Layer similarity</h3><p>" +
      html_escape(fmt::format("{} CKA{} over {} images, from {}: {} ({}) against {}.",
                              cka_kernel_name(r.cka.kernel), r.cka.unbiased ? " (unbiased)" : "",
                              r.used, dir, r.a, r.arch_a, r.b.empty() ? "itself" : r.b)) +
      "</p>";
  MatrixPlot plot;
  plot.title = "CKA between layers";
  plot.row_title = r.a;
  plot.col_title = r.b.empty() ? r.a : r.b;
  plot.rows = r.rows;
  plot.cols = r.cols;
  plot.values = r.values;
  out += html_figure({plot.title, "image/png", matrix_figure(plot, FigureFormat::kPng)});
  return out;
}

std::string series_report_html(const EvolveLayers& e, const std::string& dir) {
  std::string out =
      "<h3>How the layers settled</h3><p>" +
      html_escape(fmt::format("{} checkpoints, from {}.", e.checkpoints.size(), dir)) + "</p>";
  LineChartOptions chart;
  chart.x_label = "step";
  for (const int64_t s : e.steps) chart.x.push_back(static_cast<double>(s));
  const auto figure = [&](const std::string& title, const std::string& y_label,
                          const std::vector<cnnscope::Series>& series) {
    chart.title = title;
    chart.y_label = y_label;
    out += html_figure({title, "image/png", line_chart(series, chart, FigureFormat::kPng)});
  };
  if (e.spectra) figure("power-law alpha per layer", "alpha", alpha_curves(*e.spectra));
  if (e.similarity)
    figure(fmt::format("CKA of each layer to the last checkpoint ({} images)", e.similarity->used),
           "CKA to the last", similarity_curves(*e.similarity));
  return out;
}

}  // namespace cnnscope::app
