// Building blocks of torchvision's mobile-era families (torchvision/ops/misc.py and
// stochastic_depth.py, models/convnext.py): parameter-free leaves with Python's class names and
// reprs (ReLU6, Hardswish, Hardsigmoid, SiLU, Sigmoid, GELU, Permute, Flatten, StochasticDepth,
// AdaptiveAvgPool2d(1)), LayerNorm / LayerNorm2d, Conv2dNormActivation, SqueezeExcitation, the
// variant matcher and the initializers the families share. Leaves out training behaviour
// (StochasticDepth and Dropout are the identity: networks run in eval mode). Not a public header.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "models/family.h"

namespace cnnscope::models::detail {

// A parameter-free module: Python's class name, its print(model) line and what it computes.
class Leaf : public Layer {
 public:
  using Fn = std::function<at::Tensor(at::Tensor)>;
  Leaf(const std::string& type, std::string repr, Fn fn);
  at::Tensor forward(at::Tensor x, Probe& probe) override { return fn_(std::move(x)); }
  std::string repr() const override { return repr_; }

 private:
  std::string repr_;
  Fn fn_;
};

enum class Act { kNone, kReLU, kReLU6, kHardswish, kHardsigmoid, kSiLU, kSigmoid, kGELU };

// The activation as torchvision builds it; `inplace` where Python passes inplace=True (it shows
// in the repr of ReLU, ReLU6 and SiLU only, as in Python).
std::shared_ptr<Leaf> activation(Act act, bool inplace);
std::shared_ptr<Leaf> permute(std::vector<int64_t> dims);  // Permute(): a view, as torch.permute
std::shared_ptr<Leaf> flatten();                           // Flatten(start_dim=1, end_dim=-1)
std::shared_ptr<Leaf> stochastic_depth(double p);          // identity in eval mode
std::shared_ptr<Leaf> global_avg_pool();                   // AdaptiveAvgPool2d(output_size=1)

// nn.LayerNorm over the last dimension, or torchvision's LayerNorm2d over the channels of
// [N, C, H, W] (permute to NHWC, layer_norm, permute back, as Python does).
class LayerNorm : public Layer {
 public:
  LayerNorm(int64_t channels, double eps, bool channels_first);
  at::Tensor forward(at::Tensor x, Probe& probe) override;
  std::string repr() const override;

 private:
  int64_t channels_;
  double eps_;
  bool channels_first_;
  at::Tensor weight_, bias_;  // [C]
};

// nn.Linear computed as Python computes it: at::linear, the bias fused into the matmul for inputs
// of any rank (LibTorch's LinearImpl::forward adds it in a second pass beyond 2-d: ConvNeXt's MLP
// on [N, H, W, C] ran 13% slower). Still a torch::nn::Linear for summary and reprs.
class FusedLinearImpl : public torch::nn::LinearImpl {
 public:
  FusedLinearImpl(int64_t in, int64_t out) : torch::nn::LinearImpl(in, out) {}
  at::Tensor forward(const at::Tensor& x) { return at::linear(x, weight, bias); }
};

struct Norm {
  enum Kind { kBatch, kLayer2d, kNone } kind = kBatch;
  double eps = 1e-5;
  double momentum = 0.1;
};

struct ConvSpec {
  int64_t in = 0, out = 0, kernel = 1, stride = 1;
  int64_t groups = 1;
  int64_t padding = -1;  // -1: (kernel - 1) / 2, torchvision's default
  bool bias = false;
  // TensorFlow's "SAME" padding (timm's tf_ variants): the same as (kernel - 1) / 2 at stride 1,
  // a SameConv2d (padding that depends on the input size) when strided. Not for `padding` >= 0.
  bool same = false;
};

torch::nn::Conv2d conv(const ConvSpec& spec);

// timm's Conv2dSame: a Conv2d without padding whose input is first padded with zeros by
// max((ceil(size / stride) - 1) * stride + kernel - size, 0) per spatial dim, the smaller half
// before (TensorFlow's "SAME"), computed at each forward from the input's size. Still a
// torch::nn::Conv2d for summary, init and reprs.
class SameConv2dImpl : public torch::nn::Conv2dImpl {
 public:
  explicit SameConv2dImpl(const ConvSpec& spec);
  at::Tensor forward(const at::Tensor& x);  // [N, C, H, W]
};
torch::nn::BatchNorm2d batch_norm(int64_t channels, const Norm& norm);

// torchvision.ops.Conv2dNormActivation (or a subclass named `type`, e.g. RegNet's
// SimpleStemIN): children 0 conv (a SameConv2d when spec.same and strided), 1 norm (unless
// none), then the activation (unless none).
std::shared_ptr<Sequential> conv_norm_act(const std::string& path, const ConvSpec& spec,
                                          const Norm& norm, Act act,
                                          const std::string& type = "Conv2dNormActivation");

// torchvision.ops.SqueezeExcitation: avgpool, fc1, activation, fc2, scale_activation; the input
// scaled by the result.
class SqueezeExcitation : public Layer {
 public:
  SqueezeExcitation(const std::string& path, int64_t channels, int64_t squeeze, Act act,
                    Act scale_act);
  at::Tensor forward(at::Tensor x, Probe& probe) override;

 private:
  std::shared_ptr<Leaf> avgpool_, activation_, scale_activation_;
  torch::nn::Conv2d fc1_{nullptr}, fc2_{nullptr};
};

// An inverted residual block of MobileNet v2/v3 and MNASNet: one Sequential child `body_name`,
// plus the input when the shape stays (`residual`).
class ResidualBlock : public Layer {
 public:
  ResidualBlock(const std::string& type, const std::string& path, const std::string& body_name,
                bool residual);
  at::Tensor forward(at::Tensor x, Probe& probe) override;

 protected:
  std::shared_ptr<Sequential> body_;  // registered by finish()
  // Registers body_ (filled by the subclass's constructor).
  void finish();

 private:
  std::string body_name_;
  bool residual_;
};

// The networks that end features -> avgpool -> [flatten] -> classifier (MobileNet, EfficientNet,
// ConvNeXt). `avgpool` may be null: a functional adaptive_avg_pool2d with no module, as
// MobileNet v2's forward does.
class FeaturesClassifier : public Layer {
 public:
  FeaturesClassifier(const std::string& type, std::shared_ptr<Sequential> features,
                     std::shared_ptr<Leaf> avgpool, std::shared_ptr<Sequential> classifier,
                     bool flatten);
  at::Tensor forward(at::Tensor x, Probe& probe) override;

 private:
  std::shared_ptr<Sequential> features_, classifier_;
  std::shared_ptr<Leaf> avgpool_;
  bool flatten_;
};

// torchvision's _make_divisible: `v` rounded to the nearest multiple of `divisor` (at least
// `min_value`, default divisor), never down by more than 10%.
int64_t make_divisible(double v, int64_t divisor, int64_t min_value = 0);

// Detection by variant: the variant whose signature (widths and block counts read from the keys)
// equals `got`, made with the rows of `classes_key` as its classes. None: root == nullptr and
// `why_not` lists the signature and the known ones. Two variants with one signature: the first,
// its description naming the other (the keys cannot tell them apart).
struct Variant {
  std::string arch;
  std::vector<int64_t> signature;
};
struct VariantPick {
  std::vector<Variant> variants;
  std::vector<int64_t> got;
  std::string what;  // what the signature lists: "stem width, blocks per stage"
  std::string classes_key;
  std::function<Built(const std::string& arch, int64_t num_classes)> make;
};
Built pick_variant(const StateDict& sd, const VariantPick& pick, std::string& why_not);

// Layer picks: always `names`; or `first`, every tap of one of `types`, then `last`.
LayerPick fixed_layers(std::vector<std::string> names);
LayerPick blocks_between(std::vector<std::string> first, std::vector<std::string> types,
                         std::vector<std::string> last = {});

// How many `prefix<i>suffix` keys exist for i = first, first + 1, ... (stops at the first gap).
int64_t count_indexed(const StateDict& sd, const std::string& prefix, const std::string& suffix,
                      int64_t first = 0);

torch::nn::Dropout dropout(double p, bool inplace);

// Fails (returns false, `why_not` = "no key K") unless every key is in `sd`.
bool has_keys(const StateDict& sd, std::initializer_list<const char*> keys, std::string& why_not);

// A Built of `root`: described "<arch>, <what>, N classes".
Built described(std::shared_ptr<Layer> root, const std::string& family, const std::string& arch,
                const std::string& what, int64_t num_classes);

// Initializers of torchvision's families (torch.nn.init's formulas, LibTorch's generator).
void trunc_normal(at::Tensor& t, double std);  // mean 0, cut at -2..2 (absolute), as nn.init
void ones_zeros(torch::nn::Module& m);         // BN / LayerNorm: weight 1, bias 0
// Every parameter LibTorch's constructors initialized, drawn again (PyTorch's defaults: conv and
// linear kaiming uniform a=sqrt(5), bias uniform +-1/sqrt(fan_in)) in module order.
void reset_defaults(torch::nn::Module& root);
// A family's init as torchvision writes it: reset_defaults, then in module order every conv
// through `conv` (its bias zeroed after unless `keep_conv_bias`), every linear through `linear`
// (bias zeroed after), BN weight 1 and bias 0.
struct InitRule {
  std::function<void(torch::nn::Conv2dImpl& conv)> conv;
  std::function<void(torch::nn::LinearImpl& linear)> linear;
  bool keep_conv_bias = false;
};
void init_modules(torch::nn::Module& root, const InitRule& rule);
void kaiming_fan_out(at::Tensor& weight);  // kaiming normal, fan_out, gain sqrt(2)

}  // namespace cnnscope::models::detail
