// The explain stage: why the network gave a class. CAM maps of one layer (gradcam, gradcam++,
// xgradcam, hirescam, layercam, eigencam), defined as pytorch-grad-cam 1.5.7 defines them, and
// pixel attributions (saliency, guided-backprop, integrated-gradients, smoothgrad), defined as
// Captum 0.9.0 does, all through models::Network::run with autograd. The target is the logit of
// one class per image (pytorch-grad-cam's ClassifierOutputTarget). Leaves out: files and figures
// (app/explain.h), multi-layer CAMs, eigen_smooth, augmentation smoothing, baselines other than 0.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/network.h"

namespace cnnscope::explain {

// Every method, CAMs first: "gradcam", "gradcam++", "xgradcam", "hirescam", "layercam",
// "eigencam", "saliency", "guided-backprop", "integrated-gradients", "smoothgrad".
const std::vector<std::string>& method_names();
bool is_cam_method(const std::string& method);
// Throws Error for an unknown method, suggesting the closest names.
void check_method(const std::string& method);

// The CAM layer used when none is named: models::Network::default_cam_layer (the family's choice,
// docs/commands/explain.md lists them, else a pick from the module names). Throws Error when there is none.
std::string default_cam_layer(const models::Network& net);

struct CamResult {
  at::Tensor layer_map;  // [N, h, w] float32: the CAM at the layer's resolution after the ReLU
  at::Tensor map;        // [N, H, W] float32 in [0, 1]: scaled, resized to the input, aggregated
};

// One CAM method at `layer` for `input` [N, C, H, W], class classes[i] for image i. Throws Error
// for an unknown method, a layer that is not a tap or does not give a [N, C, h, w] output.
CamResult compute_cam(const models::Network& net, const at::Tensor& input,
                      const std::vector<int64_t>& classes, const std::string& method,
                      const std::string& layer);

// pytorch-grad-cam's scale_cam_image for one map [h, w] followed by cv2.resize(INTER_LINEAR) to
// height x width (half-pixel centres, edges clamped): (x - min) / (1e-7 + max) then resized.
at::Tensor scale_and_resize(const at::Tensor& map, int64_t height, int64_t width);

struct AttributionOptions {
  int64_t steps = 50;    // integrated gradients: Gauss-Legendre points
  int64_t samples = 25;  // smoothgrad: noisy samples
  double noise = 0.15;  // smoothgrad: the noise's standard deviation (absolute, as Captum's stdevs)
  int64_t batch = 16;   // steps/samples evaluated per forward
  uint64_t seed = 0;    // smoothgrad's noise (torch::manual_seed)
};

struct AttributionResult {
  at::Tensor attribution;     // [N, C, H, W] float32 w.r.t. the preprocessed input
  std::vector<double> delta;  // integrated gradients: sum(attribution) - (F(x) - F(0)), per image
};

// A pixel attribution method for `input` [N, C, H, W]. Throws Error for an unknown method or bad
// options (steps, samples, batch < 1; noise < 0).
AttributionResult compute_attribution(const models::Network& net, const at::Tensor& input,
                                      const std::vector<int64_t>& classes,
                                      const std::string& method, const AttributionOptions& options);

}  // namespace cnnscope::explain
