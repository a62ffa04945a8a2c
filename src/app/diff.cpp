// diff_checkpoints (see diff.h). Figures: `<plots>/<layer>.<ext>` (one overlaid panel per tensor
// of the layer, A and B on bins spanning both) and `<plots>/relative_change.<ext>`.
// Spec: the `diff` section of docs/DESIGN.md.
#include "app/diff.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/parallel.h"
#include "export/stats_table.h"
#include "render/chart.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

// The names that `globs` select in A or in B; a glob must match in at least one of them.
std::set<std::string> selected(const StateDict& a, const StateDict& b,
                               const std::vector<std::string>& globs) {
  StateDict both;
  both.file = a.file + " or " + b.file;
  std::set<std::string> seen;
  for (const StateDict* sd : {&a, &b})
    for (const NamedTensor& t : sd->tensors)
      if (seen.insert(t.name).second) both.tensors.push_back(t);
  std::set<std::string> out;
  for (const NamedTensor* t : match_keys(both, globs)) out.insert(t->name);
  return out;
}

// Finite min/max of both tensors in float64 (0..1 when neither has a finite value).
HistogramRange shared_range(const at::Tensor& a, const at::Tensor& b) {
  double lo = INFINITY, hi = -INFINITY;
  for (const at::Tensor* t : {&a, &b}) {
    const at::Tensor x = t->to(at::kDouble).reshape({-1});  // [numel]
    const at::Tensor finite = x.masked_select(x.isfinite());
    if (finite.numel() == 0) continue;
    lo = std::min(lo, finite.min().item<double>());
    hi = std::max(hi, finite.max().item<double>());
  }
  return lo <= hi ? HistogramRange{lo, hi} : HistogramRange{0, 1};
}

std::string figure_name(const std::string& dir, std::string stem, FigureFormat format) {
  std::replace(stem.begin(), stem.end(), '/', '_');
  return (fs::path(dir) / (stem + "." + figure_extension(format))).string();
}

size_t write_plots(const DiffOptions& o, const StateDict& a, const StateDict& b,
                   const DiffResult& r) {
  const FigureFormat format = parse_figure_format(o.format);
  AtomicDir out_dir(o.plots);       // a failure midway leaves o.plots as it was
  std::vector<std::string> layers;  // in order of first appearance
  std::map<std::string, std::vector<const DiffEntry*>> by_layer;
  for (const DiffEntry& e : r.tensors) {
    const std::string layer = layer_of(e.name);
    if (!by_layer.count(layer)) layers.push_back(layer);
    by_layer[layer].push_back(&e);
  }
  const std::string label_a = "A: " + fs::path(a.file).filename().string();
  const std::string label_b = "B: " + fs::path(b.file).filename().string();
  for_each_parallel(layers.size(), [&](size_t i) {
    std::vector<HistogramSet> sets;
    for (const DiffEntry* e : by_layer[layers[i]]) {
      const at::Tensor& ta = *a.find(e->name);
      const at::Tensor& tb = *b.find(e->name);
      const HistogramRange range = shared_range(ta, tb);
      const Histogram ha = histogram_in_range(ta, o.bins, range);
      const Histogram hb = histogram_in_range(tb, o.bins, range);
      sets.push_back({e->name, ha.edges, {ha.counts, hb.counts}, {label_a, label_b}});
    }
    write_file_atomic(figure_name(out_dir.staging(), layers[i], format),
                      overlay_histograms(layers[i] + ": A vs B", sets, format));
  });
  if (r.tensors.empty()) {
    out_dir.commit();
    return layers.size();
  }
  std::vector<std::string> names;
  std::vector<double> values;
  for (const DiffEntry& e : r.tensors) {
    names.push_back(e.name);
    values.push_back(e.diff.rel_change.value_or(NAN));
  }
  BarChartOptions bars;
  bars.title = "relative change \u2016B\u2212A\u2016/\u2016A\u2016 per tensor";
  bars.value_label = "relative change";
  write_file_atomic(figure_name(out_dir.staging(), "relative_change", format),
                    bar_chart(names, values, bars, format));
  out_dir.commit();
  return layers.size() + 1;
}

}  // namespace

DiffResult diff_checkpoints(const DiffOptions& o) {
  check_bins(o.bins);
  parse_figure_format(o.format);
  const StateDict a = load_state_dict(o.a);
  const StateDict b = load_state_dict(o.b);
  const std::set<std::string> wanted = selected(a, b, o.keys);
  DiffResult r;
  r.a = a.file;
  r.b = b.file;
  std::vector<std::pair<const NamedTensor*, const at::Tensor*>> pairs;
  for (const NamedTensor& t : a.tensors) {
    if (!wanted.count(t.name)) continue;
    const at::Tensor* other = b.find(t.name);
    if (!other) {
      r.only_in_a.push_back(t.name);
    } else if (!t.tensor.sizes().equals(other->sizes())) {
      r.shape_mismatch.push_back({t.name, t.tensor.sizes().vec(), other->sizes().vec()});
    } else {
      pairs.emplace_back(&t, other);
    }
  }
  for (const NamedTensor& t : b.tensors)
    if (wanted.count(t.name) && !a.find(t.name)) r.only_in_b.push_back(t.name);
  r.tensors.resize(pairs.size());
  for_each_parallel(pairs.size(), [&](size_t i) {
    const NamedTensor& t = *pairs[i].first;
    r.tensors[i] = {t.name, t.tensor.sizes().vec(), diff_tensors(t.tensor, *pairs[i].second)};
  });
  if (o.sort_by_change)
    std::stable_sort(r.tensors.begin(), r.tensors.end(), [](const auto& x, const auto& y) {
      return x.diff.rel_change.value_or(-1) > y.diff.rel_change.value_or(-1);
    });
  if (!o.plots.empty()) r.figures = write_plots(o, a, b, r);
  return r;
}

}  // namespace cnnscope::app
