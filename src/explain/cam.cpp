// CAM maps of one layer as pytorch-grad-cam 1.5.7 computes them (base_cam.py, grad_cam.py,
// grad_cam_plusplus.py, xgrad_cam.py, hirescam.py, layer_cam.py, eigen_cam.py and
// utils/svd_on_activations.py): activations A and gradients G of the target (the sum over images
// of logit[class]) w.r.t. the layer's output, the method's map, ReLU, scale_cam_image (min-max
// with 1e-7) with cv2.resize INTER_LINEAR to the input size, then aggregate_multi_layers for the
// single layer (ReLU, mean, scale again). Also the method names (the default CAM layer is
// models::Network::default_cam_layer's).
// EigenCAM differs in one way: the SVD's sign is fixed (the projection's largest-magnitude
// element positive), where numpy leaves it to its LAPACK build. Leaves out: eigen_smooth, several
// layers at once, 3-D (video) activations.
#include <torch/torch.h>

#include <algorithm>

#include "common/error.h"
#include "common/suggest.h"
#include "common/text.h"
#include "explain/methods.h"

namespace cnnscope::explain {
namespace {

constexpr double kScaleEps = 1e-7;        // scale_cam_image
constexpr double kGradCamPlusEps = 1e-6;  // grad_cam_plusplus.py
constexpr double kXGradCamEps = 1e-7;     // xgrad_cam.py

// Eigen-CAM's projection of one image's activations [C, h, w] on their first principal
// direction, sign-corrected: [h, w].
at::Tensor eigen_projection(const at::Tensor& a /* [C, h, w] */) {
  at::Tensor r = a.reshape({a.size(0), -1}).t();  // [hw, C]
  r = at::nan_to_num(r, 0.0, 0.0, 0.0);
  r = r - r.mean(0, /*keepdim=*/true);
  const auto [u, s, vt] = at::linalg_svd(r, /*full_matrices=*/false);  // vt: [k, C]
  at::Tensor p = at::matmul(r, vt[0]);                                 // [hw]
  if (p.numel() > 0 && p[p.abs().argmax()].item<float>() < 0) p = -p;  // the sign convention
  return p.reshape({a.size(1), a.size(2)});                            // [h, w]
}

}  // namespace

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names{
      "gradcam",   "gradcam++",       "xgradcam",
      "hirescam",  "layercam",        "eigencam",
      "saliency",  "guided-backprop", "integrated-gradients",
      "smoothgrad"};
  return names;
}

bool is_cam_method(const std::string& method) {
  return method == "gradcam" || method == "gradcam++" || method == "xgradcam" ||
         method == "hirescam" || method == "layercam" || method == "eigencam";
}

void check_method(const std::string& method) {
  const std::vector<std::string>& names = method_names();
  if (std::find(names.begin(), names.end(), method) != names.end()) return;
  const std::string near = did_you_mean(method, names);
  fail("", "unknown method '" + method + "'", near.empty() ? "one of: " + join(names, ", ") : near);
}

std::string default_cam_layer(const models::Network& net) {
  const std::string layer = net.default_cam_layer();
  if (layer.empty())
    fail("", "no convolutional layer for a CAM in this network", "", {{"layer", "NAME"}});
  return layer;
}

at::Tensor scale_and_resize(const at::Tensor& map, int64_t height, int64_t width) {
  at::Tensor m = map - map.min();  // [h, w]
  m = m / (kScaleEps + m.max());
  if (m.size(0) == height && m.size(1) == width) return m;
  // cv2.resize INTER_LINEAR on float32: half-pixel centres, source clamped at the edges, which is
  // upsample_bilinear2d without align_corners.
  return at::upsample_bilinear2d(m.unsqueeze(0).unsqueeze(0), {height, width},
                                 /*align_corners=*/false)
      .squeeze(0)
      .squeeze(0);  // [H, W]
}

CamResult compute_cam(const models::Network& net, const at::Tensor& input,
                      const std::vector<int64_t>& classes, const std::string& method,
                      const std::string& layer) {
  check_method(method);
  if (!is_cam_method(method))
    fail("", "'" + method + "' is not a CAM method", "CAM methods need a layer");
  net.check_tap(layer);
  const int64_t n = input.size(0);
  if (static_cast<int64_t>(classes.size()) != n)
    fail("", "one class per image expected", "got " + std::to_string(classes.size()));
  const bool gradients = method != "eigencam";

  // As pytorch-grad-cam's forward hook: the gradient w.r.t. the layer's output, and the
  // activation as the forward leaves it (a later in-place op, such as DenseNet's
  // F.relu(features, inplace=True), shows in it, as in the hook's stored tensor).
  at::Tensor output;     // [N, C, h, w] the module's output, in the graph
  at::Tensor continued;  // the copy the forward continues with
  models::RunOptions run;
  run.gradients = gradients;
  run.hook = [&](const std::string& name, const at::Tensor& out) {
    if (name != layer) return out;
    output = out;
    continued = out.clone();
    return continued;
  };
  const models::ForwardResult forward = net.run(input, run);
  if (!output.defined() || output.dim() != 4)
    fail("", "layer '" + layer + "' does not give a [N, C, h, w] output",
         "choose a convolutional layer or block");
  const at::Tensor a = continued.detach().to(at::kFloat);  // [N, C, h, w]
  for (int64_t c : classes)
    if (c < 0 || c >= forward.logits.size(1))
      fail("", "class " + std::to_string(c) + " out of range",
           "the network has " + std::to_string(forward.logits.size(1)) + " classes");

  at::Tensor cam;  // [N, h, w]
  if (!gradients) {
    std::vector<at::Tensor> maps;
    for (int64_t i = 0; i < n; ++i) maps.push_back(eigen_projection(a[i].detach()));
    cam = at::stack(maps);
  } else {
    at::Tensor target = at::zeros({}, forward.logits.options());
    for (int64_t i = 0; i < n; ++i) target = target + forward.logits[i][classes[i]];
    at::Tensor g = torch::autograd::grad({target}, {output})[0].to(at::kFloat);  // [N,C,h,w]
    const at::Tensor act = a.detach();
    if (method == "gradcam") {
      cam = (g.mean({2, 3}, true) * act).sum(1);
    } else if (method == "gradcam++") {
      const at::Tensor g2 = g * g;
      const at::Tensor g3 = g2 * g;
      const at::Tensor sum_a = act.sum({2, 3}, true);  // [N, C, 1, 1]
      at::Tensor aij = g2 / (2 * g2 + sum_a * g3 + kGradCamPlusEps);
      aij = at::where(g != 0, aij, at::zeros_like(aij));
      cam = ((at::relu(g) * aij).sum({2, 3}, true) * act).sum(1);
    } else if (method == "xgradcam") {
      const at::Tensor sum_a = act.sum({2, 3}, true);
      cam = ((g * act / (sum_a + kXGradCamEps)).sum({2, 3}, true) * act).sum(1);
    } else if (method == "hirescam") {
      cam = (g * act).sum(1);
    } else {  // layercam
      cam = (at::relu(g) * act).sum(1);
    }
  }
  CamResult result;
  result.layer_map = at::relu(cam).contiguous();  // [N, h, w]
  const int64_t height = input.size(2);
  const int64_t width = input.size(3);
  std::vector<at::Tensor> maps;
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor scaled = scale_and_resize(result.layer_map[i], height, width);  // [H, W]
    maps.push_back(scale_and_resize(at::relu(scaled), height, width));  // aggregation, 1 layer
  }
  result.map = at::stack(maps).contiguous();  // [N, H, W]
  return result;
}

}  // namespace cnnscope::explain
