// The two tutorial LeNets (conv1 k5, max-pool 2, conv2 k5, max-pool 2, fc1, fc2, fc3 with
// functional ReLUs after every layer but fc3), told apart by their widths:
// - the PyTorch 60-minute blitz CNN (pytorch/tutorials beginner_source/blitz/cifar10_tutorial.py,
//   `Net`: conv1 3->6, conv2 6->16, fc1 400->120, fc2 120->84, fc3 84->10; one `pool` module
//   called twice, torch.flatten(x, 1));
// - the seed series' LeNet (its "official demo", `LeNet`: conv1 3->16, pool1, conv2 16->32, pool2,
//   fc1 800->120, fc2 120->84, fc3 84->10; x.view(-1, 800), here flatten(x, 1): the same for
//   inputs that fit).
// Any other widths with these keys run in the blitz layout. The input channels come from conv1
// (a 1-channel LeNet takes 1-channel inputs). The ReLUs are functional: no taps.
#include "common/error.h"
#include "models/family.h"

namespace cnnscope::models::detail {
namespace {

constexpr int64_t kKernel = 5;
constexpr int64_t kPool = 2;
constexpr int64_t kPooledArea = 25;  // 5x5 after two pools of a 32x32 input
constexpr int64_t kInputSize = 32;   // the only size fc1 takes

struct LeNetConfig {
  int64_t in_channels = 3;
  int64_t conv1 = 6, conv2 = 16, fc1 = 120, fc2 = 84;
  int64_t num_classes = 10;
  int64_t flat = 16 * kPooledArea;  // fc1's input
  bool seed = false;                // the seed's module names (pool1, pool2)
};

constexpr LeNetConfig kBlitz{};
constexpr LeNetConfig kSeed{3, 16, 32, 120, 84, 10, 32 * kPooledArea, true};

class LeNet : public Layer {
 public:
  explicit LeNet(const LeNetConfig& c) : Layer(c.seed ? "LeNet" : "Net", "") {
    conv1_ = register_module("conv1", conv2d(c.in_channels, c.conv1, kKernel, 1, 0, true));
    pool1_ = register_module(c.seed ? "pool1" : "pool", max_pool(kPool, kPool));
    conv2_ = register_module("conv2", conv2d(c.conv1, c.conv2, kKernel, 1, 0, true));
    pool2_ = c.seed ? register_module("pool2", max_pool(kPool, kPool)) : pool1_;
    pool1_name_ = c.seed ? "pool1" : "pool";
    pool2_name_ = c.seed ? "pool2" : "pool";
    fc1_ = register_module("fc1", linear(c.flat, c.fc1));
    fc2_ = register_module("fc2", linear(c.fc1, c.fc2));
    fc3_ = register_module("fc3", linear(c.fc2, c.num_classes));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = torch::relu(probe("conv1", conv1_->forward(x)));  // [N, 6, 28, 28] at 32x32
    x = probe(pool1_name_, pool1_->forward(x));           // [N, 6, 14, 14]
    x = torch::relu(probe("conv2", conv2_->forward(x)));  // [N, 16, 10, 10]
    x = probe(pool2_name_, pool2_->forward(x));           // [N, 16, 5, 5]
    x = torch::flatten(x, 1);                             // [N, 400]
    x = torch::relu(probe("fc1", fc1_->forward(x)));
    x = torch::relu(probe("fc2", fc2_->forward(x)));
    return probe("fc3", fc3_->forward(x));  // [N, classes]
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::MaxPool2d pool1_{nullptr}, pool2_{nullptr};
  std::string pool1_name_, pool2_name_;
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr}, fc3_{nullptr};
};

Built build(const LeNetConfig& c) {
  Built b;
  b.root = std::make_shared<LeNet>(c);
  b.info.family = "lenet";
  b.info.arch = c.seed ? "lenet_seed" : "lenet_blitz";
  std::string d = b.info.arch + ", widths " + join_widths({c.conv1, c.conv2, c.fc1, c.fc2}) + ", " +
                  std::to_string(c.num_classes) + " classes";
  if (c.in_channels != 3) d += ", " + std::to_string(c.in_channels) + "-channel input";
  d += c.seed ? ": the seed's LeNet" : ": the PyTorch 60-minute blitz CNN";
  if (!c.seed && (c.conv1 != kBlitz.conv1 || c.conv2 != kBlitz.conv2)) d += " layout";
  b.info.description = d;
  b.info.num_classes = c.num_classes;
  b.info.input_channels = c.in_channels;
  b.info.input_size = kInputSize;
  return b;
}

// A 2-D or 4-D weight's shape, or why it is not one.
bool weight(const StateDict& sd, const std::string& key, size_t dims, std::vector<int64_t>& shape,
            std::string& why_not) {
  shape = shape_of(sd, key);
  if (shape.size() == dims) return true;
  why_not =
      shape.empty() ? "no key " + key : key + " is not a " + std::to_string(dims) + "-D weight";
  return false;
}

Built detect(const StateDict& sd, std::string& why_not) {
  std::vector<int64_t> c1, c2, f1, f2, f3;
  if (!weight(sd, "conv1.weight", 4, c1, why_not) || !weight(sd, "conv2.weight", 4, c2, why_not) ||
      !weight(sd, "fc1.weight", 2, f1, why_not) || !weight(sd, "fc2.weight", 2, f2, why_not) ||
      !weight(sd, "fc3.weight", 2, f3, why_not))
    return {};
  if (c1[2] != kKernel || c2[2] != kKernel || c2[1] != c1[0] || f1[1] != c2[0] * kPooledArea ||
      f2[1] != f1[0] || f3[1] != f2[0]) {
    why_not = "conv1/conv2/fc1..fc3 do not chain as a LeNet (5x5 convolutions, fc1 from " +
              std::string("conv2's channels x 5 x 5)");
    return {};
  }
  if (sd.find("fc4.weight") != nullptr || sd.find("conv3.weight") != nullptr) {
    why_not = "more layers than a LeNet (conv3 or fc4)";
    return {};
  }
  LeNetConfig c{c1[1], c1[0], c2[0], f1[0], f2[0], f3[0], f1[1], false};
  c.seed = c.in_channels == kSeed.in_channels && c.conv1 == kSeed.conv1 && c.conv2 == kSeed.conv2;
  return build(c);
}

Built make(const std::string& arch, int64_t num_classes) {
  LeNetConfig c = arch == "lenet_seed" ? kSeed : kBlitz;
  c.num_classes = num_classes;
  return build(c);
}

}  // namespace

// PyTorch's default initialization of Conv2d and Linear (kaiming_uniform a=sqrt(5), bias uniform
// +-1/sqrt(fan_in)), which both tutorials keep: re-drawn under the seed.
void init_pytorch_default(torch::nn::Module& root) {
  torch::NoGradGuard no_grad;
  for (const auto& m : root.modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) conv->reset_parameters();
    if (auto* fc = m->as<torch::nn::Linear>()) fc->reset_parameters();
  }
}

const Family& lenet_family() {
  static const Family family{
      .name = "lenet",
      .archs = {"lenet_blitz", "lenet_seed"},
      .classes_key = "fc3.weight",
      .detect = detect,
      .make = make,
      .default_layers = [](const std::vector<TapInfo>&) -> std::vector<std::string> {
        return {"conv1", "conv2"};
      },
      .all_layers = [](const std::vector<TapInfo>& taps) -> std::vector<std::string> {
        return taps_of_type(taps, {"Conv2d", "MaxPool2d"});
      },
      .cam_layer = module_named("conv2"),
      // Both tutorials train on CIFAR-10 with Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)).
      .preset = [](const std::string&) -> std::string { return "cifar10"; },
      .init = init_pytorch_default,
  };
  return family;
}

}  // namespace cnnscope::models::detail
