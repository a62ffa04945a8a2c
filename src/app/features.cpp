// run_features (see features.h). Consecutive images of one input size go through the network
// together (--batch); figures, arrays and statistics of a batch are drawn in parallel.
// Spec: the `features` section of docs/DESIGN.md.
#include "app/features.h"

#include <ATen/Parallel.h>

#include <filesystem>

#include "app/feature_maps.h"
#include "app/image_list.h"
#include "app/network_input.h"
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

void check_options(const FeaturesOptions& o) {
  check_view_options(o);
  if (o.batch < 1) fail("", "images per batch must be at least 1, got " + std::to_string(o.batch));
  if (!o.tensorboard.empty() && parse_figure_format(o.format) != FigureFormat::kPng)
    fail("", "TensorBoard takes PNG figures, got the format " + o.format, "draw PNG figures");
}

// Draws (and saves) one image's layer: `activation` [C, H, W] its feature maps, `output` the
// module's output for the image as it is ([C, H, W], [C, L] or [C]), the .npy's array.
LayerFeatures write_layer(const FeaturesOptions& o, const ImageJob& job, const std::string& layer,
                          const at::Tensor& activation, const at::Tensor& output) {
  LayerView view = view_layer(o, job.name, layer, activation);
  LayerFeatures& out = view.features;
  out.stats.shape = output.sizes().vec();  // [D] for a Linear, not its [D, 1, 1] view
  const FigureFormat format = parse_figure_format(o.format);
  out.figure = (fs::path(job.out_dir) / (layer + "." + figure_extension(format))).string();
  write_file_atomic(out.figure, render_feature_grid(activation, view.grid, format));
  if (o.npy) {
    out.npy = (fs::path(job.out_dir) / (layer + ".npy")).string();
    write_npy(out.npy, output.to(at::kFloat));
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
  if (o.channels < 1)
    fail("", "channels per figure must be at least 1, got " + std::to_string(o.channels));
  if (o.pick != "first" && o.pick != "top")
    fail("", "unknown channel pick '" + o.pick + "'", "use first or top");
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
  const PreprocessOptions pre = network_preprocess(o.preprocess, result.info);
  result.preset = pre.name;
  result.layers = net.select_layers(o.layers);
  const std::vector<std::string>& layers = result.layers;

  AtomicDir out_dir(o.out);  // a failure midway leaves o.out as it was
  const std::vector<ImageJob> jobs = plan_image_jobs(images, out_dir.staging());
  for (const ImageJob& job : jobs) make_output_dir(job.out_dir);

  const int64_t total_steps = static_cast<int64_t>(jobs.size() * layers.size());
  const int64_t per_image = static_cast<int64_t>(layers.size());
  const auto load = [&](size_t i) { return load_input(jobs[i].path, pre); };  // [C, H, W]
  const auto shape = [](const at::Tensor& input) { return input.sizes().vec(); };
  const auto run_batch = [&](size_t first, const std::vector<at::Tensor>& batch) {
    const models::ForwardResult forward = net.run(at::stack(batch), layers);  // [B, C, H, W]
    std::vector<at::Tensor> maps;  // per layer [B, C, H, W]
    for (const std::string& layer : layers)
      maps.push_back(feature_maps(*forward.find(layer), layer, net.info().arch, o.checkpoint));
    const int64_t count = static_cast<int64_t>(batch.size()) * per_image;
    std::vector<LayerFeatures> drawn(static_cast<size_t>(count));
    at::parallel_for(0, count, 1, [&](int64_t begin, int64_t stop) {
      for (int64_t k = begin; k < stop; ++k) {
        const auto l = static_cast<size_t>(k % per_image);
        const int64_t b = k / per_image;
        drawn[static_cast<size_t>(k)] =
            write_layer(o, jobs[first + static_cast<size_t>(b)], layers[l], maps[l][b],
                        (*forward.find(layers[l]))[b]);
      }
    });
    for (size_t i = 0; i < batch.size(); ++i) {
      const ImageJob& job = jobs[first + i];
      ImageFeatures image{job.path, job.out_dir, {}};
      for (int64_t l = 0; l < per_image; ++l) {
        image.layers.push_back(
            std::move(drawn[static_cast<size_t>(static_cast<int64_t>(i) * per_image + l)]));
        if (on_step) on_step(total_steps, job.name + " " + layers[static_cast<size_t>(l)]);
      }
      result.images.push_back(std::move(image));
    }
  };
  for_each_batch(jobs.size(), o.batch, load, shape, run_batch);
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
