// ResNet 18/34/50/101/152, ResNeXt 50_32x4d/101_32x8d/101_64x4d and Wide ResNet 50_2/101_2
// (BasicBlock or Bottleneck, stride on the 3x3 conv, `downsample.0/1`; Bottleneck's width
// int(planes * width_per_group / 64) * groups) with torchvision's and the seed's module names;
// block type, counts, groups and width read from the keys. Follows torchvision/models/resnet.py;
// leaves out replace_stride_with_dilation and zero_init_residual (off in every builder).
#include <array>
#include <utility>
#include <vector>

#include "common/error.h"
#include "models/family.h"

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
};

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

std::shared_ptr<Sequential> downsample(const std::string& path, int64_t in, int64_t out,
                                       int64_t stride) {
  auto d = std::make_shared<Sequential>(path);
  d->push_back(conv2d(in, out, 1, stride, 0, false));
  d->push_back(batch_norm(out));
  return d;
}

// The two blocks share their tail: `out += identity; relu(out)`, identity downsampled if needed.
class Block : public Layer {
 public:
  using Layer::Layer;

 protected:
  at::Tensor finish(at::Tensor out, const at::Tensor& x, Probe& probe) {
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
  std::shared_ptr<Sequential> downsample_;
};

class BasicBlock : public Block {
 public:
  BasicBlock(const std::string& path, int64_t in, int64_t planes, int64_t stride)
      : Block("BasicBlock", path) {
    conv1_ = register_module("conv1", conv2d(in, planes, 3, stride, 1, false));
    bn1_ = register_module("bn1", batch_norm(planes));
    relu_ = register_module("relu", relu(true));
    conv2_ = register_module("conv2", conv2d(planes, planes, 3, 1, 1, false));
    bn2_ = register_module("bn2", batch_norm(planes));
    if (stride != 1 || in != planes)
      downsample_ =
          register_module("downsample", downsample(child_path("downsample"), in, planes, stride));
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
    relu_ = register_module("relu", relu(true));
    if (stride != 1 || in != out)
      downsample_ =
          register_module("downsample", downsample(child_path("downsample"), in, out, stride));
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
          stage->push_back(std::make_shared<BasicBlock>(path, in, kPlanes[s], stride));
        in = kPlanes[s] * expansion;
      }
      stages_[s] = register_module(name, stage);
    }
    avgpool_ = register_module("avgpool", adaptive_avg_pool(1));
    fc_ = register_module("fc", linear(in, c.num_classes));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = probe("conv1", conv1_->forward(x));  // [N, 64, H/2, W/2]
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
  torch::nn::Conv2d conv1_{nullptr};
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
  for (const auto& [name, config] : standard())
    if (config.bottleneck == c.bottleneck && config.blocks == c.blocks &&
        config.groups == c.groups && config.width_per_group == c.width_per_group)
      b.info.arch = name;
  std::string shape;
  if (c.groups != 1 || c.width_per_group != kBaseWidth)
    shape =
        ", groups " + std::to_string(c.groups) + " x width " + std::to_string(c.width_per_group);
  b.info.description = b.info.arch + ", " + (c.bottleneck ? "Bottleneck" : "BasicBlock") +
                       " blocks " + join_widths({c.blocks.begin(), c.blocks.end()}) + shape + ", " +
                       std::to_string(c.num_classes) + " classes";
  b.info.num_classes = c.num_classes;
  return b;
}

Built detect(const StateDict& sd, std::string& why_not) {
  for (const char* key : {"conv1.weight", "layer1.0.conv1.weight", "fc.weight"}) {
    if (shape_of(sd, key).empty()) {
      why_not = std::string("no key ") + key;
      return {};
    }
  }
  ResNetConfig c;
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
  for (const auto& [name, config] : standard())
    if (name == arch) c = config;
  c.num_classes = num_classes;
  return build(c);
}

std::vector<std::string> archs() {
  std::vector<std::string> out;
  for (const auto& entry : standard()) out.push_back(entry.first);
  return out;
}

}  // namespace

const Family& resnet_family() {
  static const Family family{
      .name = "resnet",
      .archs = archs(),
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
  };
  return family;
}

}  // namespace cnnscope::models::detail
