// The `explain` job (app/explain.h): options checked first, images loaded and batched by size
// (--batch), one no-grad forward for the predictions, then each method (explain/) over the batch,
// written per image: CAMs as `<method>.png` (show_cam_on_image's look: colormap of uint8(255 *
// map), alpha * heat + (1 - alpha) * image, divided by its max) and `<method>_heat.png`, pixel
// attributions as `<method>_signed.png` (channel sum, red positive, blue negative, scaled by the
// largest magnitude) and `<method>_abs.png` (channel sum of |attribution| through the colormap);
// with npy `<method>.npy` and, for CAMs, `<method>_layer.npy`. Leaves out: printing.
#include "app/explain.h"

#include <algorithm>
#include <cmath>

#include "app/image_list.h"
#include "app/labels.h"
#include "app/predictions.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/npy.h"
#include "image/input.h"
#include "render/canvas.h"
#include "render/colormap.h"

namespace cnnscope::app {
namespace {

constexpr int64_t kMaxBatch = 1024;
constexpr double kByte = 255.0;

void check_options(const ExplainOptions& o) {
  if (o.methods.empty()) fail("", "no --method given", "e.g. --method gradcam");
  for (const std::string& m : o.methods) explain::check_method(m);
  if (o.attribution.batch > kMaxBatch)
    fail("", "--batch must be 1.." + std::to_string(kMaxBatch),
         "got " + std::to_string(o.attribution.batch));
  if (!(o.alpha >= 0 && o.alpha <= 1))
    fail("", "--alpha must be in [0, 1]", "got " + std::to_string(o.alpha));
  colormap(o.cmap);
  if (o.attribution.steps < 1 || o.attribution.samples < 1 || o.attribution.batch < 1 ||
      !(o.attribution.noise >= 0) || !std::isfinite(o.attribution.noise))
    fail("", "--steps, --samples and --batch must be >= 1 and --noise a finite number >= 0",
         "got steps " + std::to_string(o.attribution.steps) + ", samples " +
             std::to_string(o.attribution.samples) + ", batch " +
             std::to_string(o.attribution.batch) + ", noise " +
             std::to_string(o.attribution.noise));
}

std::string write_png(const std::string& path, const std::vector<uint8_t>& rgb, int64_t width,
                      int64_t height) {
  write_file_atomic(path,
                    encode_png(rgb.data(), static_cast<int>(width), static_cast<int>(height)));
  return path;
}

// The heat map alone and over the picture [H, W, 3] uint8, as show_cam_on_image.
void write_cam_figures(const at::Tensor& map /* [H, W] */, const at::Tensor& picture,
                       const Colormap& cmap, double alpha, const std::string& base,
                       std::vector<std::string>& files) {
  const int64_t h = map.size(0);
  const int64_t w = map.size(1);
  const at::Tensor m = map.contiguous();
  const float* v = m.data_ptr<float>();
  std::vector<uint8_t> heat(static_cast<size_t>(h * w * 3));
  std::vector<double> blend(heat.size());
  const bool have_picture = picture.defined() && picture.size(0) == h && picture.size(1) == w;
  const at::Tensor pic = have_picture ? picture.contiguous() : picture;
  const uint8_t* p = have_picture ? pic.data_ptr<uint8_t>() : nullptr;
  const int64_t pc = have_picture ? pic.size(2) : 0;
  double top = 0;
  for (int64_t i = 0; i < h * w; ++i) {
    const int index = static_cast<int>(static_cast<uint8_t>(kByte * v[i]));  // np.uint8(255*m)
    const Rgb8 c = cmap.entry(std::clamp(index, 0, Colormap::kSize - 1));
    const uint8_t rgb[3] = {c.r, c.g, c.b};
    for (int64_t k = 0; k < 3; ++k) {
      const size_t at = static_cast<size_t>(i * 3 + k);
      heat[at] = rgb[k];
      const double image = p != nullptr ? p[i * pc + (pc == 3 ? k : 0)] / kByte : 0.0;
      blend[at] = alpha * (rgb[k] / kByte) + (1 - alpha) * image;
      top = std::max(top, blend[at]);
    }
  }
  std::vector<uint8_t> overlay(heat.size());
  for (size_t i = 0; i < overlay.size(); ++i)
    overlay[i] = static_cast<uint8_t>(top > 0 ? kByte * (blend[i] / top) : 0.0);
  files.push_back(write_png(base + ".png", overlay, w, h));
  files.push_back(write_png(base + "_heat.png", heat, w, h));
}

// A pixel attribution [C, H, W]: the channel sum signed (red +, blue -) and |.| through cmap.
void write_attribution_figures(const at::Tensor& attr, const Colormap& cmap,
                               const std::string& base, std::vector<std::string>& files) {
  const at::Tensor s = attr.sum(0).contiguous();        // [H, W]
  const at::Tensor a = attr.abs().sum(0).contiguous();  // [H, W]
  const int64_t h = s.size(0);
  const int64_t w = s.size(1);
  const double smax = s.abs().max().item<double>();
  const double amax = a.max().item<double>();
  const float* sv = s.data_ptr<float>();
  const float* av = a.data_ptr<float>();
  std::vector<uint8_t> signed_rgb(static_cast<size_t>(h * w * 3));
  std::vector<uint8_t> abs_rgb(signed_rgb.size());
  for (int64_t i = 0; i < h * w; ++i) {
    const double t = smax > 0 ? sv[i] / smax : 0.0;  // [-1, 1]
    const auto fade = static_cast<uint8_t>(std::lround(kByte * (1 - std::abs(t))));
    const size_t at = static_cast<size_t>(i * 3);
    signed_rgb[at] = t >= 0 ? 255 : fade;
    signed_rgb[at + 1] = fade;
    signed_rgb[at + 2] = t >= 0 ? fade : 255;
    const Rgb8 c = cmap.map(amax > 0 ? av[i] / amax : 0.0);
    abs_rgb[at] = c.r;
    abs_rgb[at + 1] = c.g;
    abs_rgb[at + 2] = c.b;
  }
  files.push_back(write_png(base + "_signed.png", signed_rgb, w, h));
  files.push_back(write_png(base + "_abs.png", abs_rgb, w, h));
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
    fail("", "--class " + std::to_string(*o.target) + " out of range",
         "the network has " + std::to_string(info.num_classes) + " classes: 0.." +
             std::to_string(info.num_classes - 1));
  std::vector<std::string> labels;
  if (!o.classes.empty()) labels = read_labels(o.classes, info.num_classes);
  const PreprocessOptions pre = resolve_preprocess(o.preprocess, info.default_preset);
  const Colormap& cmap = colormap(o.cmap);

  AtomicDir out_dir(o.out);  // a failure midway leaves o.out as it was
  const std::vector<ImageJob> jobs = plan_image_jobs(images, out_dir.staging());
  for (const ImageJob& job : jobs) make_output_dir(job.out_dir);
  ExplainResult result;
  result.checkpoint = o.checkpoint;
  const int64_t total_steps = static_cast<int64_t>(jobs.size() * o.methods.size());
  size_t first = 0;
  while (first < jobs.size()) {
    std::vector<Input> batch{load_input_with_picture(jobs[first].path, pre)};
    size_t end = first + 1;
    while (end < jobs.size() && static_cast<int64_t>(batch.size()) < o.attribution.batch) {
      Input next = load_input_with_picture(jobs[end].path, pre);
      if (next.tensor.sizes() != batch.front().tensor.sizes()) break;  // the next batch's
      batch.push_back(std::move(next));
      ++end;
    }
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
    first = end;
  }
  out_dir.commit();
  for (ImageExplanation& e : result.images) {
    e.out = out_dir.final_path(e.out);
    for (MethodExplanation& m : e.methods)
      for (std::string& file : m.files) file = out_dir.final_path(file);
  }
  return result;
}

}  // namespace cnnscope::app
