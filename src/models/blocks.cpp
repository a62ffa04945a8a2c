// The shared building blocks (see blocks.h). Spec: torchvision/ops/misc.py (Conv2dNormActivation,
// SqueezeExcitation, Permute), ops/stochastic_depth.py, models/_utils.py (_make_divisible),
// models/convnext.py (LayerNorm2d); torch.nn.init (trunc_normal_) and torch.nn's reprs.
#include "models/blocks.h"

#include <algorithm>
#include <cmath>

#include "common/text.h"

namespace cnnscope::models::detail {

Leaf::Leaf(const std::string& type, std::string repr, Fn fn)
    : Layer(type, ""), repr_(std::move(repr)), fn_(std::move(fn)) {}

std::shared_ptr<Leaf> activation(Act act, bool inplace) {
  const std::string flag = inplace ? "(inplace=True)" : "()";
  switch (act) {
    case Act::kReLU:
      return std::make_shared<Leaf>("ReLU", "ReLU" + flag, [inplace](at::Tensor x) {
        return inplace ? x.relu_() : x.relu();
      });
    case Act::kReLU6:
      return std::make_shared<Leaf>("ReLU6", "ReLU6" + flag, [inplace](at::Tensor x) {
        return inplace ? at::hardtanh_(x, 0.0, 6.0) : at::hardtanh(x, 0.0, 6.0);
      });
    case Act::kHardswish:
      return std::make_shared<Leaf>("Hardswish", "Hardswish()", [inplace](at::Tensor x) {
        return inplace ? at::hardswish_(x) : at::hardswish(x);
      });
    case Act::kHardsigmoid:
      return std::make_shared<Leaf>("Hardsigmoid", "Hardsigmoid()", [inplace](at::Tensor x) {
        return inplace ? at::hardsigmoid_(x) : at::hardsigmoid(x);
      });
    case Act::kSiLU:
      return std::make_shared<Leaf>("SiLU", "SiLU" + flag, [inplace](at::Tensor x) {
        return inplace ? at::silu_(x) : at::silu(x);
      });
    case Act::kSigmoid:
      return std::make_shared<Leaf>("Sigmoid", "Sigmoid()",
                                    [](at::Tensor x) { return at::sigmoid(x); });
    case Act::kGELU:
      return std::make_shared<Leaf>("GELU", "GELU(approximate='none')",
                                    [](at::Tensor x) { return at::gelu(x); });
    case Act::kNone:
      break;
  }
  return nullptr;
}

std::shared_ptr<Leaf> permute(std::vector<int64_t> dims) {
  return std::make_shared<Leaf>("Permute", "Permute()",
                                [dims](at::Tensor x) { return x.permute(dims); });
}

std::shared_ptr<Leaf> flatten() {
  return std::make_shared<Leaf>("Flatten", "Flatten(start_dim=1, end_dim=-1)",
                                [](at::Tensor x) { return x.flatten(1); });
}

std::shared_ptr<Leaf> stochastic_depth(double p) {
  return std::make_shared<Leaf>("StochasticDepth",
                                "StochasticDepth(p=" + py_float(p) + ", mode=row)",
                                [](at::Tensor x) { return x; });
}

std::shared_ptr<Leaf> global_avg_pool() {
  return std::make_shared<Leaf>("AdaptiveAvgPool2d", "AdaptiveAvgPool2d(output_size=1)",
                                [](at::Tensor x) {
                                  return at::adaptive_avg_pool2d(x, {1, 1});
                                });
}

LayerNorm::LayerNorm(int64_t channels, double eps, bool channels_first)
    : Layer(channels_first ? "LayerNorm2d" : "LayerNorm", ""),
      channels_(channels),
      eps_(eps),
      channels_first_(channels_first) {
  weight_ = register_parameter("weight", at::ones({channels}));
  bias_ = register_parameter("bias", at::zeros({channels}));
}

at::Tensor LayerNorm::forward(at::Tensor x, Probe& probe) {
  if (!channels_first_) return at::layer_norm(x, {channels_}, weight_, bias_, eps_);
  x = x.permute({0, 2, 3, 1});  // [N, H, W, C]
  x = at::layer_norm(x, {channels_}, weight_, bias_, eps_);
  return x.permute({0, 3, 1, 2});  // [N, C, H, W]
}

std::string LayerNorm::repr() const {
  return name() + "((" + std::to_string(channels_) + ",), eps=" + py_float(eps_) +
         ", elementwise_affine=True, bias=True)";
}

torch::nn::Conv2d conv(const ConvSpec& s) {
  const int64_t padding = s.padding < 0 ? (s.kernel - 1) / 2 : s.padding;
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(s.in, s.out, s.kernel)
                               .stride(s.stride)
                               .padding(padding)
                               .groups(s.groups)
                               .bias(s.bias));
}

SameConv2dImpl::SameConv2dImpl(const ConvSpec& s)
    : torch::nn::Conv2dImpl(torch::nn::Conv2dOptions(s.in, s.out, s.kernel)
                                .stride(s.stride)
                                .groups(s.groups)
                                .bias(s.bias)) {}

at::Tensor SameConv2dImpl::forward(const at::Tensor& x) {
  // timm's pad_same: per dim, the total padding that makes ceil(size / stride) outputs.
  auto total = [](int64_t size, int64_t kernel, int64_t stride) {
    const int64_t out = (size + stride - 1) / stride;
    return std::max<int64_t>((out - 1) * stride + kernel - size, 0);
  };
  const auto& k = *options.kernel_size();
  const auto& st = *options.stride();
  const int64_t h = total(x.size(2), k[0], st[0]), w = total(x.size(3), k[1], st[1]);
  const at::Tensor padded = at::constant_pad_nd(x, {w / 2, w - w / 2, h / 2, h - h / 2}, 0.0);
  return torch::nn::Conv2dImpl::forward(padded);  // [N, out, ceil(H / s), ceil(W / s)]
}

torch::nn::BatchNorm2d batch_norm(int64_t channels, const Norm& norm) {
  return torch::nn::BatchNorm2d(
      torch::nn::BatchNorm2dOptions(channels).eps(norm.eps).momentum(norm.momentum));
}

std::shared_ptr<Sequential> conv_norm_act(const std::string& path, const ConvSpec& spec,
                                          const Norm& norm, Act act, const std::string& type) {
  auto s = std::make_shared<Sequential>(type, path);
  if (spec.same && spec.stride > 1)
    s->push_back(std::make_shared<SameConv2dImpl>(spec));
  else
    s->push_back(conv(spec));
  if (norm.kind == Norm::kBatch) s->push_back(batch_norm(spec.out, norm));
  if (norm.kind == Norm::kLayer2d)
    s->push_back(std::make_shared<LayerNorm>(spec.out, norm.eps, /*channels_first=*/true));
  if (act != Act::kNone) s->push_back(activation(act, /*inplace=*/true));
  return s;
}

SqueezeExcitation::SqueezeExcitation(const std::string& path, int64_t channels, int64_t squeeze,
                                     Act act, Act scale_act)
    : Layer("SqueezeExcitation", path) {
  avgpool_ = register_module("avgpool", global_avg_pool());
  fc1_ = register_module("fc1", conv({channels, squeeze, 1, 1, 1, 0, true}));
  fc2_ = register_module("fc2", conv({squeeze, channels, 1, 1, 1, 0, true}));
  activation_ = register_module("activation", activation(act, act == Act::kSiLU));
  scale_activation_ = register_module("scale_activation", activation(scale_act, false));
}

at::Tensor SqueezeExcitation::forward(at::Tensor x, Probe& probe) {
  at::Tensor scale = probe(child_path("avgpool"), avgpool_->forward(x, probe));  // [N, C, 1, 1]
  scale = probe(child_path("fc1"), fc1_->forward(scale));                        // [N, S, 1, 1]
  scale = probe(child_path("activation"), activation_->forward(scale, probe));
  scale = probe(child_path("fc2"), fc2_->forward(scale));  // [N, C, 1, 1]
  scale = probe(child_path("scale_activation"), scale_activation_->forward(scale, probe));
  return scale * x;
}

ResidualBlock::ResidualBlock(const std::string& type, const std::string& path,
                             const std::string& body_name, bool residual)
    : Layer(type, path),
      body_(std::make_shared<Sequential>(child_path(body_name))),
      body_name_(body_name),
      residual_(residual) {}

void ResidualBlock::finish() {
  register_module(body_name_, body_);
}

at::Tensor ResidualBlock::forward(at::Tensor x, Probe& probe) {
  at::Tensor out = probe(body_->path(), body_->forward(x, probe));
  if (residual_) out += x;  // `out` is the body's own result (a tap holds a clone)
  return out;
}

FeaturesClassifier::FeaturesClassifier(const std::string& type,
                                       std::shared_ptr<Sequential> features,
                                       std::shared_ptr<Leaf> avgpool,
                                       std::shared_ptr<Sequential> classifier, bool flatten)
    : Layer(type, ""),
      features_(std::move(features)),
      classifier_(std::move(classifier)),
      avgpool_(std::move(avgpool)),
      flatten_(flatten) {
  register_module("features", features_);
  if (avgpool_) register_module("avgpool", avgpool_);
  register_module("classifier", classifier_);
}

at::Tensor FeaturesClassifier::forward(at::Tensor x, Probe& probe) {
  x = probe("features", features_->forward(std::move(x), probe));  // [N, C, H/32, W/32]
  x = avgpool_ ? probe("avgpool", avgpool_->forward(x, probe))
               : at::adaptive_avg_pool2d(x, {1, 1});  // [N, C, 1, 1]
  if (flatten_) x = x.flatten(1);                     // [N, C]
  return probe("classifier", classifier_->forward(std::move(x), probe));
}

int64_t make_divisible(double v, int64_t divisor, int64_t min_value) {
  if (min_value == 0) min_value = divisor;
  int64_t rounded = std::max(
      min_value, static_cast<int64_t>(v + static_cast<double>(divisor) / 2) / divisor * divisor);
  constexpr double kMaxLoss = 0.9;
  if (static_cast<double>(rounded) < kMaxLoss * v) rounded += divisor;
  return rounded;
}

Built pick_variant(const StateDict& sd, const VariantPick& pick, std::string& why_not) {
  std::string found, also;
  std::vector<std::string> known;
  for (const Variant& v : pick.variants) {
    known.push_back(v.arch + " " + join_widths(v.signature));
    if (v.signature != pick.got) continue;
    if (found.empty())
      found = v.arch;
    else
      also += (also.empty() ? "" : ", ") + v.arch;
  }
  if (found.empty()) {
    why_not = pick.what + " " + join_widths(pick.got) + " is no torchvision variant (" +
              join(known, "; ") + ")";
    return {};
  }
  Built b = pick.make(found, shape_of(sd, pick.classes_key).at(0));
  if (!also.empty())
    b.info.description += " (the keys fit " + also + " too: name the arch to pick one)";
  return b;
}

LayerPick fixed_layers(std::vector<std::string> names) {
  return [names = std::move(names)](const std::vector<TapInfo>&) { return names; };
}

LayerPick blocks_between(std::vector<std::string> first, std::vector<std::string> types,
                         std::vector<std::string> last) {
  return [first = std::move(first), types = std::move(types),
          last = std::move(last)](const std::vector<TapInfo>& taps) {
    std::vector<std::string> out = first;
    for (const std::string& name : taps_of_type(taps, types)) out.push_back(name);
    out.insert(out.end(), last.begin(), last.end());
    return out;
  };
}

int64_t count_indexed(const StateDict& sd, const std::string& prefix, const std::string& suffix,
                      int64_t first) {
  int64_t n = 0;
  while (sd.find(prefix + std::to_string(first + n) + suffix) != nullptr) ++n;
  return n;
}

torch::nn::Dropout dropout(double p, bool inplace) {
  return torch::nn::Dropout(torch::nn::DropoutOptions(p).inplace(inplace));
}

bool has_keys(const StateDict& sd, std::initializer_list<const char*> keys, std::string& why_not) {
  for (const char* key : keys) {
    if (sd.find(key) == nullptr) {
      why_not = std::string("no key ") + key;
      return false;
    }
  }
  return true;
}

Built described(std::shared_ptr<Layer> root, const std::string& family, const std::string& arch,
                const std::string& what, int64_t num_classes) {
  Built b;
  b.root = std::move(root);
  b.info.family = family;
  b.info.arch = arch;
  b.info.description =
      arch + ", " + (what.empty() ? "" : what + ", ") + std::to_string(num_classes) + " classes";
  b.info.num_classes = num_classes;
  return b;
}

void trunc_normal(at::Tensor& t, double std) {
  // nn.init.trunc_normal_: uniform in [2l-1, 2u-1] between the cdfs of the cut points, erfinv,
  // scaled and clamped.
  constexpr double kCut = 2.0;
  auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double l = cdf(-kCut / std), u = cdf(kCut / std);
  torch::NoGradGuard no_grad;
  t.uniform_(2 * l - 1, 2 * u - 1);
  t.erfinv_();
  t.mul_(std * std::sqrt(2.0));
  t.clamp_(-kCut, kCut);
}

void ones_zeros(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.named_parameters(/*recurse=*/false)) {
    if (p.key() == "weight") p.value().fill_(1.0);
    if (p.key() == "bias") p.value().zero_();
  }
}

void reset_defaults(torch::nn::Module& root) {
  for (const auto& m : root.modules(/*include_self=*/false)) {
    if (auto* c = m->as<torch::nn::Conv2d>()) c->reset_parameters();
    if (auto* l = m->as<torch::nn::Linear>()) l->reset_parameters();
    if (auto* b = m->as<torch::nn::BatchNorm2d>()) b->reset_parameters();
    if (dynamic_cast<LayerNorm*>(m.get())) ones_zeros(*m);
  }
}

void init_modules(torch::nn::Module& root, const InitRule& rule) {
  reset_defaults(root);
  torch::NoGradGuard no_grad;
  for (const auto& m : root.modules(/*include_self=*/false)) {
    if (auto* c = m->as<torch::nn::Conv2d>()) {
      rule.conv(*c);
      if (c->bias.defined() && !rule.keep_conv_bias) c->bias.zero_();
    } else if (auto* l = m->as<torch::nn::Linear>()) {
      rule.linear(*l);
      l->bias.zero_();
    } else if (m->as<torch::nn::BatchNorm2d>()) {
      ones_zeros(*m);
    }
  }
}

void kaiming_fan_out(at::Tensor& weight) {
  torch::nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
}

}  // namespace cnnscope::models::detail
