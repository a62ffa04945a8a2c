// write_evolve_outputs (see evolve_outputs.h).
#include "app/evolve_outputs.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "app/evolve_page.h"
#include "common/atomic_file.h"
#include "export/stats_table.h"
#include "render/apng.h"
#include "render/chart.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

std::string stem_of(const std::string& key) {
  std::string s = key;
  std::replace(s.begin(), s.end(), '/', '_');
  return s;
}

// Relative change from the first checkpoint per layer (conv/linear weights and their biases):
// sqrt(sum ||B-A||^2) / sqrt(sum ||A||^2) over the layer's tensors.
std::vector<cnnscope::Series> drift_per_layer(const EvolveResult& r) {
  std::vector<std::string> layers;
  std::map<std::string, std::vector<const EvolveTensor*>> by_layer;
  for (const EvolveTensor& t : r.tensors) {
    const std::string layer = layer_of(t.name);
    if (!by_layer.count(layer)) layers.push_back(layer);
    by_layer[layer].push_back(&t);
  }
  std::vector<cnnscope::Series> out;
  for (const std::string& layer : layers) {
    const auto& ts = by_layer[layer];
    const bool weighted = std::any_of(ts.begin(), ts.end(), [&](const EvolveTensor* t) {
      return t->name == layer + ".weight" && t->shape.size() >= 2;
    });
    if (!weighted) continue;
    cnnscope::Series s{layer, {}};
    for (size_t i = 0; i < r.checkpoints.size(); ++i) {
      double diff2 = 0, base2 = 0;
      bool defined = true;
      for (const EvolveTensor* t : ts) {
        if (!t->rel_change_from_first[i] || !t->l2[0]) {
          defined = defined && t->l2[0] && *t->l2[0] == 0;  // all-zero tensors add nothing
          continue;
        }
        diff2 += std::pow(*t->rel_change_from_first[i] * *t->l2[0], 2);
        base2 += std::pow(*t->l2[0], 2);
      }
      s.y.push_back(defined && base2 > 0 ? std::sqrt(diff2 / base2) : NAN);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

void write_evolve_outputs(const EvolveOptions& o, EvolveResult& r,
                          const std::vector<ReportFigure>& frames, const std::string& conv) {
  const FigureFormat format = parse_figure_format(o.format);
  AtomicDir out_dir(o.out);  // a failure midway leaves o.out as it was
  const std::string staging = out_dir.staging();
  const auto write = [&](const std::string& name, const std::string& bytes) {
    write_file_atomic((fs::path(staging) / name).string(), bytes);
    r.figures.push_back((fs::path(o.out) / name).string());
  };
  std::vector<ReportFigure> figures;
  const std::string ext = figure_extension(format);
  const std::string mime = format == FigureFormat::kPng   ? "image/png"
                           : format == FigureFormat::kSvg ? "image/svg+xml"
                                                          : "application/pdf";
  LineChartOptions drift;
  drift.title = "relative change from the first checkpoint, per layer";
  drift.x_label = r.step_source == "epoch" ? "epoch" : "step (" + r.step_source + ")";
  drift.y_label = "\u2016W\u209c \u2212 W\u2080\u2016 / \u2016W\u2080\u2016";
  for (int64_t s : r.steps) drift.x.push_back(static_cast<double>(s));
  const std::vector<cnnscope::Series> curves = drift_per_layer(r);
  if (!curves.empty()) {
    const std::string bytes = line_chart(curves, drift, format);
    write("drift." + ext, bytes);
    figures.push_back({"drift: relative change per layer", mime, bytes});
  }
  const auto layer_chart = [&](const std::string& name, const std::string& title,
                               const std::string& y_label,
                               const std::vector<cnnscope::Series>& series) {
    LineChartOptions chart = drift;
    chart.title = title;
    chart.y_label = y_label;
    const std::string bytes = line_chart(series, chart, format);
    write(name + "." + ext, bytes);
    figures.push_back({title, mime, bytes});
  };
  if (r.spectra && !r.spectra->layers.empty())
    layer_chart("alpha", "layers: power-law alpha of each layer's spectrum", "alpha",
                alpha_curves(*r.spectra));
  if (r.similarity)
    layer_chart("similarity", "layers: CKA of each layer to the last checkpoint's",
                "CKA to the last", similarity_curves(*r.similarity));
  if (r.spectra || r.similarity)
    write_file_atomic(
        (fs::path(staging) / "layers.json").string(),
        evolve_layers_json(r, o).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) +
            "\n");
  std::vector<std::string> step_labels;
  for (int64_t s : r.steps) step_labels.push_back(std::to_string(s));
  make_output_dir((fs::path(staging) / "histograms").string());
  for (const EvolveTensor& et : r.tensors) {
    if (et.shape.empty() || et.edges.empty()) continue;
    const std::string bytes = histogram_heatmap(et.name + ": histogram per step (rows)", et.edges,
                                                et.counts, step_labels, "viridis", format);
    write("histograms/" + stem_of(et.name) + "." + ext, bytes);
    figures.push_back({et.name, mime, bytes});
  }
  ReportFigure animation;
  if (!frames.empty()) {
    make_output_dir((fs::path(staging) / "filters").string());
    std::vector<std::string> pngs;
    for (size_t i = 0; i < frames.size(); ++i) {
      write("filters/step_" + std::to_string(r.steps[i]) + ".png", frames[i].bytes);
      pngs.push_back(frames[i].bytes);
    }
    animation = {conv + " over the series (animated PNG)", "image/png",
                 assemble_apng(pngs, o.frame_ms)};
    write("filters.apng.png", animation.bytes);
  }
  // The page embeds PNG/SVG; a PDF figure cannot be shown inline, so PDF series get no page.
  if (format != FigureFormat::kPdf) {
    write_file_atomic((fs::path(staging) / "evolve.html").string(),
                      evolve_page(o, r, figures, frames, animation));
    r.html = (fs::path(o.out) / "evolve.html").string();
  }
  out_dir.commit();
}

}  // namespace cnnscope::app
