// SqueezeNet 1.0 and 1.1 as torchvision builds them (torchvision/models/squeezenet.py): `features`
// (conv, ReLU, ceil-mode max pools and Fire modules: squeeze 1x1, expand1x1 and expand3x3
// concatenated), `classifier` (Dropout, final 1x1 conv to the classes, ReLU, global average pool),
// flattened. Version read from the first conv (96 7x7 or 64 3x3). Leaves out nothing else.
#include "common/text.h"
#include "models/blocks.h"

namespace cnnscope::models::detail {
namespace {

constexpr int64_t kFinalWidth = 512;
constexpr double kDropout = 0.5;
constexpr double kFinalConvStd = 0.01;

class Fire : public Layer {
 public:
  Fire(const std::string& path, int64_t in, int64_t squeeze, int64_t expand) : Layer("Fire", path) {
    squeeze_ = register_module("squeeze", conv2d(in, squeeze, 1, 1, 0, true));
    squeeze_act_ = register_module("squeeze_activation", relu(true));
    expand1x1_ = register_module("expand1x1", conv2d(squeeze, expand, 1, 1, 0, true));
    expand1x1_act_ = register_module("expand1x1_activation", relu(true));
    expand3x3_ = register_module("expand3x3", conv2d(squeeze, expand, 3, 1, 1, true));
    expand3x3_act_ = register_module("expand3x3_activation", relu(true));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = probe(child_path("squeeze"), squeeze_->forward(x));
    x = probe(child_path("squeeze_activation"), squeeze_act_->forward(x));
    at::Tensor a = probe(child_path("expand1x1"), expand1x1_->forward(x));
    a = probe(child_path("expand1x1_activation"), expand1x1_act_->forward(a));
    at::Tensor b = probe(child_path("expand3x3"), expand3x3_->forward(x));
    b = probe(child_path("expand3x3_activation"), expand3x3_act_->forward(b));
    return at::cat({a, b}, 1);  // [N, 2 * expand, H, W]
  }

 private:
  torch::nn::Conv2d squeeze_{nullptr}, expand1x1_{nullptr}, expand3x3_{nullptr};
  torch::nn::ReLU squeeze_act_{nullptr}, expand1x1_act_{nullptr}, expand3x3_act_{nullptr};
};

// One entry of `features`: a Fire (squeeze, expand) or, with squeeze 0, a max pool.
struct Step {
  int64_t squeeze = 0, expand = 0;
};

class SqueezeNet : public Layer {
 public:
  SqueezeNet(bool v1_1, int64_t num_classes) : Layer("SqueezeNet", "") {
    features_ = std::make_shared<Sequential>("features");
    const int64_t stem = v1_1 ? 64 : 96;
    features_->push_back(v1_1 ? conv2d(3, stem, 3, 2, 0, true) : conv2d(3, stem, 7, 2, 0, true));
    features_->push_back(relu(true));
    const std::vector<Step> steps =
        v1_1 ? std::vector<Step>{{}, {16, 64},  {16, 64},  {},        {32, 128}, {32, 128},
                                 {}, {48, 192}, {48, 192}, {64, 256}, {64, 256}}
             : std::vector<Step>{{},        {16, 64},  {16, 64},  {32, 128}, {},       {32, 128},
                                 {48, 192}, {48, 192}, {64, 256}, {},        {64, 256}};
    int64_t channels = stem;
    for (const Step& s : steps) {
      if (s.squeeze == 0) {
        features_->push_back(max_pool(3, 2, 0, /*ceil_mode=*/true));
        continue;
      }
      const std::string path = "features." + std::to_string(features_->size());
      features_->push_back(std::make_shared<Fire>(path, channels, s.squeeze, s.expand));
      channels = 2 * s.expand;
    }
    register_module("features", features_);
    classifier_ = std::make_shared<Sequential>("classifier");
    classifier_->push_back(dropout(kDropout, false));
    classifier_->push_back(conv2d(kFinalWidth, num_classes, 1, 1, 0, true));
    classifier_->push_back(relu(true));
    classifier_->push_back(adaptive_avg_pool(1));
    register_module("classifier", classifier_);
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = probe("features", features_->forward(std::move(x), probe));      // [N, 512, h, w]
    x = probe("classifier", classifier_->forward(std::move(x), probe));  // [N, classes, 1, 1]
    return x.flatten(1);
  }

 private:
  std::shared_ptr<Sequential> features_, classifier_;
};

Built make(const std::string& arch, int64_t num_classes) {
  const bool v1_1 = arch == "squeezenet1_1";
  return described(std::make_shared<SqueezeNet>(v1_1, num_classes), "squeezenet", arch,
                   v1_1 ? "stem 64 3x3" : "stem 96 7x7", num_classes);
}

Built detect(const StateDict& sd, std::string& why_not) {
  if (!has_keys(sd, {"features.0.weight", "features.3.squeeze.weight", "classifier.1.weight"},
                why_not))
    return {};
  const std::vector<int64_t> stem = shape_of(sd, "features.0.weight");
  const std::vector<int64_t> head = shape_of(sd, "classifier.1.weight");
  if (head.size() != 4) {
    why_not = "classifier.1.weight is not SqueezeNet's final 1x1 convolution";
    return {};
  }
  std::string arch;
  if (stem == std::vector<int64_t>{96, 3, 7, 7}) arch = "squeezenet1_0";
  if (stem == std::vector<int64_t>{64, 3, 3, 3}) arch = "squeezenet1_1";
  if (arch.empty()) {
    why_not = "features.0.weight is " + shape_text(stem) +
              ", expected [96, 3, 7, 7] (squeezenet1_0) or [64, 3, 3, 3] (squeezenet1_1)";
    return {};
  }
  return make(arch, head[0]);
}

// torchvision's: final conv normal(0, 0.01), every other conv kaiming uniform (fan_in, gain
// sqrt(2)), conv biases 0.
void init(torch::nn::Module& root) {
  torch::NoGradGuard no_grad;
  const std::shared_ptr<torch::nn::Module> final_conv = *root.named_modules().find("classifier.1");
  for (const auto& m : root.modules(/*include_self=*/false)) {
    auto* c = m->as<torch::nn::Conv2d>();
    if (!c) continue;
    if (m.get() == final_conv.get())
      c->weight.normal_(0.0, kFinalConvStd);
    else
      torch::nn::init::kaiming_uniform_(c->weight, 0.0, torch::kFanIn, torch::kLeakyReLU);
    c->bias.zero_();
  }
}

// features.1 (the stem's ReLU), every Fire.
std::vector<std::string> all_layers(const std::vector<TapInfo>& taps) {
  std::vector<std::string> out{"features.1"};
  for (const std::string& name : taps_of_type(taps, {"Fire"})) out.push_back(name);
  return out;
}

}  // namespace

const Family& squeezenet_family() {
  static const Family family{
      .name = "squeezenet",
      .archs = {"squeezenet1_0", "squeezenet1_1"},
      .classes_key = "classifier.1.weight",
      .detect = detect,
      .make = make,
      // The stem's ReLU, the first Fire and the first Fire after the second pool.
      .default_layers =
          [](const std::vector<TapInfo>& taps) {
            std::vector<std::string> out{"features.1"};
            int pools = 0;
            bool early = false;
            for (const TapInfo& t : taps) {
              if (t.depth != 2 || !starts_with(t.name, "features.")) continue;
              if (t.type == "MaxPool2d") ++pools;
              if (t.type == "Fire" && !early) {
                out.push_back(t.name);
                early = true;
              } else if (t.type == "Fire" && pools == 2) {
                out.push_back(t.name);
                break;
              }
            }
            return out;
          },
      .all_layers = all_layers,
      .cam_layer = last_child_of("features"),
      .init = init,
  };
  return family;
}

}  // namespace cnnscope::models::detail
