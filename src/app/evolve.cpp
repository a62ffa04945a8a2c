// evolve_checkpoints and order_series (see evolve.h). Pass 1 (previous + current checkpoint):
// mean, std, L2, change from the previous, and each tensor's finite range over the series. Pass 2
// (first + current): change from the first, histograms on the shared range, filter frames,
// TensorBoard steps. Spectra asked for: each checkpoint's in pass 1; similarity asked for: the
// CKA series between the passes (app/similarity.h). Spec: the `evolve` section of
// docs/DESIGN.md; numpy float64 figures.
#include "app/evolve.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "app/run_folder.h"
#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/text.h"
#include "export/html_report.h"
#include "export/stats_table.h"
#include "export/tensorboard.h"
#include "render/apng.h"
#include "render/chart.h"
#include "render/filter_mosaic.h"
#include "stats/compare.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

bool is_checkpoint_file(const fs::path& p) {
  static const std::set<std::string> kExtensions{".pth", ".pt",  ".ckpt",
                                                 ".bin", ".tar", ".safetensors"};
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return kExtensions.count(ext) > 0;
}

// A training run's best.pth / last.pth: copies of epochs already in the series, left out of a
// folder (named as files they are taken).
bool is_run_summary(const fs::path& p) {
  const std::string name = p.filename().string();
  return name == kBestCheckpoint || name == kLastCheckpoint;
}

// The top-level `epoch` of a training checkpoint, if it holds an integer one.
std::optional<int64_t> epoch_of(const std::string& path) {
  for (const CheckpointEntry& e : load_checkpoint(path).entries) {
    if (e.path != "epoch" || e.tensor.defined()) continue;
    try {
      size_t used = 0;
      const int64_t v = std::stoll(e.value, &used);
      if (used == e.value.size()) return v;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

// The last run of digits in the file's stem ("epoch_12" -> 12).
std::optional<int64_t> number_in_name(const std::string& path) {
  const std::string stem = fs::path(path).stem().string();
  const size_t end = stem.find_last_of("0123456789");
  if (end == std::string::npos) return std::nullopt;
  size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(stem[begin - 1]))) --begin;
  try {
    return std::stoll(stem.substr(begin, end - begin + 1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

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

// TensorBoard scalars of checkpoint i: alpha/<layer>, cka_to_last/<layer>.
void add_layer_scalars(EventWriter& tb, const EvolveResult& r, size_t i) {
  const auto add = [&](const std::string& tag, const std::vector<std::string>& layers,
                       const std::vector<std::optional<double>>& row) {
    for (size_t l = 0; l < layers.size() && l < row.size(); ++l)
      if (row[l]) tb.add_scalar(tag + layers[l], static_cast<float>(*row[l]), r.steps[i]);
  };
  if (r.spectra && i < r.spectra->alpha.size())
    add("alpha/", r.spectra->layers, r.spectra->alpha[i]);
  if (r.similarity && i < r.similarity->values.size())
    add("cka_to_last/", r.similarity->layers, r.similarity->values[i]);
}

std::string fmt_opt(const std::optional<double>& v) {
  return v ? fmt::format("{:.4g}", *v) : "&ndash;";
}

std::string page(const EvolveOptions& o, const EvolveResult& r,
                 const std::vector<ReportFigure>& figures, const std::vector<ReportFigure>& frames,
                 const ReportFigure& animation) {
  std::string header = "<h1>cnnscope evolve</h1><p class=\"meta\">" +
                       std::to_string(r.checkpoints.size()) + " checkpoints, steps by " +
                       html_escape(r.step_source) + ": " + html_escape(r.checkpoints.front()) +
                       " &hellip; " + html_escape(r.checkpoints.back()) + "</p>";
  std::string main =
      "<section id=\"series\"><h2>Series</h2><div class=\"scroll\"><table>"
      "<thead><tr><th>step</th><th>checkpoint</th></tr></thead><tbody>";
  for (size_t i = 0; i < r.checkpoints.size(); ++i)
    main += "<tr><td class=\"num\">" + std::to_string(r.steps[i]) + "</td><td>" +
            html_escape(r.checkpoints[i]) + "</td></tr>";
  main += "</tbody></table></div></section>\n";
  if (!r.problems.empty()) {
    main += "<section id=\"problems\"><h2>Mismatches</h2><ul>";
    for (const std::string& p : r.problems)
      main += "<li class=\"error\">" + html_escape(p) + "</li>";
    main += "</ul></section>\n";
  }
  main += "<section id=\"drift\"><h2>Drift</h2>";
  for (const ReportFigure& f : figures)
    if (starts_with(f.title, "drift")) main += html_figure(f);
  main += "</section>\n";
  if (r.spectra || r.similarity) {
    main += "<section id=\"layers\"><h2>How the layers settled</h2>";
    for (const ReportFigure& f : figures)
      if (starts_with(f.title, "layers")) main += html_figure(f);
    main += "</section>\n";
  }
  main += "<section id=\"filters\"><h2>First-layer filters</h2>";
  if (!animation.bytes.empty()) main += html_figure(animation);
  main += "<div style=\"display:flex;flex-wrap:wrap;gap:8px\">";
  for (const ReportFigure& f : frames)
    main += "<figure style=\"width:220px\"><img src=\"data:image/png;base64," +
            base64_encode(f.bytes) + "\" alt=\"" + html_escape(f.title) + "\"><figcaption>" +
            html_escape(f.title) + "</figcaption></figure>";
  main +=
      "</div></section>\n<section id=\"tensors\"><h2>Tensors</h2><div class=\"scroll\"><table>"
      "<thead><tr><th>tensor</th><th>shape</th><th class=\"num\">L2 first</th>"
      "<th class=\"num\">L2 last</th><th class=\"num\">change from first (last)</th>"
      "</tr></thead><tbody>";
  for (const EvolveTensor& t : r.tensors)
    main += "<tr><td>" + html_escape(t.name) + "</td><td>" + shape_text(t.shape) +
            "</td><td class=\"num\">" + fmt_opt(t.l2.front()) + "</td><td class=\"num\">" +
            fmt_opt(t.l2.back()) + "</td><td class=\"num\">" +
            fmt_opt(t.rel_change_from_first.back()) + "</td></tr>";
  main += "</tbody></table></div>";
  for (const ReportFigure& f : figures)
    if (!starts_with(f.title, "drift") && !starts_with(f.title, "layers")) main += html_figure(f);
  main += "</section>\n";
  return html_document("cnnscope evolve: " + r.checkpoints.front(), header, main,
                       "Made by cnnscope " + std::string(CNNSCOPE_VERSION) +
                           ". Self-contained: no network access. Bins: " + std::to_string(o.bins) +
                           " shared across the series.");
}

}  // namespace

CheckpointSeries order_series(const std::vector<std::string>& inputs) {
  CheckpointSeries s;
  if (inputs.size() == 1 && fs::is_directory(inputs[0])) {
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(inputs[0], ec))
      if (e.is_regular_file() && is_checkpoint_file(e.path()) && !is_run_summary(e.path()))
        s.files.push_back(e.path().string());
    if (ec) fail(inputs[0], "cannot list the folder: " + ec.message());
    std::sort(s.files.begin(), s.files.end(), [](const std::string& a, const std::string& b) {
      return natural_less(fs::path(a).filename().string(), fs::path(b).filename().string());
    });
  } else {
    s.files = inputs;
  }
  if (s.files.size() < 2)
    fail(inputs.empty() ? "" : inputs[0],
         "a series needs at least two checkpoints, got " + std::to_string(s.files.size()),
         "give several files or a folder of .pth/.pt/.safetensors files");
  std::vector<std::optional<int64_t>> epochs, numbers;
  for (const std::string& f : s.files) {
    epochs.push_back(epoch_of(f));
    numbers.push_back(number_in_name(f));
  }
  const auto all = [](const auto& v) {
    return std::all_of(v.begin(), v.end(), [](const auto& x) { return x.has_value(); });
  };
  const std::vector<std::optional<int64_t>>* source = nullptr;
  if (all(epochs)) {
    source = &epochs;
    s.step_source = "epoch";
  } else if (all(numbers)) {
    source = &numbers;
    s.step_source = "file name";
  } else {
    s.step_source = "position";
  }
  for (size_t i = 0; i < s.files.size(); ++i)
    s.steps.push_back(source ? *(*source)[i] : static_cast<int64_t>(i));
  if (source == &epochs && inputs.size() == 1 && fs::is_directory(inputs[0])) {
    std::vector<size_t> order(s.files.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return s.steps[a] < s.steps[b]; });
    CheckpointSeries sorted{{}, {}, s.step_source};
    for (size_t i : order) {
      sorted.files.push_back(s.files[i]);
      sorted.steps.push_back(s.steps[i]);
    }
    s = std::move(sorted);
  }
  return s;
}

EvolveResult evolve_checkpoints(const EvolveOptions& o, const StepFn& on_step) {
  check_bins(o.bins);
  const FigureFormat format = parse_figure_format(o.format);
  if (o.frame_ms < 10 || o.frame_ms > 60000) fail("", "the frame time must be 10..60000 ms");
  if (!o.tensorboard.empty() && format != FigureFormat::kPng)
    fail("", "TensorBoard takes PNG figures, got " + o.format, "", {{"format", "png"}});
  const CheckpointSeries series = order_series(o.inputs);
  EvolveResult r;
  r.checkpoints = series.files;
  r.steps = series.steps;
  r.step_source = series.step_source;
  const size_t n = series.files.size();
  const auto step = [&](const std::string& what) {
    if (on_step) on_step(static_cast<int64_t>(2 * n), what);
  };

  if (o.spectra) r.spectra.emplace();
  // Pass 1: previous + current.
  std::vector<std::string> names;
  std::vector<HistogramRange> ranges;
  {
    StateDict previous;
    for (size_t i = 0; i < n; ++i) {
      StateDict current = load_state_dict(series.files[i]);
      if (i == 0) {
        for (const NamedTensor* t : match_keys(current, o.keys)) {
          if (is_batch_counter(t->name)) continue;
          names.push_back(t->name);
          EvolveTensor et;
          et.name = t->name;
          et.shape = t->tensor.sizes().vec();
          r.tensors.push_back(std::move(et));
        }
        if (names.empty())
          fail(current.file, "no tensors to follow", "only num_batches_tracked were selected");
        ranges.assign(names.size(), HistogramRange{INFINITY, -INFINITY});
      }
      std::vector<std::string> problems(names.size());
      for_each_parallel(names.size(), [&](size_t k) {
        EvolveTensor& et = r.tensors[k];
        const at::Tensor* t = current.find(names[k]);
        if (!t) {
          problems[k] = names[k] + ": missing in " + current.file;
          for (auto* v : {&et.mean, &et.std, &et.l2, &et.rel_change_from_previous})
            v->push_back(std::nullopt);
          return;
        }
        if (!t->sizes().equals(et.shape))
          problems[k] = names[k] + ": shape " + shape_text(t->sizes()) + " in " + current.file +
                        ", " + shape_text(et.shape) + " in the first";
        const Moments s = moments(*t);
        et.mean.push_back(s.mean);
        et.std.push_back(s.std);
        et.l2.push_back(s.l2);
        if (s.has_finite) {
          ranges[k].lo = std::min(ranges[k].lo, s.lo);
          ranges[k].hi = std::max(ranges[k].hi, s.hi);
        }
        const at::Tensor* before = i > 0 ? previous.find(names[k]) : nullptr;
        et.rel_change_from_previous.push_back(i == 0   ? std::optional<double>(0.0)
                                              : before ? relative_change(*before, *t)
                                                       : std::nullopt);
      });
      for (std::string& p : problems)
        if (!p.empty()) r.problems.push_back(std::move(p));
      if (r.spectra)
        if (std::string p = add_series_spectra(*r.spectra, current, {}); !p.empty())
          r.problems.push_back("spectra: " + p);
      previous = std::move(current);
      step(fs::path(series.files[i]).filename().string());
    }
  }
  for (HistogramRange& range : ranges)
    if (!(range.lo <= range.hi)) range = HistogramRange{0, 1};
  if (o.similarity)  // its steps follow the two passes' on the same bar
    r.similarity =
        series_similarity(series.files, *o.similarity, [&](int64_t total, const auto& w) {
          if (on_step) on_step(static_cast<int64_t>(2 * n) + total, w);
        });

  // Pass 2: first + current.
  std::unique_ptr<EventWriter> tb;
  if (!o.tensorboard.empty()) {
    EventWriterOptions options;
    options.dir = o.tensorboard;
    tb = std::make_unique<EventWriter>(options);
  }
  const StateDict first = load_state_dict(series.files[0]);
  const NamedTensor* conv = first_conv_weight(first);
  std::vector<ReportFigure> frames;
  for (size_t i = 0; i < n; ++i) {
    const StateDict loaded = i == 0 ? StateDict{} : load_state_dict(series.files[i]);
    const StateDict& current = i == 0 ? first : loaded;
    std::vector<Histogram> histograms(names.size());
    for_each_parallel(names.size(), [&](size_t k) {
      EvolveTensor& et = r.tensors[k];
      const at::Tensor* t = current.find(names[k]);
      if (!t) {
        et.rel_change_from_first.push_back(std::nullopt);
        et.counts.emplace_back(static_cast<size_t>(o.bins), 0);
        return;
      }
      et.rel_change_from_first.push_back(i == 0 ? std::optional<double>(0.0)
                                                : relative_change(*first.find(names[k]), *t));
      histograms[k] = histogram_in_range(*t, o.bins, ranges[k]);
      if (et.edges.empty()) et.edges = histograms[k].edges;
      et.counts.push_back(histograms[k].counts);
    });
    for (size_t k = 0; tb && k < names.size(); ++k) {
      const EvolveTensor& et = r.tensors[k];
      const at::Tensor* t = current.find(names[k]);
      if (!t || !et.l2[i]) continue;
      const Histogram& h = histograms[k];
      int64_t total = 0;
      for (int64_t c : h.counts) total += c;
      if (total > 0) tb->add_weight_histogram(names[k], *t, h, r.steps[i]);
      tb->add_scalar("l2/" + names[k], static_cast<float>(*et.l2[i]), r.steps[i]);
      if (et.rel_change_from_first[i])
        tb->add_scalar("rel_change_from_first/" + names[k],
                       static_cast<float>(*et.rel_change_from_first[i]), r.steps[i]);
    }
    if (tb) add_layer_scalars(*tb, r, i);
    if (conv && current.find(conv->name) &&
        current.find(conv->name)->sizes().equals(conv->tensor.sizes()) && (!o.out.empty() || tb)) {
      FilterMosaicOptions mosaic;
      mosaic.title = conv->name + "  (step " + std::to_string(r.steps[i]) + ")";
      ReportFigure frame{"step " + std::to_string(r.steps[i]), "image/png",
                         filter_mosaic(*current.find(conv->name), mosaic, FigureFormat::kPng)};
      if (tb) tb->add_image("filters/" + conv->name, frame.bytes, r.steps[i]);
      frames.push_back(std::move(frame));
    }
    step(fs::path(series.files[i]).filename().string());
  }
  if (tb) r.tensorboard = tb->close();
  if (o.out.empty()) return r;

  // Figures and the page.
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
  if (r.spectra)
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
    animation = {conv->name + " over the series (animated PNG)", "image/png",
                 assemble_apng(pngs, o.frame_ms)};
    write("filters.apng.png", animation.bytes);
  }
  // The page embeds PNG/SVG; a PDF figure cannot be shown inline, so PDF series get no page.
  if (format != FigureFormat::kPdf) {
    write_file_atomic((fs::path(staging) / "evolve.html").string(),
                      page(o, r, figures, frames, animation));
    r.html = (fs::path(o.out) / "evolve.html").string();
  }
  out_dir.commit();
  return r;
}

}  // namespace cnnscope::app
