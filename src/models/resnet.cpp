// ResNet 18/34/50/101/152, ResNeXt 50_32x4d/101_32x8d/101_64x4d and Wide ResNet 50_2/101_2
// (BasicBlock or Bottleneck, stride on the 3x3 conv, `downsample.0/1`; Bottleneck's width
// int(planes * width_per_group / 64) * groups) with torchvision's and the seed's module names;
// block type, counts, groups and width read from the keys. Follows torchvision/models/resnet.py;
// leaves out replace_stride_with_dilation and zero_init_residual (off in every builder).
// Also timm's names for them (timm/models/resnet.py: the same keys, `act1`..`act3` and
// `global_pool` for taps) and timm's variants that compute differently: the deep stem (`conv1`
// a Sequential of three 3x3 convs) with average-pool downsampling (`downsample.0` AvgPool2d or
// Identity, `.1` conv, `.2` BN) of resnet50d, and the SE module (`se.fc1/fc2` 1x1 convs with
// bias, ReLU, sigmoid gate, before the residual add) of seresnext50_32x4d. Leaves out timm's
// other stems (deep_tiered, tiered), drop_block, anti-aliasing and timm's init (zero_init_last).
#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "common/error.h"
#include "models/blocks.h"

namespace cnnscope::models::detail {
namespace {

constexpr int kStages = 4;
constexpr std::array<int64_t, kStages> kPlanes{64, 128, 256, 512};
constexpr int64_t kStemWidth = 64;
constexpr int64_t kBottleneckExpansion = 4;

constexpr int64_t kBaseWidth = 64;

struct ResNetConfig {
  bool bottleneck = false;
  std::array<int64_t, kStages> blocks{};
  int64_t num_classes = 0;
  int64_t groups = 1;
  int64_t width_per_group = kBaseWidth;
  int64_t deep_stem = 0;  // timm's deep stem: its inner width (resnet50d: 32); 0: one 7x7 conv
  bool avg_down = false;  // timm's avg_down: downsample = AvgPool2d, 1x1 conv (stride 1), BN
  bool se = false;        // timm's SEModule after the last BN of each block
};

bool same_layout(const ResNetConfig& a, const ResNetConfig& b) {
  return a.bottleneck == b.bottleneck && a.blocks == b.blocks && a.groups == b.groups &&
         a.width_per_group == b.width_per_group && a.deep_stem == b.deep_stem &&
         a.avg_down == b.avg_down && a.se == b.se;
}

// torchvision's builders, in --arch order.
const std::vector<std::pair<std::string, ResNetConfig>>& standard() {
  static const std::vector<std::pair<std::string, ResNetConfig>> table{
      {"resnet18", {false, {2, 2, 2, 2}, 0}},
      {"resnet34", {false, {3, 4, 6, 3}, 0}},
      {"resnet50", {true, {3, 4, 6, 3}, 0}},
      {"resnet101", {true, {3, 4, 23, 3}, 0}},
      {"resnet152", {true, {3, 8, 36, 3}, 0}},
      {"resnext50_32x4d", {true, {3, 4, 6, 3}, 0, 32, 4}},
      {"resnext101_32x8d", {true, {3, 4, 23, 3}, 0, 32, 8}},
      {"resnext101_64x4d", {true, {3, 4, 23, 3}, 0, 64, 4}},
      {"wide_resnet50_2", {true, {3, 4, 6, 3}, 0, 1, 128}},
      {"wide_resnet101_2", {true, {3, 4, 23, 3}, 0, 1, 128}}};
  return table;
}

// timm's variants that compute differently (Family::variants; named by the timm layout only).
const std::vector<std::pair<std::string, ResNetConfig>>& timm_variants() {
  constexpr int64_t kDeepStem = 32;
  static const std::vector<std::pair<std::string, ResNetConfig>> table{
      {"resnet50d", {true, {3, 4, 6, 3}, 0, 1, kBaseWidth, kDeepStem, true, false}},
      {"seresnext50_32x4d", {true, {3, 4, 6, 3}, 0, 32, 4, 0, false, true}}};
  return table;
}

// nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False), timm's downsample_avg pool.
std::shared_ptr<Leaf> avg_pool_down(int64_t stride) {
  return std::make_shared<Leaf>(
      "AvgPool2d", "AvgPool2d(kernel_size=2, stride=" + std::to_string(stride) + ", padding=0)",
      [stride](at::Tensor x) {
        return at::avg_pool2d(x, {2, 2}, {stride, stride}, {0, 0}, /*ceil_mode=*/true,
                              /*count_include_pad=*/false);
      });
}

std::shared_ptr<Sequential> downsample(const std::string& path, int64_t in, int64_t out,
                                       int64_t stride, bool avg_down) {
  auto d = std::make_shared<Sequential>(path);
  if (avg_down) {
    if (stride == 1)
      d->push_back(
          std::make_shared<Leaf>("Identity", "Identity()", [](at::Tensor x) { return x; }));
    else
      d->push_back(avg_pool_down(stride));
  }
  d->push_back(conv2d(in, out, 1, avg_down ? 1 : stride, 0, false));
  d->push_back(batch_norm(out));
  return d;
}

// timm's SEModule: x * sigmoid(fc2(relu(fc1(mean over H, W)))), reduced to channels / 16
// rounded to a multiple of 8 (timm's make_divisible with round_limit 0).
class SqueezeExcite : public Layer {
 public:
  SqueezeExcite(const std::string& path, int64_t channels) : Layer("SEModule", path) {
    constexpr int64_t kRatio = 16, kDivisor = 8;
    const int64_t reduced =
        std::max(kDivisor, (channels / kRatio + kDivisor / 2) / kDivisor * kDivisor);
    fc1_ = register_module("fc1", conv2d(channels, reduced, 1, 1, 0, true));
    act_ = register_module("act", activation(Act::kReLU, true));
    fc2_ = register_module("fc2", conv2d(reduced, channels, 1, 1, 0, true));
    gate_ = register_module("gate", activation(Act::kSigmoid, false));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {  // x: [N, C, H, W]
    at::Tensor s = x.mean({2, 3}, /*keepdim=*/true);         // [N, C, 1, 1]
    s = probe(child_path("fc1"), fc1_->forward(s));          // [N, C / 16, 1, 1]
    s = probe(child_path("act"), act_->forward(s, probe));
    s = probe(child_path("fc2"), fc2_->forward(s));  // [N, C, 1, 1]
    s = probe(child_path("gate"), gate_->forward(s, probe));
    return x * s;
  }

 private:
  torch::nn::Conv2d fc1_{nullptr}, fc2_{nullptr};
  std::shared_ptr<Leaf> act_, gate_;
};

// The two blocks share their tail: `out = se(out); out += identity; relu(out)`, identity
// downsampled if needed.
class Block : public Layer {
 public:
  using Layer::Layer;

 protected:
  void add_downsample(int64_t in, int64_t out, int64_t stride, const ResNetConfig& c) {
    if (stride != 1 || in != out)
      downsample_ = register_module(
          "downsample", downsample(child_path("downsample"), in, out, stride, c.avg_down));
  }
  at::Tensor finish(at::Tensor out, const at::Tensor& x, Probe& probe) {
    if (se_) out = probe(se_->path(), se_->forward(out, probe));
    at::Tensor identity = x;
    if (downsample_) identity = probe(child_path("downsample"), downsample_->forward(x, probe));
    out += identity;
    return probe(child_path("relu"), relu_->forward(out));
  }
  at::Tensor step(torch::nn::Conv2d& conv, const std::string& conv_name, torch::nn::BatchNorm2d& bn,
                  const std::string& bn_name, at::Tensor x, Probe& probe) {
    x = probe(child_path(conv_name), conv->forward(x));
    return probe(child_path(bn_name), bn->forward(x));
  }

  torch::nn::ReLU relu_{nullptr};
  std::shared_ptr<SqueezeExcite> se_;
  std::shared_ptr<Sequential> downsample_;
};

class BasicBlock : public Block {
 public:
  BasicBlock(const std::string& path, int64_t in, int64_t planes, int64_t stride,
             const ResNetConfig& c)
      : Block("BasicBlock", path) {
    conv1_ = register_module("conv1", conv2d(in, planes, 3, stride, 1, false));
    bn1_ = register_module("bn1", batch_norm(planes));
    relu_ = register_module("relu", relu(true));
    conv2_ = register_module("conv2", conv2d(planes, planes, 3, 1, 1, false));
    bn2_ = register_module("bn2", batch_norm(planes));
    if (c.se)
      se_ = register_module("se", std::make_shared<SqueezeExcite>(child_path("se"), planes));
    add_downsample(in, planes, stride, c);
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    at::Tensor out = step(conv1_, "conv1", bn1_, "bn1", x, probe);
    out = probe(child_path("relu"), relu_->forward(out));
    out = step(conv2_, "conv2", bn2_, "bn2", out, probe);
    return finish(out, x, probe);
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
};

class Bottleneck : public Block {
 public:
  Bottleneck(const std::string& path, int64_t in, int64_t planes, int64_t stride,
             const ResNetConfig& c)
      : Block("Bottleneck", path) {
    const int64_t out = planes * kBottleneckExpansion;
    const int64_t width = planes * c.width_per_group / kBaseWidth * c.groups;
    conv1_ = register_module("conv1", conv2d(in, width, 1, 1, 0, false));
    bn1_ = register_module("bn1", batch_norm(width));
    conv2_ = register_module("conv2", conv2d(width, width, 3, stride, 1, false, c.groups));
    bn2_ = register_module("bn2", batch_norm(width));
    conv3_ = register_module("conv3", conv2d(width, out, 1, 1, 0, false));
    bn3_ = register_module("bn3", batch_norm(out));
    if (c.se) se_ = register_module("se", std::make_shared<SqueezeExcite>(child_path("se"), out));
    relu_ = register_module("relu", relu(true));
    add_downsample(in, out, stride, c);
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    at::Tensor out = step(conv1_, "conv1", bn1_, "bn1", x, probe);
    out = probe(child_path("relu"), relu_->forward(out));
    out = step(conv2_, "conv2", bn2_, "bn2", out, probe);
    out = probe(child_path("relu"), relu_->forward(out));
    out = step(conv3_, "conv3", bn3_, "bn3", out, probe);
    return finish(out, x, probe);
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
};

class ResNet : public Layer {
 public:
  explicit ResNet(const ResNetConfig& c) : Layer("ResNet", "") {
    if (c.deep_stem > 0)
      deep_stem_ = register_module("conv1", deep_stem(c.deep_stem));
    else
      conv1_ = register_module("conv1", conv2d(3, kStemWidth, 7, 2, 3, false));
    bn1_ = register_module("bn1", batch_norm(kStemWidth));
    relu_ = register_module("relu", relu(true));
    maxpool_ = register_module("maxpool", max_pool(3, 2, 1));
    const int64_t expansion = c.bottleneck ? kBottleneckExpansion : 1;
    int64_t in = kStemWidth;
    for (int s = 0; s < kStages; ++s) {
      const std::string name = "layer" + std::to_string(s + 1);
      auto stage = std::make_shared<Sequential>(name);
      for (int64_t b = 0; b < c.blocks[s]; ++b) {
        const std::string path = name + "." + std::to_string(b);
        const int64_t stride = (s > 0 && b == 0) ? 2 : 1;
        if (c.bottleneck)
          stage->push_back(std::make_shared<Bottleneck>(path, in, kPlanes[s], stride, c));
        else
          stage->push_back(std::make_shared<BasicBlock>(path, in, kPlanes[s], stride, c));
        in = kPlanes[s] * expansion;
      }
      stages_[s] = register_module(name, stage);
    }
    avgpool_ = register_module("avgpool", adaptive_avg_pool(1));
    fc_ = register_module("fc", linear(in, c.num_classes));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    // [N, 64, H/2, W/2]
    x = probe("conv1", deep_stem_ ? deep_stem_->forward(x, probe) : conv1_->forward(x));
    x = probe("bn1", bn1_->forward(x));
    x = probe("relu", relu_->forward(x));
    x = probe("maxpool", maxpool_->forward(x));  // [N, 64, H/4, W/4]
    for (int s = 0; s < kStages; ++s)
      x = probe(stages_[s]->path(), stages_[s]->forward(std::move(x), probe));
    x = probe("avgpool", avgpool_->forward(x));  // [N, C, 1, 1]
    x = torch::flatten(x, 1);                    // [N, C]
    return probe("fc", fc_->forward(x));
  }

 private:
  // timm's deep stem: 3x3 convs 3 -> width (stride 2) -> width -> 64, BN and ReLU between.
  static std::shared_ptr<Sequential> deep_stem(int64_t width) {
    auto stem = std::make_shared<Sequential>("conv1");
    stem->push_back(conv2d(3, width, 3, 2, 1, false));
    stem->push_back(batch_norm(width));
    stem->push_back(relu(true));
    stem->push_back(conv2d(width, width, 3, 1, 1, false));
    stem->push_back(batch_norm(width));
    stem->push_back(relu(true));
    stem->push_back(conv2d(width, kStemWidth, 3, 1, 1, false));
    return stem;
  }

  torch::nn::Conv2d conv1_{nullptr};
  std::shared_ptr<Sequential> deep_stem_;  // instead of conv1_
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::ReLU relu_{nullptr};
  torch::nn::MaxPool2d maxpool_{nullptr};
  std::array<std::shared_ptr<Sequential>, kStages> stages_;
  torch::nn::AdaptiveAvgPool2d avgpool_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

Built build(const ResNetConfig& c) {
  Built b;
  b.root = std::make_shared<ResNet>(c);
  b.info.family = "resnet";
  b.info.arch = "resnet";
  for (const auto* table : {&standard(), &timm_variants()})
    for (const auto& [name, config] : *table)
      if (same_layout(config, c)) b.info.arch = name;
  std::string shape;
  if (c.groups != 1 || c.width_per_group != kBaseWidth)
    shape =
        ", groups " + std::to_string(c.groups) + " x width " + std::to_string(c.width_per_group);
  if (c.deep_stem > 0) shape += ", deep stem " + std::to_string(c.deep_stem);
  if (c.avg_down) shape += ", avg-pool downsample";
  if (c.se) shape += ", SE";
  b.info.description = b.info.arch + ", " + (c.bottleneck ? "Bottleneck" : "BasicBlock") +
                       " blocks " + join_widths({c.blocks.begin(), c.blocks.end()}) + shape + ", " +
                       std::to_string(c.num_classes) + " classes";
  b.info.num_classes = c.num_classes;
  return b;
}

Built detect(const StateDict& sd, std::string& why_not) {
  const bool deep = !shape_of(sd, "conv1.0.weight").empty();
  for (const char* key :
       {deep ? "conv1.6.weight" : "conv1.weight", "layer1.0.conv1.weight", "fc.weight"}) {
    if (shape_of(sd, key).empty()) {
      why_not = std::string("no key ") + key;
      return {};
    }
  }
  ResNetConfig c;
  if (deep) c.deep_stem = shape_of(sd, "conv1.0.weight")[0];
  // timm's avg_down: downsample.1 is the conv (a BN in torchvision's).
  c.avg_down = shape_of(sd, "layer2.0.downsample.1.weight").size() == 4;
  c.se = !shape_of(sd, "layer1.0.se.fc1.weight").empty();
  c.bottleneck = !shape_of(sd, "layer1.0.conv3.weight").empty();
  if (c.bottleneck) {
    // conv2 is [width, width / groups, 3, 3] with width = width_per_group * groups in layer1.
    const std::vector<int64_t> conv2 = shape_of(sd, "layer1.0.conv2.weight");
    if (conv2.size() != 4 || conv2[1] <= 0 || conv2[0] % conv2[1] != 0) {
      why_not = "layer1.0.conv2.weight is not a grouped 3x3 convolution";
      return {};
    }
    c.groups = conv2[0] / conv2[1];
    c.width_per_group = conv2[1];
  }
  for (int s = 0; s < kStages; ++s) {
    const std::string stage = "layer" + std::to_string(s + 1) + ".";
    while (!shape_of(sd, stage + std::to_string(c.blocks[s]) + ".conv1.weight").empty())
      ++c.blocks[s];
    if (c.blocks[s] == 0) {
      why_not = "no key " + stage + "0.conv1.weight";
      return {};
    }
  }
  c.num_classes = shape_of(sd, "fc.weight")[0];
  return build(c);
}

Built make(const std::string& arch, int64_t num_classes) {
  ResNetConfig c;
  for (const auto* table : {&standard(), &timm_variants()})
    for (const auto& [name, config] : *table)
      if (name == arch) c = config;
  c.num_classes = num_classes;
  return build(c);
}

std::vector<std::string> names_of(const std::vector<std::pair<std::string, ResNetConfig>>& table) {
  std::vector<std::string> out;
  for (const auto& entry : table) out.push_back(entry.first);
  return out;
}

// timm's names (timm/models/resnet.py): the keys are torchvision's; taps `act1` (the stem's
// ReLU), `layer1.0.act2` (BasicBlock) or `act3` (Bottleneck: the block's last ReLU, the one
// torchvision's `relu` gives last) and `global_pool.pool`. A block's other ReLUs (timm's act1,
// act2) are one module in torchvision's tree and not shown; nor torchvision's `avgpool`.
Layout timm_layout(const std::vector<std::string>& archs, const std::string& last_act) {
  Layout layout{.name = "timm"};
  for (const std::string& arch : archs)
    layout.archs.push_back({"timm/" + arch, arch, "timm/" + arch});
  layout.renames = {{"act1", "relu", Rename::kTaps},
                    {"global_pool.pool", "avgpool", Rename::kTaps}};
  for (int s = 1; s <= kStages; ++s) {
    const std::string stage = "layer" + std::to_string(s) + ".{b}.";
    layout.renames.push_back({stage + last_act, stage + "relu", Rename::kTaps});
  }
  layout.renames.push_back({"**", "**"});
  return layout;
}

}  // namespace

const Family& resnet_family() {
  static const Family family{
      .name = "resnet",
      .archs = names_of(standard()),
      .classes_key = "fc.weight",
      .detect = detect,
      .make = make,
      .default_layers = [](const std::vector<TapInfo>&) -> std::vector<std::string> {
        return {"conv1", "layer1"};
      },
      // conv1 and every block (layer1.0, layer1.1, ...).
      .all_layers =
          [](const std::vector<TapInfo>& taps) {
            std::vector<std::string> out{"conv1"};
            for (const std::string& name : taps_of_type(taps, {"BasicBlock", "Bottleneck"}))
              out.push_back(name);
            return out;
          },
      .cam_layer = last_child_of("layer4"),
      .preset = presets_for({"resnext101_64x4d"}),
      .variants = names_of(timm_variants()),
      .layouts = {timm_layout({"resnet18", "resnet34"}, "act2"),
                  timm_layout({"resnet50", "resnet101", "resnet152", "resnet50d", "resnext50_32x4d",
                               "resnext101_32x8d", "resnext101_64x4d", "seresnext50_32x4d",
                               "wide_resnet50_2", "wide_resnet101_2"},
                              "act3")},
  };
  return family;
}

}  // namespace cnnscope::models::detail
