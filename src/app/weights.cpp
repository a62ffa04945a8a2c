// compute_weights, write_weight_plots, write_weight_histograms (see weights.h). Spec: the
// `weights` section of docs/DESIGN.md.
#include "app/weights.h"

#include <algorithm>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/parallel.h"
#include "export/tensorboard.h"
#include "render/histogram_plot.h"

namespace cnnscope::app {
namespace {

constexpr const char* kOverviewStem = "overview";

// "qint8 per_tensor_affine" / "qint8 per_channel_affine, axis 0"; "" for a plain tensor.
std::string quantized_text(const NamedTensor& t) {
  if (!t.quantized) return "";
  const Quantization& q = *t.quantized;
  return q.dtype + " " + q.scheme +
         (q.scheme == "per_channel_affine" ? ", axis " + std::to_string(q.axis) : "");
}

// "<dir>/<key>.<ext>" with path separators in the key replaced; the overview's name stays free.
std::string figure_path(const std::string& dir, const std::string& key, const char* ext) {
  std::string stem = key;
  std::replace(stem.begin(), stem.end(), '/', '_');
  if (stem == kOverviewStem) stem += ".tensor";
  return (std::filesystem::path(dir) / (stem + "." + ext)).string();
}

}  // namespace

WeightsReport compute_weights(const StateDict& sd, const WeightsOptions& options) {
  check_bins(options.bins);
  WeightsReport report;
  report.file = sd.file;
  report.format = sd.format;
  report.bins = options.bins;
  std::vector<const NamedTensor*> chosen;
  for (const NamedTensor* t : match_keys(sd, options.keys)) {
    if (is_batch_counter(t->name))
      report.skipped.push_back(t->name);
    else
      chosen.push_back(t);
  }
  report.tensors.resize(chosen.size());
  for_each_parallel(chosen.size(), [&](size_t i) {
    const NamedTensor& t = *chosen[i];
    try {
      report.tensors[i] = {t.name, compute_stats(t.tensor), histogram(t.tensor, options.bins),
                           quantized_text(t)};
    } catch (const Error& e) {
      fail(sd.file, "tensor '" + t.name + "': " + e.what(), "", e.settings());
    }
  });
  if (report.tensors.empty())
    fail(sd.file, "no tensors to report", "only num_batches_tracked counters were selected");
  return report;
}

size_t write_weight_plots(const WeightsReport& report, const std::string& dir,
                          FigureFormat format) {
  AtomicDir out_dir(dir);  // a failure midway leaves `dir` as it was
  std::vector<HistogramPanel> panels;
  for (const TensorReport& t : report.tensors) {
    if (!t.stats.floating || t.stats.numel == 0) continue;  // integer tensors: listed, not plotted
    panels.push_back({t.name, t.stats, t.histogram});
  }
  for_each_parallel(panels.size(), [&](size_t i) {
    write_file_atomic(figure_path(out_dir.staging(), panels[i].title, figure_extension(format)),
                      histogram_figure(panels[i], format));
  });
  if (panels.empty()) {
    out_dir.commit();
    return 0;
  }
  OverviewOptions overview;
  overview.title = std::filesystem::path(report.file).filename().string() + ": " +
                   std::to_string(panels.size()) + " weight histograms";
  write_file_atomic((std::filesystem::path(out_dir.staging()) /
                     (std::string(kOverviewStem) + "." + figure_extension(format)))
                        .string(),
                    histogram_overview(panels, overview, format));
  out_dir.commit();
  return panels.size() + 1;
}

std::string write_weight_histograms(const StateDict& sd, const WeightsReport& report,
                                    const std::string& dir) {
  EventWriterOptions options;
  options.dir = dir;
  EventWriter tb(options);
  for (const TensorReport& t : report.tensors)
    if (t.stats.has_values) tb.add_weight_histogram(t.name, *sd.find(t.name), t.histogram);
  return tb.close();
}

}  // namespace cnnscope::app
