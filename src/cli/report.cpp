// `cnnscope report CKPT [--image IMG]... [-o report.html] [--tensorboard DIR]`: one self-contained
// HTML page (architecture, weight table with histograms, first-layer filters, per image the input
// as the network saw it, predictions and feature maps) and optionally TensorBoard event files.
// A checkpoint outside the zoo still gets its weights part; a bad image is reported, not fatal.
// Spec: DESIGN.md command-line contract, issue 7.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "checkpoint/dtype.h"
#include "checkpoint/state_dict.h"
#include "cli/command.h"
#include "cli/labels.h"
#include "cli/preprocess_flags.h"
#include "cli/progress.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "export/html_report.h"
#include "export/tensorboard.h"
#include "image/input.h"
#include "models/network.h"
#include "render/canvas.h"
#include "render/feature_grid.h"
#include "render/filter_mosaic.h"
#include "stats/histogram.h"
#include "stats/tensor_stats.h"

namespace cnnscope::cli {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDefaultTopK = 5;
constexpr int64_t kSummaryInputSize = 224;
constexpr int kFigureMaxWidth = 1100;  // feature grids fit the page's column
constexpr int kFigureMaxHeight = 900;
constexpr int kFilterKernels = 64;  // first-layer filters shown
constexpr const char* kSkippedSuffix = ".num_batches_tracked";

struct Args {
  std::string checkpoint;
  std::vector<std::string> images;
  std::string out = "report.html";
  std::string tensorboard;
  std::string arch;
  PreprocessFlags preprocess;
  std::string layers;
  std::string classes;
  int64_t topk = kDefaultTopK;
  int64_t channels = kDefaultFeatureChannels;
  std::string cmap = "viridis";
  int bins = kDefaultHistogramBins;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

void warn(const std::string& message) {
  std::fprintf(stderr, "cnnscope: warning: %s\n", message.substr(0, message.find('\n')).c_str());
}

// The picture [H, W, 3] uint8 RGB as PNG bytes, through a cairo image surface.
std::string picture_png(const at::Tensor& picture) {
  const int h = static_cast<int>(picture.size(0)), w = static_cast<int>(picture.size(1));
  Canvas canvas(w, h, FigureFormat::kPng);
  cairo_surface_t* image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_surface_flush(image);
  const at::Tensor rgb = picture.contiguous();  // [H, W, 3]
  const uint8_t* src = rgb.data_ptr<uint8_t>();
  unsigned char* dst = cairo_image_surface_get_data(image);
  const int stride = cairo_image_surface_get_stride(image);
  for (int y = 0; y < h; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(dst + static_cast<ptrdiff_t>(y) * stride);
    for (int x = 0; x < w; ++x) {
      const uint8_t* p = src + (static_cast<ptrdiff_t>(y) * w + x) * 3;
      row[x] = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
    }
  }
  cairo_surface_mark_dirty(image);
  cairo_set_source_surface(canvas.cr(), image, 0, 0);
  cairo_paint(canvas.cr());
  cairo_surface_destroy(image);
  return canvas.finish();
}

// Statistics and histogram rows of every tensor but the num_batches_tracked counters.
void add_weights(const StateDict& sd, int bins, ReportContent& c, EventWriter* tb) {
  std::string table = "| tensor | shape | mean | std | min | max |\n|---|---|---|---|---|---|\n";
  for (const NamedTensor& t : sd.tensors) {
    if (ends_with("." + t.name, kSkippedSuffix)) {
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
      if (tb) {
        tb->add_histogram("weights/" + t.name,
                          histogram_summary(t.tensor, h.edges, {h.counts.begin(), h.counts.end()}));
      }
    } else {
      c.notes.push_back(t.name + ": no finite values, no histogram");
    }
    table += fmt::format("| {} | {} | {:.6g} | {:.6g} | {:.6g} | {:.6g} |\n", t.name, w.shape,
                         w.mean, w.std, w.min, w.max);
    c.weights.push_back(std::move(w));
  }
  if (tb) tb->add_text("weights/statistics", table);
}

// The first convolution's kernels: the network's first Conv2d, else the first 4-D float tensor.
void add_filters(const StateDict& sd, const models::Network* net, ReportContent& c,
                 EventWriter* tb) {
  std::string key;
  if (net) {
    for (const models::TapInfo& t : net->taps())
      if (t.type == "Conv2d" && sd.find(t.name + ".weight")) {
        key = t.name + ".weight";
        break;
      }
  }
  if (key.empty())
    for (const NamedTensor& t : sd.tensors)
      if (t.tensor.dim() == 4 && at::isFloatingType(t.tensor.scalar_type())) {
        key = t.name;
        break;
      }
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

void add_summary(const models::Network& net, ReportContent& c) {
  const auto& taps = net.taps();
  std::vector<std::string> names;
  for (const models::TapInfo& t : taps) names.push_back(t.name);
  const std::vector<int64_t> input_shape{1, 3, kSummaryInputSize, kSummaryInputSize};
  models::ForwardResult r = net.run(at::zeros(input_shape), names);  // [1, 3, 224, 224]
  c.input_shape = shape_text(input_shape);
  for (size_t i = 0; i < taps.size(); ++i)
    c.layers.push_back({taps[i].name, taps[i].type, shape_text(r.taps[i].tensor.sizes().vec()),
                        taps[i].params, taps[i].depth});
}

struct ImageRun {
  const models::Network* net;
  PreprocessOptions preprocess;
  std::vector<std::string> layers;
  std::vector<std::string> labels;
};

ReportImage report_image(const Args& a, const ImageRun& run, const std::string& path, int64_t step,
                         EventWriter* tb) {
  ReportImage img;
  img.source = path;
  const std::string name = fs::path(path).filename().string();
  try {
    const Input input = load_input_with_picture(path, run.preprocess);
    img.preprocessing = "as the network saw it (" + run.preprocess.name +
                        "): " + shape_text(input.picture.sizes().vec()) + " after resize and crop";
    img.input = {"input " + name, "image/png", picture_png(input.picture)};
    if (tb) tb->add_image("input/" + name, img.input.bytes, step);
    if (!run.net) return img;
    models::ForwardResult r = run.net->run(input.tensor.unsqueeze(0), run.layers);     // [1,3,H,W]
    const at::Tensor probs = torch::softmax(r.logits[0], 0);                           // [classes]
    const auto [top_p, top_i] = probs.topk(std::min<int64_t>(a.topk, probs.size(0)));  // [k]
    for (int64_t j = 0; j < top_p.size(0); ++j) {
      const int64_t i = top_i[j].item<int64_t>();
      img.predictions.push_back(
          {i, run.labels.empty() ? "" : run.labels[i], top_p[j].item<double>()});
    }
    for (const NamedTensor& tap : r.taps) {
      const at::Tensor activation = tap.tensor[0];  // [C, H, W]
      FeatureGridOptions grid;
      grid.layer = tap.name;
      grid.image = name;
      grid.colormap = a.cmap;
      grid.max_width = kFigureMaxWidth;
      grid.max_height = kFigureMaxHeight;
      for (int64_t ch = 0; ch < std::min<int64_t>(a.channels, activation.size(0)); ++ch)
        grid.channels.push_back(ch);
      img.feature_maps.push_back(
          {tap.name, "image/png", render_feature_grid(activation, grid, FigureFormat::kPng)});
      if (tb)
        tb->add_image("features/" + name + "/" + tap.name, img.feature_maps.back().bytes, step);
    }
  } catch (const Error& e) {
    img.error = e.what();
    img.feature_maps.clear();
    img.predictions.clear();
    warn(img.error);
  }
  return img;
}

void run(const Args& a) {
  if (a.bins < 1) fail("", "--bins must be at least 1, got " + std::to_string(a.bins));
  if (a.topk < 1) fail("", "--topk must be at least 1, got " + std::to_string(a.topk));
  if (a.channels < 1) fail("", "--channels must be at least 1, got " + std::to_string(a.channels));
  register_input(a.checkpoint);
  for (const std::string& image : a.images) register_input(image);
  const StateDict sd = load_state_dict(a.checkpoint);

  ReportContent c;
  c.checkpoint = sd.file;
  c.format = sd.format;
  c.generator = std::string("cnnscope ") + CNNSCOPE_VERSION;
  std::unique_ptr<EventWriter> tb;
  if (!a.tensorboard.empty()) {
    EventWriterOptions options;
    options.dir = a.tensorboard;
    tb = std::make_unique<EventWriter>(options);
  }

  std::optional<models::Network> net;
  try {
    net = models::build_network(sd, {a.arch});
  } catch (const Error& e) {
    c.no_features_reason = std::string("No architecture, feature maps or predictions: ") + e.what();
    if (!a.images.empty()) warn(c.no_features_reason);
  }
  Progress progress("report", static_cast<int64_t>(a.images.size()) + 2);
  ImageRun image_run{net ? &*net : nullptr, {}, {}, {}};
  if (net) {
    const models::ArchInfo& info = net->info();
    c.arch = info.description.empty() ? info.arch : info.description;
    c.params = net->num_parameters();
    c.num_classes = info.num_classes;
    add_summary(*net, c);
    image_run.layers = net->select_layers(a.layers);
    image_run.preprocess = resolve_preprocess(a.preprocess, info.default_preset);
    if (!a.classes.empty()) image_run.labels = read_labels(a.classes, info.num_classes);
    if (tb) tb->add_scalar("model/parameters", static_cast<float>(c.params));
  } else {
    image_run.preprocess = resolve_preprocess(a.preprocess, "imagenet");
  }
  progress.step("summary");
  add_weights(sd, a.bins, c, tb.get());
  add_filters(sd, net ? &*net : nullptr, c, tb.get());
  progress.step("weights");
  int64_t step = 0;
  for (const std::string& path : a.images) {
    c.images.push_back(report_image(a, image_run, path, step++, tb.get()));
    progress.step(fs::path(path).filename().string());
  }

  write_html_report(a.out, c);
  std::printf("report: %s\n", a.out.c_str());
  if (tb) std::printf("tensorboard: %s\n", tb->close().c_str());
}

std::function<void()> setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  sub.add_option("checkpoint", args->checkpoint, "checkpoint (.pth, .safetensors)")->required();
  sub.add_option("--image", args->images, "JPEG, PNG or .npy tensor; repeat for several");
  sub.add_option("-o,--out", args->out, "HTML file to write (default report.html)");
  sub.add_option("--tensorboard", args->tensorboard,
                 "also write TensorBoard event files into this folder");
  sub.add_option("--arch", args->arch, "network (default: detected from the keys)");
  add_preprocess_flags(sub, args->preprocess);
  sub.add_option("--layers", args->layers, "feature-map layers: L1,L2 | all (default: per model)");
  sub.add_option("--classes", args->classes,
                 "labels: {\"0\": \"daisy\", ...} JSON or one per line");
  sub.add_option("--topk", args->topk, "predictions listed per image (default 5)");
  sub.add_option("--channels", args->channels, "feature-map channels per layer (default 12)");
  sub.add_option("--cmap", args->cmap, "feature-map colormap (default viridis)");
  sub.add_option("--bins", args->bins, "histogram bins (default 50)");
  return [args] { run(*args); };
}

const Register reg{
    {"report", "one self-contained HTML page (and TensorBoard files) for a checkpoint", setup, 90}};

}  // namespace
}  // namespace cnnscope::cli
