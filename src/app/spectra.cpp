// run_spectra, summarize_spectra, esd_figure, add_series_spectra (see spectra.h). Spec: the
// `spectra` section of docs/DESIGN.md.
#include "app/spectra.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "render/canvas.h"
#include "render/chart.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

constexpr int kEsdBins = 60;

// A file name for each layer: "layer1.0.conv1" as is; anything outside [A-Za-z0-9._-] as '_',
// at most 100 characters, and -2, -3, ... where two layers would share one.
std::vector<std::string> file_stems(const std::vector<LayerSpectrum>& layers) {
  std::vector<std::string> out;
  std::set<std::string> used;
  for (const LayerSpectrum& l : layers) {
    std::string stem = l.name.substr(0, 100);
    for (char& c : stem)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
    if (stem.empty() || stem[0] == '.') stem.insert(0, "layer");
    std::string unique = stem;
    for (int k = 2; !used.insert(unique).second; ++k) unique = stem + "-" + std::to_string(k);
    out.push_back(unique);
  }
  return out;
}

}  // namespace

SpectraSummary summarize_spectra(const std::vector<LayerSpectrum>& layers) {
  SpectraSummary s;
  double fitted = 0;
  for (const LayerSpectrum& l : layers) {
    s.log_norm += l.log_norm;
    s.log_spectral_norm += l.log_spectral_norm;
    s.stable_rank += l.stable_rank;
    s.over_trained += l.warning == "over-trained";
    s.under_trained += l.warning == "under-trained";
    if (!l.fit.ok) continue;
    fitted += 1;
    s.alpha += l.fit.alpha;
    s.alpha_weighted += l.alpha_weighted;
    s.log_alpha_norm += l.log_alpha_norm;
  }
  const auto n = static_cast<double>(std::max<size_t>(layers.size(), 1));
  s.log_norm /= n;
  s.log_spectral_norm /= n;
  s.stable_rank /= n;
  if (fitted > 0) {
    s.alpha /= fitted;
    s.alpha_weighted /= fitted;
    s.log_alpha_norm /= fitted;
  }
  return s;
}

std::string esd_figure(const LayerSpectrum& l, const std::string& format) {
  std::vector<double> logs;  // log10 of the positive eigenvalues
  for (const double e : l.eigenvalues)
    if (e > 0) logs.push_back(std::log10(e));
  BinnedChartOptions o;
  o.title = l.fit.ok ? fmt::format("{}: alpha {:.3f}, D {:.3f}, {} in the tail", l.name,
                                   l.fit.alpha, l.fit.D, l.fit.tail)
                     : l.name + ": no power-law fit";
  o.x_label = "log10 eigenvalue of W\u1d40W";
  const double lo = logs.empty() ? 0 : logs.front(), hi = logs.empty() ? 1 : logs.back();
  const double width = hi > lo ? (hi - lo) / kEsdBins : 1.0;
  for (int b = 0; b <= kEsdBins; ++b) o.edges.push_back(lo + b * width);
  o.counts.assign(kEsdBins, 0);
  for (const double v : logs)
    o.counts[static_cast<size_t>(
        std::clamp(static_cast<int>((v - lo) / width), 0, kEsdBins - 1))] += 1;
  if (l.fit.ok && l.fit.alpha > 1) {
    // expected counts of the tail's power law per bin: tail * (F(hi) - F(lo)), F = 1 -
    // (x/xmin)^(1-a)
    const double xmin = l.fit.xmin;
    const auto cdf = [&](double log_x) {
      const double x = std::pow(10.0, log_x);
      return x <= xmin ? 0.0 : 1.0 - std::pow(x / xmin, 1.0 - l.fit.alpha);
    };
    for (int b = 0; b < kEsdBins; ++b) {
      if (o.edges[b + 1] <= std::log10(xmin)) continue;
      o.curve_x.push_back(o.edges[b] + width / 2);
      o.curve_y.push_back(static_cast<double>(l.fit.tail) *
                          (cdf(o.edges[b + 1]) - cdf(o.edges[b])));
    }
    o.curve_label = fmt::format("power law, alpha {:.2f}", l.fit.alpha);
    o.marker = std::log10(xmin);
    o.marker_label = fmt::format("xmin {:.3g}", xmin);
  }
  return binned_chart(o, parse_figure_format(format));
}

SpectraResult run_spectra(const SpectraJobOptions& o) {
  const FigureFormat format = parse_figure_format(o.format);
  register_input(o.checkpoint);
  const StateDict sd = load_state_dict(o.checkpoint);
  SpectraResult r;
  r.checkpoint = o.checkpoint;
  r.layers = checkpoint_spectra(sd, o.spectra);
  r.summary = summarize_spectra(r.layers);
  if (o.out.empty()) return r;
  AtomicDir out_dir(o.out);  // a failure midway leaves o.out as it was
  const fs::path esd = fs::path(out_dir.staging()) / "esd";
  make_output_dir(esd.string());
  const std::vector<std::string> stems = file_stems(r.layers);
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const fs::path file = esd / (stems[i] + "." + figure_extension(format));
    write_file_atomic(file.string(), esd_figure(r.layers[i], o.format));
    r.figures.push_back(out_dir.final_path(file.string()));
  }
  r.json = spectra_json(r, true).dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
  write_file_atomic((fs::path(out_dir.staging()) / "spectra.json").string(), r.json + "\n");
  out_dir.commit();
  return r;
}

std::string add_series_spectra(SeriesSpectra& series, const StateDict& sd,
                               const SpectraOptions& options) {
  std::vector<LayerSpectrum> layers;
  try {
    layers = checkpoint_spectra(sd, options);
  } catch (const Error& e) {  // a diverged checkpoint: its row stays empty, the series goes on
    series.alpha.emplace_back(series.layers.size());
    return e.what();
  }
  if (series.layers.empty()) {
    for (const LayerSpectrum& l : layers) series.layers.push_back(l.name);
    for (auto& row : series.alpha) row.resize(series.layers.size());  // rows before any layer
  }
  std::vector<std::optional<double>> row(series.layers.size());
  for (const LayerSpectrum& l : layers)
    for (size_t k = 0; k < series.layers.size(); ++k)
      if (series.layers[k] == l.name && l.fit.ok) row[k] = l.fit.alpha;
  series.alpha.push_back(std::move(row));
  return "";
}

}  // namespace cnnscope::app
