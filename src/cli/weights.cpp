// `cnnscope weights CKPT [--keys GLOB,...] [--bins N] [--json|--csv] [--plots DIR] [--format F]`:
// per-tensor statistics and numpy-exact histograms of a state_dict, as a table, JSON or CSV, and
// one histogram figure per tensor plus an overview sheet. Leaves out: num_batches_tracked (as the
// seed). Spec: DESIGN.md command-line contract and `weights` JSON shape.
#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <thread>

#include "checkpoint/state_dict.h"
#include "cli/command.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "export/stats_table.h"
#include "export/tensorboard.h"
#include "render/histogram_plot.h"

namespace cnnscope::cli {
namespace {

constexpr const char* kSkippedSuffix = "num_batches_tracked";
constexpr size_t kSimilarKeys = 5;
constexpr const char* kOverviewStem = "overview";

struct Args {
  std::string checkpoint;
  std::vector<std::string> keys;
  int bins = kDefaultHistogramBins;
  bool json = false;
  bool csv = false;
  std::string plots;
  std::string format = "png";
  std::string tensorboard;
};

bool skipped(const std::string& name) {
  const std::string tail =
      name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
  return tail == kSkippedSuffix;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The keys closest to `pattern` (wildcards dropped) by edit distance, for the no-match error.
std::string similar_keys(const std::string& pattern, const std::vector<NamedTensor>& tensors) {
  std::string plain;
  for (char c : pattern)
    if (c != '*' && c != '?' && c != '[' && c != ']') plain += c;
  std::vector<std::pair<size_t, std::string>> scored;
  for (const NamedTensor& t : tensors) scored.emplace_back(edit_distance(plain, t.name), t.name);
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (size_t i = 0; i < std::min(kSimilarKeys, scored.size()); ++i)
    out += (out.empty() ? "" : ", ") + scored[i].second;
  return out.empty() ? "the checkpoint holds no tensors" : "similar keys: " + out;
}

std::vector<const NamedTensor*> select(const StateDict& sd, const std::vector<std::string>& globs,
                                       std::vector<std::string>& left_out) {
  for (const std::string& glob : globs) {
    const bool any = std::any_of(sd.tensors.begin(), sd.tensors.end(), [&](const NamedTensor& t) {
      return fnmatch(glob.c_str(), t.name.c_str(), 0) == 0;
    });
    if (!any)
      fail(sd.file, "no tensor matches --keys '" + glob + "'", similar_keys(glob, sd.tensors));
  }
  std::vector<const NamedTensor*> chosen;
  for (const NamedTensor& t : sd.tensors) {
    const bool wanted =
        globs.empty() || std::any_of(globs.begin(), globs.end(), [&](const auto& g) {
          return fnmatch(g.c_str(), t.name.c_str(), 0) == 0;
        });
    if (!wanted) continue;
    if (skipped(t.name))
      left_out.push_back(t.name);
    else
      chosen.push_back(&t);
  }
  return chosen;
}

// Runs task(i) for i in [0, n) on up to hardware_concurrency threads, taking items in order;
// rethrows the first failure by index once all are done.
template <typename Task>
void for_each_parallel(size_t n, const Task& task) {
  std::vector<std::exception_ptr> errors(n);
  std::atomic<size_t> next{0};
  const auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) {
      try {
        task(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  const size_t threads = std::min<size_t>(n, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

// "<dir>/<key>.<ext>" with path separators in the key replaced; the overview's name stays free.
std::string figure_path(const std::string& dir, const std::string& key, const char* ext) {
  std::string stem = key;
  std::replace(stem.begin(), stem.end(), '/', '_');
  if (stem == kOverviewStem) stem += ".tensor";
  return (std::filesystem::path(dir) / (stem + "." + ext)).string();
}

// Writes one figure per floating tensor and the overview sheet; returns the number of files.
size_t write_plots(const WeightsReport& report, const std::string& dir, FigureFormat format) {
  make_output_dir(dir);
  std::vector<HistogramPanel> panels;
  for (const TensorReport& t : report.tensors) {
    if (!t.stats.floating || t.stats.numel == 0) continue;  // integer tensors: listed, not plotted
    panels.push_back({t.name, t.stats, t.histogram});
  }
  for_each_parallel(panels.size(), [&](size_t i) {
    write_file_atomic(figure_path(dir, panels[i].title, figure_extension(format)),
                      histogram_figure(panels[i], format));
  });
  if (panels.empty()) return 0;
  OverviewOptions overview;
  overview.title = std::filesystem::path(report.file).filename().string() + ": " +
                   std::to_string(panels.size()) + " weight histograms";
  write_file_atomic(
      (std::filesystem::path(dir) / (std::string(kOverviewStem) + "." + figure_extension(format)))
          .string(),
      histogram_overview(panels, overview, format));
  return panels.size() + 1;
}

void run(const Args& a) {
  if (a.bins < 1)
    fail("", "--bins must be at least 1, got " + std::to_string(a.bins), "the default is 50");
  const FigureFormat format = parse_figure_format(a.format);
  const StateDict sd = load_state_dict(a.checkpoint);
  WeightsReport report;
  report.file = sd.file;
  report.format = sd.format;
  report.bins = a.bins;
  const std::vector<const NamedTensor*> chosen = select(sd, a.keys, report.skipped);
  report.tensors.resize(chosen.size());
  for_each_parallel(chosen.size(), [&](size_t i) {
    const NamedTensor& t = *chosen[i];
    try {
      report.tensors[i] = {t.name, compute_stats(t.tensor), histogram(t.tensor, a.bins)};
    } catch (const Error& e) {
      fail(sd.file, "tensor '" + t.name + "': " + e.what());
    }
  });
  if (report.tensors.empty())
    fail(sd.file, "no tensors to report", "only num_batches_tracked counters were selected");
  size_t figures = 0;
  if (!a.plots.empty()) figures = write_plots(report, a.plots, format);

  if (a.json) {
    std::cout << weights_json(report).dump() << "\n";
  } else if (a.csv) {
    std::cout << weights_csv(report);
  } else {
    std::cout << weights_table(report);
  }
  if (!a.plots.empty())
    (a.json || a.csv ? std::cerr : std::cout)
        << "plots: " << figures << " figures in " << a.plots << "\n";
  if (!a.tensorboard.empty()) {
    EventWriterOptions options;
    options.dir = a.tensorboard;
    EventWriter tb(options);
    for (const TensorReport& t : report.tensors)
      if (t.stats.has_values)
        tb.add_histogram("weights/" + t.name,
                         histogram_summary(*sd.find(t.name), t.histogram.edges,
                                           {t.histogram.counts.begin(), t.histogram.counts.end()}));
    std::cerr << "tensorboard: " << tb.close() << "\n";
  }
}

std::function<void()> setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  sub.add_option("checkpoint", args->checkpoint, "state_dict file (.pth, .safetensors)")
      ->required();
  sub.add_option("--keys", args->keys, "only tensors whose key matches one of these globs")
      ->delimiter(',');
  sub.add_option("--bins", args->bins, "histogram bins (numpy.histogram's)")->capture_default_str();
  auto* json = sub.add_flag("--json", args->json, "one JSON document on stdout");
  sub.add_flag("--csv", args->csv, "CSV on stdout")->excludes(json);
  sub.add_option("--plots", args->plots, "write one histogram per tensor + overview here");
  sub.add_option("--tensorboard", args->tensorboard, "also write TensorBoard histograms here");
  sub.add_option("--format", args->format, "figure format: png, svg or pdf")->capture_default_str();
  return [args] { run(*args); };
}

const Register reg{
    {"weights", "per-tensor statistics and histograms of a checkpoint (table, JSON, CSV, plots)",
     setup, 60}};

}  // namespace
}  // namespace cnnscope::cli
