// The `explain` job (app/explain.h): options checked first, images loaded and batched by size
// (--batch), one no-grad forward for the predictions, then each method (explain/) over the batch,
// written per image: CAMs as `<method>.png` (show_cam_on_image's look: colormap of uint8(255 *
// map), alpha * heat + (1 - alpha) * image, divided by its max) and `<method>_heat.png`, pixel
// attributions as `<method>_signed.png` (channel sum, red positive, blue negative, scaled by the
// largest magnitude) and `<method>_abs.png` (channel sum of |attribution| through the colormap);
// with npy `<method>.npy` and, for CAMs, `<method>_layer.npy`. Figures of small inputs are
// magnified to a readable size (render/readable.h), arrays keep theirs. Leaves out: printing, the
// colour work (render/heatmap.h).
#include "app/explain.h"

#include <algorithm>
#include <cmath>

#include "app/image_list.h"
#include "app/labels.h"
#include "app/network_input.h"
#include "app/predictions.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/npy.h"
#include "image/input.h"
#include "render/canvas.h"
#include "render/colormap.h"
#include "render/heatmap.h"
#include "render/readable.h"

namespace cnnscope::app {
namespace {

void check_options(const ExplainOptions& o) {
  if (o.methods.empty()) fail("", "no explanation method given", "e.g. gradcam");
  for (const std::string& m : o.methods) explain::check_method(m);
  if (!(o.alpha >= 0 && o.alpha <= 1))
    fail("", "the heat map's alpha must be in [0, 1]", "got " + std::to_string(o.alpha));
  colormap(o.cmap);
  if (o.attribution.steps < 1 || o.attribution.samples < 1 || o.attribution.batch < 1 ||
      !(o.attribution.noise >= 0) || !std::isfinite(o.attribution.noise))
    fail("", "steps, samples and batch must be at least 1 and noise a finite number >= 0",
         "got steps " + std::to_string(o.attribution.steps) + ", samples " +
             std::to_string(o.attribution.samples) + ", batch " +
             std::to_string(o.attribution.batch) + ", noise " +
             std::to_string(o.attribution.noise));
}

// `image` at a readable size (a 28x28 input's magnified, render/readable.h).
std::string write_png(const std::string& path, const RgbImage& image) {
  const RgbImage shown = readable(image);
  write_file_atomic(path, encode_png(shown.pixels.data(), static_cast<int>(shown.width),
                                     static_cast<int>(shown.height)));
  return path;
}

// The heat map alone and over the picture [H, W, 3] uint8, as show_cam_on_image.
void write_cam_figures(const at::Tensor& map /* [H, W] */, const at::Tensor& picture,
                       const Colormap& cmap, double alpha, const std::string& base,
                       std::vector<std::string>& files) {
  const RgbImage heat = cam_heatmap(map, cmap);
  files.push_back(write_png(base + ".png", cam_overlay(heat, picture, alpha)));
  files.push_back(write_png(base + "_heat.png", heat));
}

// A pixel attribution [C, H, W]: the channel sum signed (red +, blue -) and |.| through cmap.
void write_attribution_figures(const at::Tensor& attr, const Colormap& cmap,
                               const std::string& base, std::vector<std::string>& files) {
  const at::Tensor sum = attr.sum(0);              // [H, W]
  const at::Tensor magnitude = attr.abs().sum(0);  // [H, W]
  files.push_back(write_png(base + "_signed.png", signed_heatmap(sum)));
  files.push_back(write_png(base + "_abs.png", magnitude_heatmap(magnitude, cmap)));
}

}  // namespace

ExplainResult run_explain(const ExplainOptions& o, const StepFn& on_step) {
  check_options(o);
  const std::vector<std::string> images = expand_images(o.images);
  for (const std::string& image : images) register_input(image);
  const models::Network net =
      models::build_network(load_state_dict(o.checkpoint), {o.arch, o.transform_input});
  const models::ArchInfo& info = net.info();
  const bool any_cam = std::any_of(o.methods.begin(), o.methods.end(), explain::is_cam_method);
  const std::string layer =
      !any_cam ? "" : (o.layer.empty() ? explain::default_cam_layer(net) : o.layer);
  if (any_cam) net.check_tap(layer);
  if (o.target && (*o.target < 0 || *o.target >= info.num_classes))
    fail("", "class " + std::to_string(*o.target) + " out of range",
         "the network has " + std::to_string(info.num_classes) + " classes: 0.." +
             std::to_string(info.num_classes - 1));
  const std::vector<std::string> labels = labels_or_run(o.classes, info);
  const PreprocessOptions pre = network_preprocess(o.preprocess, info);
  const Colormap& cmap = colormap(o.cmap);

  AtomicDir out_dir(o.out);  // a failure midway leaves o.out as it was
  const std::vector<ImageJob> jobs = plan_image_jobs(images, out_dir.staging());
  for (const ImageJob& job : jobs) make_output_dir(job.out_dir);
  ExplainResult result;
  result.checkpoint = o.checkpoint;
  const int64_t total_steps = static_cast<int64_t>(jobs.size() * o.methods.size());
  const auto load = [&](size_t i) { return load_input_with_picture(jobs[i].path, pre); };
  const auto shape = [](const Input& in) { return in.tensor.sizes().vec(); };
  const auto run_batch = [&](size_t first, const std::vector<Input>& batch) {
    std::vector<at::Tensor> tensors;
    for (const Input& in : batch) tensors.push_back(in.tensor);
    const at::Tensor input = at::stack(tensors);      // [B, C, H, W]
    const at::Tensor logits = net.run(input).logits;  // [B, K]
    std::vector<int64_t> targets;
    for (size_t i = 0; i < batch.size(); ++i) {
      const Predictions p = predict_top(logits[static_cast<int64_t>(i)], 1, labels);
      const int64_t t = o.target ? *o.target : p.top.front().index;
      targets.push_back(t);
      ImageExplanation e;
      e.image = jobs[first + i].path;
      e.out = jobs[first + i].out_dir;
      e.target = t;
      e.label = labels.empty() ? std::to_string(t) : labels[static_cast<size_t>(t)];
      e.score = p.probabilities[static_cast<size_t>(t)];
      result.images.push_back(std::move(e));
    }
    for (const std::string& method : o.methods) {
      const bool cam = explain::is_cam_method(method);
      explain::CamResult maps;
      explain::AttributionResult attr;
      if (cam)
        maps = explain::compute_cam(net, input, targets, method, layer);
      else
        attr = explain::compute_attribution(net, input, targets, method, o.attribution);
      for (size_t i = 0; i < batch.size(); ++i) {
        const auto row = static_cast<int64_t>(i);
        ImageExplanation& e = result.images[first + i];
        MethodExplanation m;
        m.method = method;
        const std::string base = e.out + "/" + method;
        if (cam) {
          m.layer = layer;
          write_cam_figures(maps.map[row], batch[i].picture, cmap, o.alpha, base, m.files);
          if (o.npy) {
            write_npy(base + ".npy", maps.map[row]);
            write_npy(base + "_layer.npy", maps.layer_map[row]);
            m.files.push_back(base + ".npy");
            m.files.push_back(base + "_layer.npy");
          }
        } else {
          write_attribution_figures(attr.attribution[row], cmap, base, m.files);
          if (!attr.delta.empty()) m.delta = attr.delta[i];
          if (o.npy) {
            write_npy(base + ".npy", attr.attribution[row]);
            m.files.push_back(base + ".npy");
          }
        }
        e.methods.push_back(std::move(m));
        if (on_step) on_step(total_steps, jobs[first + i].name + " " + method);
      }
    }
  };
  for_each_batch(jobs.size(), o.attribution.batch, load, shape, run_batch);
  out_dir.commit();
  for (ImageExplanation& e : result.images) {
    e.out = out_dir.final_path(e.out);
    for (MethodExplanation& m : e.methods)
      for (std::string& file : m.files) file = out_dir.final_path(file);
  }
  return result;
}

}  // namespace cnnscope::app
