// MNASNet 0.5/0.75/1.0/1.3 (the B1 variant) with torchvision's module names: `layers` (stem
// convs, six stacks of _InvertedResidual, the 1280-wide head conv) and `classifier`; the width
// multiplier read from the stem's width. Follows torchvision/models/mnasnet.py (state_dict
// version 2); leaves out version-1 state_dicts of alpha != 1.0 (their stem is 32 wide).
#include <array>

#include "common/error.h"
#include "models/blocks.h"

namespace cnnscope::models::detail {
namespace {

constexpr Norm kNorm{Norm::kBatch, 1e-5, 1 - 0.9997};  // _BN_MOMENTUM
constexpr int64_t kHead = 1280;
constexpr double kDropout = 0.2;
constexpr std::array<int64_t, 8> kDepths{32, 16, 24, 40, 80, 96, 192, 320};

struct Stack {
  int64_t kernel, stride, expansion, repeats;
};
constexpr std::array<Stack, 6> kStacks{
    {{3, 2, 3, 3}, {5, 2, 3, 3}, {5, 2, 6, 3}, {3, 1, 6, 2}, {5, 2, 6, 4}, {3, 1, 6, 1}}};

struct Alpha {
  const char* arch;
  double alpha;
};
constexpr std::array<Alpha, 4> kAlphas{
    {{"mnasnet0_5", 0.5}, {"mnasnet0_75", 0.75}, {"mnasnet1_0", 1.0}, {"mnasnet1_3", 1.3}}};

// _round_to_multiple_of(val, 8, 0.9).
int64_t round_to_8(double v) {
  constexpr int64_t kDivisor = 8;
  constexpr double kBias = 0.9;
  const int64_t rounded =
      std::max(kDivisor, static_cast<int64_t>(v + kDivisor / 2.0) / kDivisor * kDivisor);
  return static_cast<double>(rounded) >= kBias * v ? rounded : rounded + kDivisor;
}

std::array<int64_t, 8> depths(double alpha) {
  std::array<int64_t, 8> d{};
  for (size_t i = 0; i < d.size(); ++i) d[i] = round_to_8(static_cast<double>(kDepths[i]) * alpha);
  return d;
}

class InvertedResidual : public ResidualBlock {
 public:
  InvertedResidual(const std::string& path, int64_t in, int64_t out, int64_t kernel, int64_t stride,
                   int64_t expansion)
      : ResidualBlock("_InvertedResidual", path, "layers", in == out && stride == 1) {
    const int64_t mid = in * expansion;
    body_->push_back(conv({in, mid, 1, 1, 1, 0, false}));
    body_->push_back(batch_norm(mid, kNorm));
    body_->push_back(relu(true));
    body_->push_back(conv({mid, mid, kernel, stride, mid, kernel / 2, false}));
    body_->push_back(batch_norm(mid, kNorm));
    body_->push_back(relu(true));
    body_->push_back(conv({mid, out, 1, 1, 1, 0, false}));
    body_->push_back(batch_norm(out, kNorm));
    finish();
  }
};

class MNASNet : public Layer {
 public:
  MNASNet(double alpha, int64_t num_classes) : Layer("MNASNet", "") {
    const std::array<int64_t, 8> d = depths(alpha);
    layers_ = std::make_shared<Sequential>("layers");
    layers_->push_back(conv({3, d[0], 3, 2, 1, 1, false}));
    layers_->push_back(batch_norm(d[0], kNorm));
    layers_->push_back(relu(true));
    layers_->push_back(conv({d[0], d[0], 3, 1, d[0], 1, false}));
    layers_->push_back(batch_norm(d[0], kNorm));
    layers_->push_back(relu(true));
    layers_->push_back(conv({d[0], d[1], 1, 1, 1, 0, false}));
    layers_->push_back(batch_norm(d[1], kNorm));
    for (size_t s = 0; s < kStacks.size(); ++s) {
      const Stack& k = kStacks[s];
      const std::string path = "layers." + std::to_string(layers_->size());
      auto stack = std::make_shared<Sequential>(path);
      for (int64_t i = 0; i < k.repeats; ++i)
        stack->push_back(std::make_shared<InvertedResidual>(
            path + "." + std::to_string(i), i == 0 ? d[s + 1] : d[s + 2], d[s + 2], k.kernel,
            i == 0 ? k.stride : 1, k.expansion));
      layers_->push_back(stack);
    }
    layers_->push_back(conv({d[7], kHead, 1, 1, 1, 0, false}));
    layers_->push_back(batch_norm(kHead, kNorm));
    layers_->push_back(relu(true));
    register_module("layers", layers_);
    classifier_ = std::make_shared<Sequential>("classifier");
    classifier_->push_back(dropout(kDropout, true));
    classifier_->push_back(linear(kHead, num_classes));
    register_module("classifier", classifier_);
  }

  int64_t version() const override { return 2; }  // torchvision's MNASNet._version

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = probe("layers", layers_->forward(std::move(x), probe));  // [N, 1280, H/32, W/32]
    x = x.mean({2, 3});                                          // [N, 1280]
    return probe("classifier", classifier_->forward(std::move(x), probe));
  }

 private:
  std::shared_ptr<Sequential> layers_, classifier_;
};

Built make(const std::string& arch, int64_t num_classes) {
  double alpha = 1.0;
  for (const Alpha& a : kAlphas)
    if (arch == a.arch) alpha = a.alpha;
  const std::array<int64_t, 8> d = depths(alpha);
  return described(std::make_shared<MNASNet>(alpha, num_classes), "mnasnet", arch,
                   "widths " + join_widths({d.begin(), d.end()}), num_classes);
}

Built detect(const StateDict& sd, std::string& why_not) {
  if (!has_keys(sd, {"layers.0.weight", "layers.8.0.layers.0.weight", "classifier.1.weight"},
                why_not))
    return {};
  std::vector<Variant> variants;
  for (const Alpha& a : kAlphas) {
    const std::array<int64_t, 8> d = depths(a.alpha);
    variants.push_back({a.arch, {d.begin(), d.end()}});
  }
  // The widths: the stem, its 1x1 projection, then each stack's output.
  std::vector<int64_t> got{shape_of(sd, "layers.0.weight")[0], shape_of(sd, "layers.6.weight")[0]};
  for (size_t s = 0; s < kStacks.size(); ++s) {
    std::vector<int64_t> w = shape_of(sd, "layers." + std::to_string(8 + s) + ".0.layers.6.weight");
    got.push_back(w.empty() ? 0 : w[0]);
  }
  return pick_variant(sd, {std::move(variants), got, "widths", "classifier.1.weight", make},
                      why_not);
}

// torchvision's MNASNet init: conv kaiming normal (fan_out, relu), BN 1/0, linear kaiming
// uniform (fan_out, sigmoid), biases 0.
void init(torch::nn::Module& root) {
  init_modules(root, {[](auto& c) { kaiming_fan_out(c.weight); },
                      [](auto& l) {
                        torch::nn::init::kaiming_uniform_(l.weight, 0.0, torch::kFanOut,
                                                          torch::kSigmoid);
                      }});
}

}  // namespace

// Default layers: the stem's ReLU, the first and third stacks; all: the stem's ReLUs, every block
// and the head's ReLU.
const Family& mnasnet_family() {
  static const Family f{
      "mnasnet",
      {"mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"},
      "classifier.1.weight",
      detect,
      make,
      fixed_layers({"layers.2", "layers.8", "layers.10"}),
      blocks_between({"layers.2", "layers.5"}, {"_InvertedResidual"}, {"layers.16"}),
      last_child_of("layers"),
      presets_for({"mnasnet0_75", "mnasnet1_3"}),
      init,
      nullptr};
  return f;
}

}  // namespace cnnscope::models::detail
