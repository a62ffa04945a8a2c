// run_features (see features.h). Consecutive images of one input size go through the network
// together (--batch); figures, arrays and statistics of a batch are drawn in parallel.
// Spec: the `features` section of docs/DESIGN.md.
#include "app/features.h"

#include <ATen/Parallel.h>

#include <filesystem>

#include "app/image_list.h"
#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/npy.h"
#include "export/tensorboard.h"
#include "image/input.h"
#include "render/colormap.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxBatch = 256;

void check_options(const FeaturesOptions& o) {
  check_view_options(o);
  if (o.batch < 1 || o.batch > kMaxBatch)
    fail("",
         "--batch must be 1.." + std::to_string(kMaxBatch) + ", got " + std::to_string(o.batch));
  if (!o.tensorboard.empty() && parse_figure_format(o.format) != FigureFormat::kPng)
    fail("", "--tensorboard takes PNG figures, got --format " + o.format, "use --format png");
}

// Draws (and saves) one image's layer.
LayerFeatures write_layer(const FeaturesOptions& o, const ImageJob& job, const std::string& layer,
                          const at::Tensor& activation /* [C, H, W] */) {
  LayerView view = view_layer(o, job.name, layer, activation);
  LayerFeatures& out = view.features;
  const FigureFormat format = parse_figure_format(o.format);
  out.figure = (fs::path(job.out_dir) / (layer + "." + figure_extension(format))).string();
  write_file_atomic(out.figure, render_feature_grid(activation, view.grid, format));
  if (o.npy) {
    out.npy = (fs::path(job.out_dir) / (layer + ".npy")).string();
    write_npy(out.npy, activation.to(at::kFloat));
  }
  return std::move(out);
}

std::string write_tensorboard(const FeaturesResult& result, const std::string& dir) {
  EventWriterOptions options;
  options.dir = dir;
  EventWriter tb(options);
  int64_t step = 0;
  for (const ImageFeatures& image : result.images) {
    const std::string name = fs::path(image.image).filename().string();
    for (const LayerFeatures& l : image.layers)
      tb.add_image_file("features/" + name + "/" + l.name, l.figure, step);
    ++step;
  }
  return tb.close();
}

}  // namespace

void check_view_options(const FeaturesOptions& o) {
  if (o.channels < 1) fail("", "--channels must be at least 1, got " + std::to_string(o.channels));
  if (o.pick != "first" && o.pick != "top")
    fail("", "unknown --pick '" + o.pick + "'", "use first or top");
  colormap(o.cmap);
  parse_feature_scale(o.scale);
}

LayerView view_layer(const FeaturesOptions& o, const std::string& image_name,
                     const std::string& layer, const at::Tensor& activation /* [C, H, W] */) {
  LayerView view;
  LayerFeatures& out = view.features;
  out.name = layer;
  out.stats = activation_stats(activation);
  for (const ValueStats& c : out.stats.channels) out.dead_channels += c.zero_fraction == 1.0;
  FeatureGridOptions& grid = view.grid;
  grid.layer = layer;
  grid.image = image_name;
  grid.colormap = o.cmap;
  grid.scale = parse_feature_scale(o.scale);
  const int64_t shown = std::min<int64_t>(o.channels, activation.size(0));
  grid.by_mean = o.pick == "top";
  if (grid.by_mean) {
    grid.channels = top_channels(out.stats, shown);
  } else {
    for (int64_t c = 0; c < shown; ++c) grid.channels.push_back(c);
  }
  out.shown = grid.channels;
  return view;
}

FeaturesResult run_features(const FeaturesOptions& o, const StepFn& on_step) {
  check_options(o);
  const std::vector<std::string> images = expand_images(o.images);
  for (const std::string& image : images) register_input(image);

  const models::Network net =
      models::build_network(load_state_dict(o.checkpoint), {o.arch, o.transform_input});
  FeaturesResult result;
  result.info = net.info();
  const PreprocessOptions pre = resolve_preprocess(o.preprocess, result.info.default_preset);
  result.preset = pre.name;
  result.layers = net.select_layers(o.layers);
  const std::vector<std::string>& layers = result.layers;

  AtomicDir out_dir(o.out);  // a failure midway leaves o.out as it was
  const std::vector<ImageJob> jobs = plan_image_jobs(images, out_dir.staging());
  for (const ImageJob& job : jobs) make_output_dir(job.out_dir);

  const int64_t total_steps = static_cast<int64_t>(jobs.size() * layers.size());
  at::Tensor pending;  // [3, H, W] loaded, but of another size than the batch before it
  for (size_t first = 0; first < jobs.size();) {
    std::vector<at::Tensor> batch;  // each [3, H, W]
    batch.push_back(pending.defined() ? pending : load_input(jobs[first].path, pre));
    pending = at::Tensor();
    size_t end = first + 1;
    while (end < jobs.size() && static_cast<int64_t>(batch.size()) < o.batch) {
      at::Tensor next = load_input(jobs[end].path, pre);  // [3, H, W]
      if (next.sizes() != batch.front().sizes()) {
        pending = std::move(next);
        break;
      }
      batch.push_back(std::move(next));
      ++end;
    }
    const models::ForwardResult forward = net.run(at::stack(batch), layers);  // [B, 3, H, W]
    for (const std::string& layer : layers) {
      if (!forward.find(layer)->defined())
        fail(o.checkpoint, "layer " + layer + " never runs in " + net.info().arch + "'s forward",
             "an empty Sequential (ShuffleNet's branch1) or a block without its residual; pick "
             "another layer");
      if (forward.find(layer)->dim() != 4)
        fail(o.checkpoint,
             "layer " + layer + " outputs " + std::to_string(forward.find(layer)->dim()) +
                 "-d tensors, not feature maps [N, C, H, W]",
             "pick a convolutional layer (cnnscope summary lists them)");
    }
    const int64_t per_image = static_cast<int64_t>(layers.size());
    const int64_t count = static_cast<int64_t>(end - first) * per_image;
    std::vector<LayerFeatures> drawn(static_cast<size_t>(count));
    at::parallel_for(0, count, 1, [&](int64_t begin, int64_t stop) {
      for (int64_t k = begin; k < stop; ++k) {
        const std::string& layer = layers[static_cast<size_t>(k % per_image)];
        const at::Tensor& captured = *forward.find(layer);  // [B, C, H, W]
        drawn[static_cast<size_t>(k)] = write_layer(
            o, jobs[first + static_cast<size_t>(k / per_image)], layer, captured[k / per_image]);
      }
    });
    for (size_t i = first; i < end; ++i) {
      ImageFeatures image{jobs[i].path, jobs[i].out_dir, {}};
      for (int64_t l = 0; l < per_image; ++l) {
        image.layers.push_back(
            std::move(drawn[static_cast<size_t>(static_cast<int64_t>(i - first) * per_image + l)]));
        if (on_step) on_step(total_steps, jobs[i].name + " " + layers[static_cast<size_t>(l)]);
      }
      result.images.push_back(std::move(image));
    }
    first = end;
  }
  if (!o.tensorboard.empty()) result.tensorboard = write_tensorboard(result, o.tensorboard);
  out_dir.commit();
  for (ImageFeatures& image : result.images) {
    image.out = out_dir.final_path(image.out);
    for (LayerFeatures& layer : image.layers) {
      layer.figure = out_dir.final_path(layer.figure);
      if (!layer.npy.empty()) layer.npy = out_dir.final_path(layer.npy);
    }
  }
  return result;
}

}  // namespace cnnscope::app
