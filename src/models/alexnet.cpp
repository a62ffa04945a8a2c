// AlexNet of any widths, with PyTorch's module names: the seed's half-width one (no avgpool) and
// torchvision's (AdaptiveAvgPool2d(6,6)). Follows torchvision/models/alexnet.py and the seed.
#include <array>

#include "common/error.h"
#include "models/family.h"

namespace cnnscope::models::detail {
namespace {

constexpr size_t kConvs = 5;
// Indices of the convolutions in `features` and of the Linears in `classifier`.
constexpr std::array<int, kConvs> kConvIndex{0, 3, 6, 8, 10};
constexpr int64_t kFirstKernel = 11;
constexpr int64_t kPooledSize = 6;  // features end at 6x6 for a 224x224 input
constexpr std::array<int64_t, kConvs> kTorchvisionWidths{64, 192, 384, 256, 256};
constexpr int64_t kTorchvisionHidden = 4096;
constexpr std::array<int64_t, kConvs> kSeedWidths{48, 128, 192, 192, 128};
constexpr int64_t kSeedHidden = 2048;

struct AlexNetConfig {
  std::array<int64_t, kConvs> widths{};
  int64_t hidden = 0;
  int64_t num_classes = 0;
  bool avgpool = false;  // torchvision's AdaptiveAvgPool2d((6, 6)); the seed has none
};

class AlexNet : public Layer {
 public:
  explicit AlexNet(const AlexNetConfig& c) : Layer("AlexNet", "") {
    features_ = std::make_shared<Sequential>("features");
    const auto& w = c.widths;
    features_->push_back(conv2d(3, w[0], kFirstKernel, 4, 2, true));
    features_->push_back(relu(true));
    features_->push_back(max_pool(3, 2));
    features_->push_back(conv2d(w[0], w[1], 5, 1, 2, true));
    features_->push_back(relu(true));
    features_->push_back(max_pool(3, 2));
    features_->push_back(conv2d(w[1], w[2], 3, 1, 1, true));
    features_->push_back(relu(true));
    features_->push_back(conv2d(w[2], w[3], 3, 1, 1, true));
    features_->push_back(relu(true));
    features_->push_back(conv2d(w[3], w[4], 3, 1, 1, true));
    features_->push_back(relu(true));
    features_->push_back(max_pool(3, 2));
    register_module("features", features_);
    if (c.avgpool) avgpool_ = register_module("avgpool", adaptive_avg_pool(kPooledSize));
    classifier_ = std::make_shared<Sequential>("classifier");
    classifier_->push_back(dropout());
    classifier_->push_back(linear(w[4] * kPooledSize * kPooledSize, c.hidden));
    classifier_->push_back(relu(true));
    classifier_->push_back(dropout());
    classifier_->push_back(linear(c.hidden, c.hidden));
    classifier_->push_back(relu(true));
    classifier_->push_back(linear(c.hidden, c.num_classes));
    register_module("classifier", classifier_);
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = probe("features", features_->forward(std::move(x), probe));  // [N, C, 6, 6] at 224
    if (avgpool_) x = probe("avgpool", avgpool_->forward(x));
    x = torch::flatten(x, 1);  // [N, C*36]
    return probe("classifier", classifier_->forward(std::move(x), probe));
  }

 private:
  std::shared_ptr<Sequential> features_;
  torch::nn::AdaptiveAvgPool2d avgpool_{nullptr};
  std::shared_ptr<Sequential> classifier_;
};

std::string describe(const AlexNetConfig& c) {
  std::string d = "alexnet, widths " + join_widths({c.widths.begin(), c.widths.end()}) + ", " +
                  std::to_string(c.num_classes) + " classes";
  if (c.widths == kSeedWidths && c.hidden == kSeedHidden && !c.avgpool)
    d += ": the seed's AlexNet";
  else if (c.widths == kTorchvisionWidths && c.hidden == kTorchvisionHidden && c.avgpool)
    d += ": torchvision's AlexNet";
  else
    d += c.avgpool ? " (with avgpool)" : " (no avgpool)";
  return d;
}

Built build(const AlexNetConfig& c) {
  Built b;
  b.root = std::make_shared<AlexNet>(c);
  b.info.family = "alexnet";
  b.info.arch = c.avgpool ? "alexnet" : "alexnet_seed";
  b.info.description = describe(c);
  b.info.num_classes = c.num_classes;
  return b;
}

Built detect(const StateDict& sd, std::string& why_not) {
  AlexNetConfig c;
  int64_t in = 3;
  for (size_t i = 0; i < kConvs; ++i) {
    const std::string key = "features." + std::to_string(kConvIndex[i]) + ".weight";
    std::vector<int64_t> s = shape_of(sd, key);
    if (s.size() != 4 || s[1] != in || (i == 0 && s[2] != kFirstKernel)) {
      why_not = s.empty() ? "no key " + key
                          : key + " is not AlexNet's convolution from " + std::to_string(in) +
                                " channels";
      return {};
    }
    c.widths[i] = in = s[0];
  }
  std::vector<int64_t> first = shape_of(sd, "classifier.1.weight");
  std::vector<int64_t> last = shape_of(sd, "classifier.6.weight");
  if (first.size() != 2 || last.size() != 2) {
    why_not = "no Linear classifier.1 / classifier.6";
    return {};
  }
  c.hidden = first[0];
  c.num_classes = last[0];
  // Keys cannot tell whether an avgpool exists; torchvision's widths mean torchvision's model.
  c.avgpool = c.widths == kTorchvisionWidths;
  return build(c);
}

Built make(const std::string& arch, int64_t num_classes) {
  AlexNetConfig c;
  c.num_classes = num_classes;
  if (arch == "alexnet") {
    c.widths = kTorchvisionWidths;
    c.hidden = kTorchvisionHidden;
    c.avgpool = true;
  } else {
    c.widths = kSeedWidths;
    c.hidden = kSeedHidden;
  }
  return build(c);
}

}  // namespace

const Family& alexnet_family() {
  constexpr size_t kDefaultLayers = 3;
  static const Family family{
      .name = "alexnet",
      .archs = {"alexnet", "alexnet_seed"},
      .classes_key = "classifier.6.weight",
      .detect = detect,
      .make = make,
      // The ReLUs after the first three convolutions (features.1, features.4, features.7).
      .default_layers = features_relus(kDefaultLayers),
      .all_layers = features_relus(),
      .cam_layer = last_child_of("features"),
      // The seed's preset for both (torchvision's alexnet weights use "imagenet": pass --preset).
      .preset = [](const std::string&) -> std::string { return "alexnet"; },
  };
  return family;
}

}  // namespace cnnscope::models::detail
