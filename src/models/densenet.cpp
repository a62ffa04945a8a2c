// DenseNet 121/161/169/201 as torchvision builds them (torchvision/models/densenet.py): `features`
// (conv0, norm0, relu0, pool0, denseblockN of _DenseLayer "denselayerK", transitionN, norm5), then
// relu, global average pool and `classifier`. Growth rate, bn_size, stem width and layers per block
// read from the keys. Leaves out memory_efficient (checkpointing changes no number) and dropout
// (drop_rate 0 in every builder; eval mode anyway). Also timm's names for densenet121 (the same
// keys and computation; timm's BatchNormAct2d norms give their output after the ReLU).
#include <array>

#include "models/blocks.h"

namespace cnnscope::models::detail {
namespace {

constexpr int kBlocks = 4;

struct DenseNetConfig {
  int64_t growth = 32;
  std::array<int64_t, kBlocks> layers{};
  int64_t stem = 64;
  int64_t bn_size = 4;
  int64_t num_classes = 0;
};

// torchvision's builders: (growth, layers per block, stem width).
const std::vector<std::pair<std::string, DenseNetConfig>>& standard() {
  static const std::vector<std::pair<std::string, DenseNetConfig>> table{
      {"densenet121", {32, {6, 12, 24, 16}, 64}},
      {"densenet161", {48, {6, 12, 36, 24}, 96}},
      {"densenet169", {32, {6, 12, 32, 32}, 64}},
      {"densenet201", {32, {6, 12, 48, 32}, 64}}};
  return table;
}

// nn.AvgPool2d(kernel_size=2, stride=2): the transitions' pool.
std::shared_ptr<Leaf> avg_pool2() {
  return std::make_shared<Leaf>("AvgPool2d", "AvgPool2d(kernel_size=2, stride=2, padding=0)",
                                [](at::Tensor x) {
                                  return at::avg_pool2d(x, {2, 2}, {2, 2});
                                });
}

// norm1, relu1, conv1 (1x1 to bn_size * growth), norm2, relu2, conv2 (3x3 to growth) over the
// concatenation of every earlier output of the block.
class DenseLayer : public Layer {
 public:
  DenseLayer(const std::string& path, int64_t in, const DenseNetConfig& c)
      : Layer("_DenseLayer", path) {
    const int64_t mid = c.bn_size * c.growth;
    norm1_ = register_module("norm1", batch_norm(in));
    relu1_ = register_module("relu1", relu(true));
    conv1_ = register_module("conv1", conv2d(in, mid, 1, 1, 0, false));
    norm2_ = register_module("norm2", batch_norm(mid));
    relu2_ = register_module("relu2", relu(true));
    conv2_ = register_module("conv2", conv2d(mid, c.growth, 3, 1, 1, false));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {  // x: the concatenation [N, in, H, W]
    x = probe(child_path("norm1"), norm1_->forward(x));
    x = probe(child_path("relu1"), relu1_->forward(x));
    x = probe(child_path("conv1"), conv1_->forward(x));  // [N, bn_size * growth, H, W]
    x = probe(child_path("norm2"), norm2_->forward(x));
    x = probe(child_path("relu2"), relu2_->forward(x));
    return probe(child_path("conv2"), conv2_->forward(x));  // [N, growth, H, W]
  }

 private:
  torch::nn::BatchNorm2d norm1_{nullptr}, norm2_{nullptr};
  torch::nn::ReLU relu1_{nullptr}, relu2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
};

// _DenseBlock (an nn.ModuleDict): every layer sees the concatenation of the input and all earlier
// layers' outputs; the block returns the concatenation of all.
class DenseBlock : public Layer {
 public:
  DenseBlock(const std::string& path, int64_t in, int64_t count, const DenseNetConfig& c)
      : Layer("_DenseBlock", path) {
    for (int64_t i = 0; i < count; ++i) {
      const std::string name = "denselayer" + std::to_string(i + 1);
      layers_.push_back(register_module(
          name, std::make_shared<DenseLayer>(child_path(name), in + i * c.growth, c)));
    }
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    std::vector<at::Tensor> features{x};
    for (const auto& layer : layers_) {
      at::Tensor input = features.size() == 1 ? features[0] : at::cat(features, 1);
      features.push_back(probe(layer->path(), layer->forward(std::move(input), probe)));
    }
    return at::cat(features, 1);  // [N, in + count * growth, H, W]
  }

 private:
  std::vector<std::shared_ptr<DenseLayer>> layers_;
};

class DenseNet : public Layer {
 public:
  explicit DenseNet(const DenseNetConfig& c) : Layer("DenseNet", "") {
    features_ = std::make_shared<Sequential>("features");
    features_->push_back("conv0", conv2d(3, c.stem, 7, 2, 3, false));
    features_->push_back("norm0", batch_norm(c.stem));
    features_->push_back("relu0", relu(true));
    features_->push_back("pool0", max_pool(3, 2, 1));
    int64_t channels = c.stem;
    for (int b = 0; b < kBlocks; ++b) {
      const std::string block = "denseblock" + std::to_string(b + 1);
      features_->push_back(
          block, std::make_shared<DenseBlock>("features." + block, channels, c.layers[b], c));
      channels += c.layers[b] * c.growth;
      if (b + 1 == kBlocks) break;
      const std::string name = "transition" + std::to_string(b + 1);
      auto transition = std::make_shared<Sequential>("_Transition", "features." + name);
      transition->push_back("norm", batch_norm(channels));
      transition->push_back("relu", relu(true));
      transition->push_back("conv", conv2d(channels, channels / 2, 1, 1, 0, false));
      transition->push_back("pool", avg_pool2());
      features_->push_back(name, transition);
      channels /= 2;
    }
    features_->push_back("norm5", batch_norm(channels));
    register_module("features", features_);
    classifier_ = register_module("classifier", linear(channels, c.num_classes));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = probe("features", features_->forward(std::move(x), probe));  // [N, C, H/32, W/32]
    x = at::relu_(x);  // F.relu(inplace=True): in place, as a CAM hook on features sees it
    x = at::adaptive_avg_pool2d(x, {1, 1}).flatten(1);  // [N, C]
    return probe("classifier", classifier_->forward(x));
  }

 private:
  std::shared_ptr<Sequential> features_;
  torch::nn::Linear classifier_{nullptr};
};

Built build(const std::string& arch, const DenseNetConfig& c) {
  return described(std::make_shared<DenseNet>(c), "densenet", arch,
                   "growth " + std::to_string(c.growth) + ", layers " +
                       join_widths({c.layers.begin(), c.layers.end()}) + ", stem " +
                       std::to_string(c.stem),
                   c.num_classes);
}

Built make(const std::string& arch, int64_t num_classes) {
  DenseNetConfig c;
  for (const auto& [name, config] : standard())
    if (name == arch) c = config;
  c.num_classes = num_classes;
  return build(arch, c);
}

Built detect(const StateDict& sd, std::string& why_not) {
  if (!has_keys(sd,
                {"features.conv0.weight", "features.denseblock1.denselayer1.conv1.weight",
                 "features.denseblock1.denselayer1.conv2.weight", "features.norm5.weight",
                 "classifier.weight"},
                why_not))
    return {};
  DenseNetConfig c;
  c.stem = shape_of(sd, "features.conv0.weight")[0];
  c.growth = shape_of(sd, "features.denseblock1.denselayer1.conv2.weight")[0];
  const int64_t mid = shape_of(sd, "features.denseblock1.denselayer1.conv1.weight")[0];
  if (c.growth <= 0 || mid % c.growth != 0) {
    why_not = "denselayer1's conv1 width is no multiple of the growth rate";
    return {};
  }
  c.bn_size = mid / c.growth;
  for (int b = 0; b < kBlocks; ++b) {
    c.layers[b] = count_indexed(sd, "features.denseblock" + std::to_string(b + 1) + ".denselayer",
                                ".conv1.weight", 1);
    if (c.layers[b] == 0) {
      why_not = "no key features.denseblock" + std::to_string(b + 1) + ".denselayer1.conv1.weight";
      return {};
    }
  }
  c.num_classes = shape_of(sd, "classifier.weight")[0];
  std::string arch = "densenet";
  for (const auto& [name, config] : standard())
    if (config.growth == c.growth && config.layers == c.layers && config.stem == c.stem &&
        c.bn_size == config.bn_size)
      arch = name;
  return build(arch, c);
}

// torchvision's: conv kaiming normal (fan_in, gain sqrt(2)), BN 1/0, linear bias 0 (its weight
// keeps nn.Linear's default).
void init(torch::nn::Module& root) {
  reset_defaults(root);
  torch::NoGradGuard no_grad;
  for (const auto& m : root.modules(/*include_self=*/false)) {
    if (auto* c = m->as<torch::nn::Conv2d>())
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanIn, torch::kLeakyReLU);
    else if (m->as<torch::nn::BatchNorm2d>())
      ones_zeros(*m);
    else if (auto* l = m->as<torch::nn::Linear>())
      l->bias.zero_();
  }
}

std::vector<std::string> archs() {
  std::vector<std::string> out;
  for (const auto& entry : standard()) out.push_back(entry.first);
  return out;
}

// timm's names (timm/models/densenet.py) for densenet121: torchvision's keys; a norm's tap is the
// ReLU after it (BatchNormAct2d). `features.norm5` and `features` (after norm5's ReLU in timm,
// which torchvision applies outside `features`) have no counterpart and are not shown.
Layout timm_layout() {
  Layout layout{.name = "timm", .archs = {{"timm/densenet121", "densenet121", "timm/densenet121"}}};
  auto same = [&layout](const std::string& name) { layout.renames.push_back({name, name}); };
  // A BatchNormAct2d: the BN's keys, the ReLU's output.
  auto norm_act = [&layout](const std::string& norm, const std::string& relu) {
    layout.renames.push_back({norm, norm, Rename::kKeys});
    layout.renames.push_back({norm, relu, Rename::kTaps});
  };
  same("features.conv0");
  norm_act("features.norm0", "features.relu0");
  same("features.pool0");
  const DenseNetConfig& c = standard().front().second;  // densenet121
  for (int b = 0; b < kBlocks; ++b) {
    const std::string block = "features.denseblock" + std::to_string(b + 1);
    same(block);
    for (int64_t i = 1; i <= c.layers[b]; ++i) {
      const std::string layer = block + ".denselayer" + std::to_string(i);
      same(layer);
      for (const std::string k : {"1", "2"}) {
        norm_act(layer + ".norm" + k, layer + ".relu" + k);
        same(layer + ".conv" + k);
      }
    }
    if (b + 1 == kBlocks) break;
    const std::string transition = "features.transition" + std::to_string(b + 1);
    same(transition);
    norm_act(transition + ".norm", transition + ".relu");
    same(transition + ".conv");
    same(transition + ".pool");
  }
  layout.renames.push_back({"features.norm5", "features.norm5", Rename::kKeys});
  same("classifier");
  return layout;
}

}  // namespace

const Family& densenet_family() {
  static const Family family{
      .name = "densenet",
      .archs = archs(),
      .classes_key = "classifier.weight",
      .detect = detect,
      .make = make,
      // The stem after its ReLU, the first dense block and the second.
      .default_layers =
          fixed_layers({"features.relu0", "features.denseblock1", "features.denseblock2"}),
      // The stem, then every dense block and transition.
      .all_layers = blocks_between({"features.relu0"}, {"_DenseBlock", "_Transition"}),
      .cam_layer = last_child_of("features"),
      .init = init,
      .layouts = {timm_layout()},
  };
  return family;
}

}  // namespace cnnscope::models::detail
