// Pixel attributions as Captum 0.9.0 computes them, w.r.t. the preprocessed input, for the logit
// of one class per image: Saliency (|d logit / d input|), GuidedBackprop (the backward of every
// nn.ReLU *module* passes only positive gradients: relu of its grad_input; functional relus are
// left alone), IntegratedGradients (method "gausslegendre": alphas 0.5 * (1 + x), step sizes
// 0.5 * w of numpy's leggauss(n); zero baseline; delta = sum(attr) - (F(x) - F(0))) and
// NoiseTunnel "smoothgrad" over Saliency (absolute noise std, mean of the samples). Steps and
// samples run in chunks of `batch`, so memory does not grow with them. Leaves out: other
// baselines, Riemann methods, smoothgrad_sq / vargrad, multiplying by inputs.
#include <torch/torch.h>

#include <cmath>
#include <set>

#include "common/error.h"
#include "explain/methods.h"

namespace cnnscope::explain {
namespace {

// Nodes and weights of n-point Gauss-Legendre quadrature on [-1, 1], ascending (numpy's
// polynomial.legendre.leggauss): Newton's method on P_n from Chebyshev starting points.
void gauss_legendre(int64_t n, std::vector<double>& x, std::vector<double>& w) {
  x.assign(static_cast<size_t>(n), 0.0);
  w.assign(static_cast<size_t>(n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    double z = std::cos(M_PI * (static_cast<double>(i) + 0.75) / (static_cast<double>(n) + 0.5));
    double dp = 1.0;
    for (int iter = 0; iter < 100; ++iter) {
      double p0 = 1.0;
      double p1 = z;
      for (int64_t k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / static_cast<double>(k);
        p0 = p1;
        p1 = p2;
      }
      if (n == 1) p0 = 1.0;
      dp = static_cast<double>(n) * (z * p1 - p0) / (z * z - 1.0);
      const double step = p1 / dp;
      z -= step;
      if (std::abs(step) < 1e-16) break;
    }
    // i-th root counted from +1 downwards: store ascending.
    const size_t at = static_cast<size_t>(n - 1 - i);
    x[at] = z;
    w[at] = 2.0 / ((1.0 - z * z) * dp * dp);
  }
}

struct Target {
  const models::Network* net;
  std::function<at::Tensor(const std::string&, const at::Tensor&)> hook;
};

// d logit[cls] / d input for a batch of inputs [B, C, H, W] of one class.
at::Tensor input_gradient(const Target& t, const at::Tensor& inputs, int64_t cls) {
  at::Tensor x = inputs.detach().clone().set_requires_grad(true);  // [B, C, H, W]
  models::RunOptions run;
  run.gradients = true;
  run.hook = t.hook;
  const models::ForwardResult forward = t.net->run(x, run);
  if (cls < 0 || cls >= forward.logits.size(1))
    fail("", "class " + std::to_string(cls) + " out of range",
         "the network has " + std::to_string(forward.logits.size(1)) + " classes");
  const at::Tensor target = forward.logits.select(1, cls).sum();
  return torch::autograd::grad({target}, {x})[0].detach();  // [B, C, H, W]
}

// Guided backprop's hook: after each nn.ReLU module, a copy whose incoming gradient is clamped
// at 0 (so the ReLU's own backward sees relu(grad)).
std::function<at::Tensor(const std::string&, const at::Tensor&)> guided_hook(
    const models::Network& net) {
  auto relus = std::make_shared<std::set<std::string>>();
  for (const models::TapInfo& tap : net.taps())
    if (tap.type == "ReLU") relus->insert(tap.name);
  return [relus](const std::string& name, const at::Tensor& output) {
    if (relus->count(name) == 0 || !output.requires_grad()) return output;
    at::Tensor flow = output.clone();
    flow.register_hook([](const at::Tensor& grad) { return grad.clamp_min(0); });
    return flow;
  };
}

void check_options(const AttributionOptions& o) {
  if (o.steps < 1)
    fail("", "integrated gradients' steps must be at least 1", "got " + std::to_string(o.steps));
  if (o.samples < 1)
    fail("", "smoothgrad's samples must be at least 1", "got " + std::to_string(o.samples));
  if (o.batch < 1) fail("", "batch must be at least 1", "got " + std::to_string(o.batch));
  if (!(o.noise >= 0) || !std::isfinite(o.noise))
    fail("", "smoothgrad's noise must be a finite number >= 0", "got " + std::to_string(o.noise));
}

}  // namespace

AttributionResult compute_attribution(const models::Network& net, const at::Tensor& input,
                                      const std::vector<int64_t>& classes,
                                      const std::string& method,
                                      const AttributionOptions& options) {
  check_method(method);
  if (is_cam_method(method))
    fail("", "'" + method + "' is a CAM method", "CAM methods give layer maps, not attributions");
  check_options(options);
  const int64_t n = input.size(0);
  if (static_cast<int64_t>(classes.size()) != n)
    fail("", "one class per image expected", "got " + std::to_string(classes.size()));
  const at::Tensor x = input.to(at::kFloat).detach();  // [N, C, H, W]
  const Target target{&net, method == "guided-backprop" ? guided_hook(net) : nullptr};
  AttributionResult result;
  std::vector<at::Tensor> per_image;  // each [C, H, W]

  if (method == "saliency" || method == "guided-backprop") {
    // Image by image: each gradient depends only on its own logit (eval mode).
    for (int64_t i = 0; i < n; ++i) {
      const at::Tensor g = input_gradient(target, x.slice(0, i, i + 1), classes[i])[0];
      per_image.push_back(method == "saliency" ? g.abs() : g);
    }
  } else if (method == "integrated-gradients") {
    std::vector<double> nodes, weights;
    gauss_legendre(options.steps, nodes, weights);
    for (int64_t i = 0; i < n; ++i) {
      const at::Tensor xi = x[i];  // [C, H, W]
      at::Tensor total = at::zeros_like(xi);
      for (int64_t first = 0; first < options.steps; first += options.batch) {
        const int64_t end = std::min(options.steps, first + options.batch);
        std::vector<at::Tensor> scaled;
        std::vector<double> step_sizes;
        for (int64_t k = first; k < end; ++k) {
          scaled.push_back(xi * static_cast<float>(0.5 * (1.0 + nodes[static_cast<size_t>(k)])));
          step_sizes.push_back(0.5 * weights[static_cast<size_t>(k)]);
        }
        const at::Tensor g = input_gradient(target, at::stack(scaled), classes[i]);  // [b,C,H,W]
        const at::Tensor w =
            at::tensor(step_sizes, at::kDouble).to(at::kFloat).reshape({-1, 1, 1, 1});
        total = total + (g * w).sum(0);
      }
      const at::Tensor attr = total * xi;                                           // [C, H, W]
      const at::Tensor ends = net.run(at::stack({xi, at::zeros_like(xi)})).logits;  // [2, K]
      result.delta.push_back(attr.sum().item<double>() - (ends[0][classes[i]].item<double>() -
                                                          ends[1][classes[i]].item<double>()));
      per_image.push_back(attr);
    }
  } else {  // smoothgrad
    torch::manual_seed(options.seed);
    for (int64_t i = 0; i < n; ++i) {
      const at::Tensor xi = x[i];
      at::Tensor total = at::zeros_like(xi);
      for (int64_t first = 0; first < options.samples; first += options.batch) {
        const int64_t b = std::min(options.samples, first + options.batch) - first;
        const at::Tensor noisy =
            xi.unsqueeze(0).expand({b, -1, -1, -1}) +
            at::normal(0.0, options.noise, {b, xi.size(0), xi.size(1), xi.size(2)});
        total = total + input_gradient(target, noisy, classes[i]).abs().sum(0);
      }
      per_image.push_back(total / static_cast<double>(options.samples));
    }
  }
  result.attribution = at::stack(per_image).contiguous();  // [N, C, H, W]
  return result;
}

}  // namespace cnnscope::explain
