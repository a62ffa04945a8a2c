// `cnnscope features CKPT --image IMG...`: runs images (batched) through the network, captures the
// chosen layers and writes one grid figure per image and layer, optionally the activations as .npy
// and per-layer/per-channel statistics as JSON. Spec: DESIGN.md command-line contract, issue 5.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "checkpoint/state_dict.h"
#include "cli/command.h"
#include "cli/preprocess_flags.h"
#include "cli/progress.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "export/npy.h"
#include "export/tensorboard.h"
#include "image/input.h"
#include "models/network.h"
#include "render/colormap.h"
#include "render/feature_grid.h"
#include "stats/activation_stats.h"

namespace cnnscope::cli {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDefaultBatch = 8;
constexpr int64_t kMaxBatch = 256;
constexpr const char* kDefaultOut = "features";

struct Args {
  std::string checkpoint;
  std::vector<std::string> images;
  std::string arch;
  PreprocessFlags preprocess;
  std::string layers;
  int64_t channels = kDefaultFeatureChannels;
  std::string pick = "first";
  std::string cmap = "viridis";
  std::string scale = "channel";
  std::string format = "png";
  bool npy = false;
  bool json = false;
  int64_t batch = kDefaultBatch;
  std::string out = kDefaultOut;
  std::string tensorboard;
};

// One input image and where its outputs go.
struct Job {
  std::string path;
  std::string name;     // file name, for titles
  std::string out_dir;  // <out> for a single image, <out>/<stem> for several
};

bool is_input_file(const fs::path& p) {
  std::string ext = p.extension().string();
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".npy";
}

// --image values: files as given, folders as their JPEG/PNG/.npy files in name order.
std::vector<std::string> expand_images(const std::vector<std::string>& given) {
  std::vector<std::string> files;
  for (const std::string& g : given) {
    std::error_code ec;
    if (!fs::is_directory(g, ec)) {
      files.push_back(g);
      continue;
    }
    std::vector<std::string> found;
    for (const fs::directory_entry& e : fs::directory_iterator(g, ec))
      if (e.is_regular_file() && is_input_file(e.path())) found.push_back(e.path().string());
    if (ec) fail(g, "cannot list the folder: " + ec.message());
    if (found.empty()) fail(g, "folder holds no .jpg, .jpeg, .png or .npy files");
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

// Output folders: one image writes into <out>; several each into <out>/<stem>, with -2, -3...
// appended when two images share a stem, so nothing collides.
std::vector<Job> plan_jobs(const std::vector<std::string>& files, const std::string& out) {
  std::vector<Job> jobs;
  std::map<std::string, int> seen;
  for (const std::string& f : files) {
    const fs::path p(f);
    Job job{f, p.filename().string(), out};
    if (files.size() > 1) {
      std::string stem = p.stem().string();
      if (stem.empty()) stem = "image";
      const int n = ++seen[stem];
      if (n > 1) stem += "-" + std::to_string(n);
      job.out_dir = (fs::path(out) / stem).string();
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

nlohmann::ordered_json stats_json(const ValueStats& s) {
  return {{"mean", s.mean},
          {"std", s.std},
          {"min", s.min},
          {"max", s.max},
          {"zero_fraction", s.zero_fraction}};
}

// Writes the figure (and .npy) of one image's layer and returns its JSON entry.
nlohmann::ordered_json write_layer(const Args& a, const Job& job, const std::string& layer,
                                   const at::Tensor& activation, FigureFormat format) {
  const ActivationStats stats = activation_stats(activation);
  FeatureGridOptions grid;
  grid.layer = layer;
  grid.image = job.name;
  grid.colormap = a.cmap;
  grid.scale = parse_feature_scale(a.scale);
  const int64_t shown = std::min<int64_t>(a.channels, activation.size(0));
  grid.by_mean = a.pick == "top";
  if (grid.by_mean) {
    grid.channels = top_channels(stats, shown);
  } else {
    for (int64_t c = 0; c < shown; ++c) grid.channels.push_back(c);
  }
  const std::string figure =
      (fs::path(job.out_dir) / (layer + "." + figure_extension(format))).string();
  write_file_atomic(figure, render_feature_grid(activation, grid, format));

  nlohmann::ordered_json entry{{"name", layer}, {"shape", stats.shape}};
  entry.update(stats_json(stats.layer));
  int64_t dead = 0;
  for (const ValueStats& c : stats.channels) dead += c.zero_fraction == 1.0;
  entry["dead_channels"] = dead;
  entry["shown"] = grid.channels;
  entry["figure"] = figure;
  entry["npy"] = nullptr;
  if (a.npy) {
    const std::string npy = (fs::path(job.out_dir) / (layer + ".npy")).string();
    write_npy(npy, activation.to(at::kFloat));
    entry["npy"] = npy;
  }
  nlohmann::ordered_json channels = nlohmann::ordered_json::array();
  for (size_t c = 0; c < stats.channels.size(); ++c) {
    nlohmann::ordered_json ch{{"index", c}};
    ch.update(stats_json(stats.channels[c]));
    channels.push_back(std::move(ch));
  }
  entry["channels"] = std::move(channels);
  return entry;
}

void check_args(const Args& a) {
  if (a.channels < 1) fail("", "--channels must be at least 1, got " + std::to_string(a.channels));
  if (a.pick != "first" && a.pick != "top")
    fail("", "unknown --pick '" + a.pick + "'", "use first or top");
  if (a.batch < 1 || a.batch > kMaxBatch)
    fail("",
         "--batch must be 1.." + std::to_string(kMaxBatch) + ", got " + std::to_string(a.batch));
  colormap(a.cmap);
  parse_feature_scale(a.scale);
}

void run(const Args& a) {
  check_args(a);
  const FigureFormat format = parse_figure_format(a.format);
  if (!a.tensorboard.empty() && format != FigureFormat::kPng)
    fail("", "--tensorboard takes PNG figures, got --format " + a.format, "use --format png");
  const std::vector<Job> jobs = plan_jobs(expand_images(a.images), a.out);
  register_input(a.checkpoint);
  for (const Job& job : jobs) register_input(job.path);

  const models::Network net = models::build_network(load_state_dict(a.checkpoint), {a.arch});
  const models::ArchInfo& info = net.info();
  const PreprocessOptions pre = resolve_preprocess(a.preprocess, info.default_preset);
  const std::vector<std::string> layers = net.select_layers(a.layers);

  make_output_dir(a.out);
  for (const Job& job : jobs) make_output_dir(job.out_dir);

  nlohmann::ordered_json images = nlohmann::ordered_json::array();
  Progress progress("features", static_cast<int64_t>(jobs.size() * layers.size()));
  // Consecutive images of one input size go through the network together.
  at::Tensor pending;  // [3, H, W] loaded, but of another size than the batch before it
  for (size_t first = 0; first < jobs.size();) {
    std::vector<at::Tensor> batch;  // each [3, H, W]
    batch.push_back(pending.defined() ? pending : load_input(jobs[first].path, pre));
    pending = at::Tensor();
    size_t end = first + 1;
    while (end < jobs.size() && static_cast<int64_t>(batch.size()) < a.batch) {
      at::Tensor next = load_input(jobs[end].path, pre);  // [3, H, W]
      if (next.sizes() != batch.front().sizes()) {
        pending = std::move(next);
        break;
      }
      batch.push_back(std::move(next));
      ++end;
    }
    const models::ForwardResult result = net.run(at::stack(batch), layers);  // input [B, 3, H, W]
    for (const std::string& layer : layers)
      if (result.find(layer)->dim() != 4)
        fail(a.checkpoint,
             "layer " + layer + " outputs " + std::to_string(result.find(layer)->dim()) +
                 "-d tensors, not feature maps [N, C, H, W]",
             "pick a convolutional layer (cnnscope summary lists them)");
    // Figures, arrays and statistics of every (image, layer) of the batch, drawn in parallel.
    const int64_t per_image = static_cast<int64_t>(layers.size());
    const int64_t count = static_cast<int64_t>(end - first) * per_image;
    std::vector<nlohmann::ordered_json> entries(static_cast<size_t>(count));
    at::parallel_for(0, count, 1, [&](int64_t begin, int64_t stop) {
      for (int64_t k = begin; k < stop; ++k) {
        const std::string& layer = layers[static_cast<size_t>(k % per_image)];
        const at::Tensor& captured = *result.find(layer);  // [B, C, H, W]
        entries[static_cast<size_t>(k)] =
            write_layer(a, jobs[first + static_cast<size_t>(k / per_image)], layer,
                        captured[k / per_image], format);
      }
    });
    for (size_t i = first; i < end; ++i) {
      nlohmann::ordered_json entry{{"image", jobs[i].path}, {"out", jobs[i].out_dir}};
      nlohmann::ordered_json layer_entries = nlohmann::ordered_json::array();
      for (int64_t l = 0; l < per_image; ++l) {
        layer_entries.push_back(std::move(
            entries[static_cast<size_t>(static_cast<int64_t>(i - first) * per_image + l)]));
        progress.step(jobs[i].name + " " + layers[static_cast<size_t>(l)]);
      }
      entry["layers"] = std::move(layer_entries);
      images.push_back(std::move(entry));
    }
    first = end;
  }

  if (!a.tensorboard.empty()) {
    EventWriterOptions options;
    options.dir = a.tensorboard;
    EventWriter tb(options);
    int64_t step = 0;
    for (const auto& image : images) {
      const std::string name = fs::path(image["image"].get<std::string>()).filename().string();
      for (const auto& l : image["layers"])
        tb.add_image_file("features/" + name + "/" + l["name"].get<std::string>(),
                          l["figure"].get<std::string>(), step);
      ++step;
    }
    std::fprintf(stderr, "tensorboard: %s\n", tb.close().c_str());
  }
  if (a.json) {
    nlohmann::ordered_json doc{{"checkpoint", a.checkpoint},
                               {"arch", info.arch},
                               {"preset", pre.name},
                               {"layers", layers},
                               {"cmap", a.cmap},
                               {"scale", a.scale},
                               {"pick", a.pick},
                               {"images", std::move(images)}};
    std::printf("%s\n", doc.dump().c_str());
    return;
  }
  std::printf("%s: %s, preset %s\n", a.checkpoint.c_str(), info.description.c_str(),
              pre.name.c_str());
  for (const auto& image : images) {
    std::printf("%s\n", image["image"].get<std::string>().c_str());
    for (const auto& l : image["layers"]) {
      const auto shape = l["shape"].get<std::vector<int64_t>>();
      std::printf("  %-14s [%lld, %lld, %lld]  zeros %5.1f%%  dead channels %lld/%lld  -> %s\n",
                  l["name"].get<std::string>().c_str(), static_cast<long long>(shape[0]),
                  static_cast<long long>(shape[1]), static_cast<long long>(shape[2]),
                  100.0 * l["zero_fraction"].get<double>(),
                  static_cast<long long>(l["dead_channels"].get<int64_t>()),
                  static_cast<long long>(shape[0]), l["figure"].get<std::string>().c_str());
    }
  }
}

std::function<void()> setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  sub.add_option("checkpoint", args->checkpoint, "checkpoint (.pth, .safetensors)")->required();
  sub.add_option("--image", args->images,
                 "JPEG, PNG, .npy [3,H,W] / [1,3,H,W], or a folder of them; repeatable")
      ->required();
  sub.add_option("--arch", args->arch, "network (default: detected from the keys)");
  add_preprocess_flags(sub, args->preprocess);
  sub.add_option("--layers", args->layers,
                 "L1,L2,... tap names, or all (default: what the seed shows)");
  sub.add_option("--channels", args->channels, "channels per figure (default 12, a 3x4 grid)");
  sub.add_option("--pick", args->pick, "first | top (largest mean activation); default first");
  sub.add_option("--cmap", args->cmap, "gray | viridis | magma | inferno | plasma | turbo");
  sub.add_option("--scale", args->scale,
                 "channel (each its own min..max, default) | layer (one range, colorbar)");
  sub.add_option("--format", args->format, "png | svg | pdf (default png)");
  sub.add_flag("--npy", args->npy, "also write each activation as <layer>.npy (float32 [C,H,W])");
  sub.add_flag("--json", args->json, "statistics and file names as one JSON document on stdout");
  sub.add_option("--batch", args->batch, "images per forward pass (default 8)");
  sub.add_option("--out", args->out, "output folder (default ./features)");
  sub.add_option("--tensorboard", args->tensorboard,
                 "also write the figures as TensorBoard images here");
  return [args] { run(*args); };
}

const Register reg{
    {"features", "feature-map figures, arrays and statistics of any layer", setup, 60}};

}  // namespace
}  // namespace cnnscope::cli
