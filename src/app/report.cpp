// write_report (see report.h): gathers every part of the page into ReportContent and hands it to
// export/html_report. Spec: the `report` section of docs/DESIGN.md.
#include "app/report.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include "app/feature_maps.h"
#include "app/labels.h"
#include "app/layers_html.h"
#include "app/network_input.h"
#include "app/predictions.h"
#include "app/scan_html.h"
#include "app/scan_json.h"
#include "app/summary.h"
#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/text.h"
#include "export/html_report.h"
#include "export/tensorboard.h"
#include "image/input.h"
#include "models/network.h"
#include "render/canvas.h"
#include "render/filter_mosaic.h"
#include "stats/tensor_stats.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

constexpr int kFigureMaxWidth = 1100;  // feature grids fit the page's column
constexpr int kFigureMaxHeight = 900;
constexpr int kFilterKernels = 64;  // first-layer filters shown

// Statistics and histogram rows of every tensor but the BatchNorm step counters.
void add_weights(const StateDict& sd, int bins, ReportContent& c, EventWriter* tb) {
  std::string table = "| tensor | shape | mean | std | min | max |\n|---|---|---|---|---|---|\n";
  for (const NamedTensor& t : sd.tensors) {
    if (is_batch_counter(t.name)) {
      c.notes.push_back(t.name + ": left out (a BatchNorm step counter, as in the seed)");
      continue;
    }
    const TensorStats s = compute_stats(t.tensor);
    ReportWeight w;
    w.name = t.name;
    w.dtype = s.dtype;
    w.shape = shape_text(s.shape);
    w.numel = s.numel;
    w.mean = s.has_values ? s.mean : NAN;
    w.std = s.std.value_or(NAN);
    w.min = s.has_values ? s.min : NAN;
    w.max = s.has_values ? s.max : NAN;
    if (s.has_values) {
      const Histogram h = histogram(t.tensor, bins);
      w.edges = h.edges;
      w.counts = h.counts;
      if (tb) tb->add_weight_histogram(t.name, t.tensor, h);
    } else {
      c.notes.push_back(t.name + ": no finite values, no histogram");
    }
    table += fmt::format("| {} | {} | {:.6g} | {:.6g} | {:.6g} | {:.6g} |\n", t.name, w.shape,
                         w.mean, w.std, w.min, w.max);
    c.weights.push_back(std::move(w));
  }
  if (tb) tb->add_text("weights/statistics", table);
}

// The first convolution's kernels: the network's first Conv2d, else the first conv weight.
void add_filters(const StateDict& sd, const models::Network* net, ReportContent& c,
                 EventWriter* tb) {
  std::string key;
  if (net)
    for (const models::TapInfo& t : net->taps())
      if (t.type == "Conv2d" && sd.find(t.name + ".weight")) {
        key = t.name + ".weight";
        break;
      }
  if (key.empty())
    if (const NamedTensor* first = first_conv_weight(sd)) key = first->name;
  if (key.empty()) return;
  FilterMosaicOptions options;
  options.title = key;
  options.max_kernels = kFilterKernels;
  try {
    ReportFigure f{key, "image/png", filter_mosaic(*sd.find(key), options, FigureFormat::kPng)};
    if (tb) tb->add_image("filters/" + key, f.bytes);
    c.filters.push_back(std::move(f));
  } catch (const Error& e) {
    c.notes.push_back("filters of " + key + " not drawn: " + e.what());
  }
}

// The summary at the size `preprocess` makes.
void add_summary(const models::Network& net, const PreprocessOptions& preprocess,
                 ReportContent& c) {
  const Summary s = summarize(net, input_size_of(preprocess));
  c.input_shape = shape_text(s.input_shape);
  for (const SummaryRow& row : s.rows)
    c.layers.push_back({row.tap->name, row.tap->type,
                        row.ran ? shape_text(row.output_shape) : "(no tensor)", row.tap->params,
                        row.tap->depth});
}

struct ImageRun {
  const ReportOptions* options;
  const models::Network* net;  // nullptr: not in the zoo, only the input picture is shown
  PreprocessOptions preprocess;
  std::vector<std::string> layers;
  std::vector<std::string> labels;
};

// Fills `img` as far as it gets; throws Error at the first failure (the caller keeps what was
// filled before it, e.g. the input picture when the forward fails).
void report_image(const ImageRun& run, const std::string& path, int64_t step, EventWriter* tb,
                  ReportImage& img) {
  const std::string name = fs::path(path).filename().string();
  const Input input = load_input_with_picture(path, run.preprocess);
  img.preprocessing = "as the network saw it (" + run.preprocess.name +
                      "): " + shape_text(input.picture.sizes()) + " after resize and crop";
  const at::Tensor picture = input.picture.contiguous();  // [H, W, 3] uint8
  img.input = {"input " + name, "image/png",
               encode_png(picture.data_ptr<uint8_t>(), static_cast<int>(picture.size(1)),
                          static_cast<int>(picture.size(0)))};
  if (tb) tb->add_image("input/" + name, img.input.bytes, step);
  if (!run.net) return;
  const models::ForwardResult r = run.net->run(input.tensor.unsqueeze(0), run.layers);  // [1,C,H,W]
  for (const Prediction& p : predict_top(r.logits[0], run.options->topk, run.labels).top)
    img.predictions.push_back({p.index, run.labels.empty() ? "" : p.label, p.probability});
  for (const NamedTensor& tap : r.taps) {
    const at::Tensor activation =
        feature_maps(tap.tensor, tap.name, run.net->info().arch, "")[0];  // [C, H, W]
    FeatureGridOptions grid;
    grid.layer = tap.name;
    grid.image = name;
    grid.colormap = run.options->cmap;
    grid.max_width = kFigureMaxWidth;
    grid.max_height = kFigureMaxHeight;
    for (int64_t ch = 0; ch < std::min<int64_t>(run.options->channels, activation.size(0)); ++ch)
      grid.channels.push_back(ch);
    img.feature_maps.push_back(
        {tap.name, "image/png", render_feature_grid(activation, grid, FigureFormat::kPng)});
    if (tb) tb->add_image("features/" + name + "/" + tap.name, img.feature_maps.back().bytes, step);
  }
}

}  // namespace

ReportResult write_report(const ReportOptions& o,
                          const std::function<void(const std::string&)>& on_warning,
                          const StepFn& on_step) {
  check_bins(o.bins);
  if (o.topk < 1) fail("", "top classes listed must be at least 1, got " + std::to_string(o.topk));
  if (o.channels < 1)
    fail("", "channels per figure must be at least 1, got " + std::to_string(o.channels));
  const auto warn = [&](const std::string& m) {
    if (on_warning) on_warning(m);
  };
  const int64_t total = static_cast<int64_t>(o.images.size()) + 2;
  const auto step = [&](const std::string& what) {
    if (on_step) on_step(total, what);
  };
  for (const std::string& image : o.images) register_input(image);
  std::optional<ScanResult> scan;  // read first: a bad --scan fails before any work
  if (!o.scan.empty()) scan = read_scan_json((fs::path(o.scan) / "scan.json").string());
  std::optional<SimilarityResult> similarity;  // a `similarity` folder, or an `evolve` one
  std::optional<EvolveLayers> series;
  if (!o.similarity.empty()) {
    const fs::path matrix = fs::path(o.similarity) / "similarity.json";
    const fs::path layers = fs::path(o.similarity) / "layers.json";
    std::error_code ec;
    const bool has_matrix = fs::exists(matrix, ec), has_layers = fs::exists(layers, ec);
    if (!has_matrix && !has_layers)
      fail(o.similarity, "holds neither similarity.json nor layers.json",
           "give a folder that `similarity` or `evolve` wrote");
    if (has_matrix)
      similarity = read_similarity_json(matrix.string());
    else
      series = read_evolve_layers_json(layers.string());
  }
  const StateDict sd = load_state_dict(o.checkpoint);

  ReportContent c;
  c.checkpoint = sd.file;
  c.format = sd.format;
  c.generator = std::string("cnnscope ") + CNNSCOPE_VERSION;
  std::unique_ptr<EventWriter> tb;
  if (!o.tensorboard.empty()) {
    EventWriterOptions options;
    options.dir = o.tensorboard;
    tb = std::make_unique<EventWriter>(options);
  }

  std::optional<models::Network> net;
  try {
    net = models::build_network(sd, {o.arch, o.transform_input});
  } catch (const Error& e) {
    c.no_features_reason = std::string("No architecture, feature maps or predictions: ") + e.what();
    if (!o.images.empty()) warn(c.no_features_reason);
  }
  ImageRun run{&o, net ? &*net : nullptr, {}, {}, {}};
  if (net) {
    const models::ArchInfo& info = net->info();
    c.arch = info.description.empty() ? info.arch : info.description;
    c.params = net->num_parameters();
    c.num_classes = info.num_classes;
    run.preprocess = network_preprocess(o.preprocess, info);
    add_summary(*net, run.preprocess, c);
    run.layers = net->select_layers(o.layers);
    run.labels = labels_or_run(o.classes, info);
    if (tb) tb->add_scalar("model/parameters", static_cast<float>(c.params));
  } else {
    run.preprocess = resolve_preprocess(o.preprocess, "imagenet");
  }
  step("summary");
  add_weights(sd, o.bins, c, tb.get());
  add_filters(sd, net ? &*net : nullptr, c, tb.get());
  step("weights");
  int64_t index = 0;
  for (const std::string& path : o.images) {
    ReportImage img;
    img.source = path;
    try {
      report_image(run, path, index, tb.get(), img);
    } catch (const Error& e) {
      img.error = e.what();
      img.feature_maps.clear();
      img.predictions.clear();
      warn(img.error);
    }
    c.images.push_back(std::move(img));
    ++index;
    step(fs::path(path).filename().string());
  }

  if (scan) c.dataset_html = scan_report_html(*scan, o.scan);
  if (o.spectra) {
    try {
      const std::vector<LayerSpectrum> layers = checkpoint_spectra(sd, {});
      c.layers_html = spectra_report_html(layers, summarize_spectra(layers));
    } catch (const Error& e) {
      c.layers_html = "<p class=\"error\">" + html_escape(e.what()) + "</p>";
      warn(e.what());
    }
  }
  if (similarity) c.layers_html += similarity_report_html(*similarity, o.similarity);
  if (series) c.layers_html += series_report_html(*series, o.similarity);
  write_html_report(o.out, c);
  return {o.out, tb ? tb->close() : ""};
}

}  // namespace cnnscope::app
