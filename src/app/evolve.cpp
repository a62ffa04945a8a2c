// evolve_checkpoints (see evolve.h): the job in two streaming passes. Pass 1 (previous + current
// checkpoint): mean, std, L2, change from the previous, and each tensor's finite range over the
// series. Pass 2 (first + current): change from the first, histograms on the shared range, filter
// frames, TensorBoard steps. Spectra asked for: each checkpoint's in pass 1; similarity asked for:
// the CKA series between the passes (app/similarity.h). Leaves out: the series' order
// (evolve_series.cpp) and the output folder (evolve_outputs.h). Spec: the `evolve` section of
// docs/DESIGN.md; numpy float64 figures.
#include "app/evolve.h"

#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>

#include "app/evolve_outputs.h"
#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/text.h"
#include "export/html_report.h"
#include "export/stats_table.h"
#include "export/tensorboard.h"
#include "render/filter_mosaic.h"
#include "stats/compare.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

using CheckpointStep = std::function<void(const std::string&)>;  // one checkpoint done

struct FilterFrames {
  std::string conv;                  // the convolution's key, or ""
  std::vector<ReportFigure> frames;  // its filter mosaic per checkpoint that has it
};

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

// Pass 1 (previous + current checkpoint): the tensors to follow (named in the first), their
// moments, change from the previous checkpoint and finite range over the series; each
// checkpoint's spectra when asked for. Returns the ranges, one per tensor.
std::vector<HistogramRange> first_pass(const EvolveOptions& o, const CheckpointSeries& series,
                                       EvolveResult& r, const CheckpointStep& step) {
  std::vector<std::string> names;
  std::vector<HistogramRange> ranges;
  StateDict previous;
  for (size_t i = 0; i < series.files.size(); ++i) {
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
  for (HistogramRange& range : ranges)
    if (!(range.lo <= range.hi)) range = HistogramRange{0, 1};
  return ranges;
}

// Pass 2 (first + current checkpoint): change from the first, histograms on the shared ranges,
// TensorBoard steps, and the first convolution's filters per checkpoint as frames.
FilterFrames second_pass(const EvolveOptions& o, const CheckpointSeries& series,
                         const std::vector<HistogramRange>& ranges, EvolveResult& r,
                         const CheckpointStep& step) {
  const size_t n = series.files.size();
  std::vector<std::string> names;
  for (const EvolveTensor& et : r.tensors) names.push_back(et.name);
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
  return {conv ? conv->name : "", std::move(frames)};
}

}  // namespace

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
  const CheckpointStep step = [&](const std::string& what) {
    if (on_step) on_step(static_cast<int64_t>(2 * n), what);
  };
  if (o.spectra) r.spectra.emplace();
  const std::vector<HistogramRange> ranges = first_pass(o, series, r, step);
  if (o.similarity)  // its steps follow the two passes' on the same bar
    r.similarity =
        series_similarity(series.files, *o.similarity, [&](int64_t total, const auto& w) {
          if (on_step) on_step(static_cast<int64_t>(2 * n) + total, w);
        });
  const FilterFrames filters = second_pass(o, series, ranges, r, step);
  if (!o.out.empty()) write_evolve_outputs(o, r, filters.frames, filters.conv);
  return r;
}

}  // namespace cnnscope::app
