// The CIFAR ResNets of akamaster/pytorch_resnet_cifar10 (resnet.py): ResNet-20/32/44/56/110/1202
// (6n+2 layers: conv1 3x3 3->16, bn1, layer1..3 of n BasicBlocks at 16/32/64 planes, stride 2 at
// the start of layer2 and layer3, avg_pool2d over the whole map, `linear`), with its module names.
// A block's shortcut is option A: a LambdaLayer computing F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0,
// planes//4, planes//4)) when the shape changes, else an empty nn.Sequential. The ReLUs are
// functional (F.relu): no taps. Widths and block counts are read from the keys (any base width).
// Option B shortcuts (akamaster's other option: nn.Sequential(1x1 conv with the stride, BN) as
// `shortcut.0`/`shortcut.1`) are recognized from those keys; `--arch` and `init` give option A.
#include <array>

#include "common/error.h"
#include "models/family.h"

namespace cnnscope::models::detail {
namespace {

constexpr int kStages = 3;
constexpr int64_t kBaseWidth = 16;
constexpr int64_t kCifarClasses = 10;

struct CifarResNetConfig {
  int64_t width = kBaseWidth;  // conv1's output channels; stage s has width << s planes
  std::array<int64_t, kStages> blocks{};
  int64_t num_classes = kCifarClasses;
  bool option_b = false;  // 1x1 conv + BN shortcuts where the shape changes
};

// The --arch names: resnet<6n+2> with n blocks per stage.
const std::vector<std::pair<std::string, int64_t>>& standard() {
  static const std::vector<std::pair<std::string, int64_t>> table{
      {"resnet20_cifar", 3}, {"resnet32_cifar", 5},   {"resnet44_cifar", 7},
      {"resnet56_cifar", 9}, {"resnet110_cifar", 18}, {"resnet1202_cifar", 200}};
  return table;
}

// akamaster's LambdaLayer holding the option A shortcut: subsample by 2, zero channels each side.
class OptionAShortcut : public Layer {
 public:
  OptionAShortcut(std::string path, int64_t pad)
      : Layer("LambdaLayer", std::move(path)), pad_(pad) {}
  at::Tensor forward(at::Tensor x, Probe& /*probe*/) override {
    at::Tensor sub =
        x.slice(2, 0, c10::nullopt, 2).slice(3, 0, c10::nullopt, 2);  // [N, C, H/2, W/2]
    return at::constant_pad_nd(sub, {0, 0, 0, 0, pad_, pad_}, 0);     // [N, C + 2 pad, H/2, W/2]
  }
  std::string repr() const override { return "LambdaLayer()"; }

 private:
  int64_t pad_;
};

class CifarBlock : public Layer {
 public:
  CifarBlock(const std::string& path, int64_t in, int64_t planes, int64_t stride, bool option_b)
      : Layer("BasicBlock", path) {
    conv1_ = register_module("conv1", conv2d(in, planes, 3, stride, 1, false));
    bn1_ = register_module("bn1", batch_norm(planes));
    conv2_ = register_module("conv2", conv2d(planes, planes, 3, 1, 1, false));
    bn2_ = register_module("bn2", batch_norm(planes));
    if ((stride != 1 || in != planes) && option_b) {
      auto projection = std::make_shared<Sequential>(child_path("shortcut"));
      projection->push_back(conv2d(in, planes, 1, stride, 0, false));
      projection->push_back(batch_norm(planes));
      shortcut_ = register_module("shortcut", projection);
    } else if (stride != 1 || in != planes)
      shortcut_ = register_module(
          "shortcut", std::make_shared<OptionAShortcut>(child_path("shortcut"), planes / 4));
    else
      shortcut_ = register_module("shortcut", std::make_shared<Sequential>(child_path("shortcut")));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    at::Tensor out = probe(child_path("conv1"), conv1_->forward(x));
    out = torch::relu(probe(child_path("bn1"), bn1_->forward(out)));
    out = probe(child_path("conv2"), conv2_->forward(out));
    out = probe(child_path("bn2"), bn2_->forward(out));
    out = out + probe(child_path("shortcut"), shortcut_->forward(x, probe));
    return torch::relu(out);
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  std::shared_ptr<Layer> shortcut_;
};

class CifarResNet : public Layer {
 public:
  explicit CifarResNet(const CifarResNetConfig& c) : Layer("ResNet", "") {
    conv1_ = register_module("conv1", conv2d(3, c.width, 3, 1, 1, false));
    bn1_ = register_module("bn1", batch_norm(c.width));
    int64_t in = c.width;
    for (int s = 0; s < kStages; ++s) {
      const std::string name = "layer" + std::to_string(s + 1);
      const int64_t planes = c.width << s;
      auto stage = std::make_shared<Sequential>(name);
      for (int64_t b = 0; b < c.blocks[s]; ++b) {
        const int64_t stride = (s > 0 && b == 0) ? 2 : 1;
        stage->push_back(std::make_shared<CifarBlock>(name + "." + std::to_string(b), in, planes,
                                                      stride, c.option_b));
        in = planes;
      }
      stages_[s] = register_module(name, stage);
    }
    linear_ = register_module("linear", linear(in, c.num_classes));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = probe("conv1", conv1_->forward(x));  // [N, 16, H, W]
    x = torch::relu(probe("bn1", bn1_->forward(x)));
    for (int s = 0; s < kStages; ++s)
      x = probe(stages_[s]->path(), stages_[s]->forward(std::move(x), probe));  // [N, 64, H/4, W/4]
    const int64_t width = x.size(3);
    x = at::avg_pool2d(x, {width, width});  // F.avg_pool2d(out, out.size()[3]): [N, 64, 1, 1]
    x = x.reshape({x.size(0), -1});         // [N, 64]
    return probe("linear", linear_->forward(x));
  }

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::array<std::shared_ptr<Sequential>, kStages> stages_;
  torch::nn::Linear linear_{nullptr};
};

Built build(const CifarResNetConfig& c) {
  Built b;
  b.root = std::make_shared<CifarResNet>(c);
  b.info.family = "cifar_resnet";
  b.info.arch = "resnet_cifar";
  for (const auto& [name, n] : standard())
    if (c.blocks == std::array<int64_t, kStages>{n, n, n} && c.width == kBaseWidth)
      b.info.arch = name;
  int64_t layers = 2;
  for (int64_t n : c.blocks) layers += 2 * n;
  b.info.description = b.info.arch + ", CIFAR ResNet-" + std::to_string(layers) + " (blocks " +
                       join_widths({c.blocks.begin(), c.blocks.end()}) + ", widths " +
                       join_widths({c.width, c.width * 2, c.width * 4}) +
                       (c.option_b ? ", option B shortcuts), " : ", option A shortcuts), ") +
                       std::to_string(c.num_classes) + " classes";
  b.info.num_classes = c.num_classes;
  return b;
}

Built detect(const StateDict& sd, std::string& why_not) {
  for (const char* key : {"conv1.weight", "layer1.0.conv1.weight", "linear.weight"}) {
    if (shape_of(sd, key).empty()) {
      why_not = std::string("no key ") + key;
      return {};
    }
  }
  if (sd.find("layer4.0.conv1.weight") != nullptr) {
    why_not = "a layer4: not a 3-stage CIFAR ResNet";
    return {};
  }
  const std::vector<int64_t> conv1 = shape_of(sd, "conv1.weight");
  if (conv1.size() != 4 || conv1[1] != 3 || conv1[2] != 3 || conv1[3] != 3) {
    why_not = "conv1.weight is not a 3x3 convolution from 3 channels";
    return {};
  }
  CifarResNetConfig c;
  c.width = conv1[0];
  for (int s = 0; s < kStages; ++s) {
    const std::string stage = "layer" + std::to_string(s + 1) + ".";
    while (!shape_of(sd, stage + std::to_string(c.blocks[s]) + ".conv1.weight").empty())
      ++c.blocks[s];
    if (c.blocks[s] == 0) {
      why_not = "no key " + stage + "0.conv1.weight";
      return {};
    }
  }
  c.option_b = sd.find("layer2.0.shortcut.0.weight") != nullptr;
  if (!c.option_b && (c.width & 3) != 0) {
    why_not = "conv1 has " + std::to_string(c.width) + " channels, not a multiple of 4";
    return {};
  }
  c.num_classes = shape_of(sd, "linear.weight")[0];
  return build(c);
}

Built make(const std::string& arch, int64_t num_classes) {
  CifarResNetConfig c;
  for (const auto& [name, n] : standard())
    if (name == arch) c.blocks = {n, n, n};
  c.num_classes = num_classes;
  return build(c);
}

// akamaster's _weights_init: kaiming_normal_ (fan_in, gain sqrt(2)) for every Conv2d and Linear
// weight; the Linear's bias and BN keep PyTorch's defaults (re-drawn here under the seed).
void init(torch::nn::Module& root) {
  torch::NoGradGuard no_grad;
  for (const auto& m : root.modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight);
    } else if (auto* fc = m->as<torch::nn::Linear>()) {
      fc->reset_parameters();
      torch::nn::init::kaiming_normal_(fc->weight);
    } else if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      bn->reset_parameters();
    }
  }
}

std::vector<std::string> archs() {
  std::vector<std::string> out;
  for (const auto& entry : standard()) out.push_back(entry.first);
  return out;
}

}  // namespace

const Family& cifar_resnet_family() {
  static const Family family{
      .name = "cifar_resnet",
      .archs = archs(),
      .classes_key = "linear.weight",
      .detect = detect,
      .make = make,
      .default_layers = [](const std::vector<TapInfo>&) -> std::vector<std::string> {
        return {"conv1", "layer1", "layer2"};
      },
      // conv1 and every block (layer1.0, layer1.1, ...).
      .all_layers =
          [](const std::vector<TapInfo>& taps) {
            std::vector<std::string> out{"conv1"};
            for (const std::string& name : taps_of_type(taps, {"BasicBlock"})) out.push_back(name);
            return out;
          },
      .cam_layer = last_child_of("layer3"),
      .preset = [](const std::string&) -> std::string { return "cifar10_imagenet"; },
      .init = init,
  };
  return family;
}

}  // namespace cnnscope::models::detail
