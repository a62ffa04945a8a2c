// pytorch/examples' MNIST `Net` (mnist/main.py) in its two revisions, both on a 1x28x28 input:
// - mnist_net (since November 2019): conv1 1->32 k3, ReLU, conv2 32->64 k3, ReLU, max_pool2d(2),
//   dropout1 (p 0.25), flatten, fc1 9216->128, ReLU, dropout2 (p 0.5), fc2 128->10, log_softmax;
// - mnist_net_2018 (December 2018 to November 2019): conv1 1->20 k5, ReLU, max_pool2d(2, 2),
//   conv2 20->50 k5, ReLU, max_pool2d(2, 2), view(-1, 4*4*50), fc1 800->500, ReLU, fc2 500->10,
//   log_softmax; no dropout. The 2017 revision (widths 10-20-50, Dropout2d after conv2, pooling
//   before the ReLU: the same numbers in eval mode) is this one with its widths.
// The network's output is what forward returns: the log-probabilities (softmax of them is the
// class probabilities, as of the logits before). The ReLUs and the max-pools are functional: no
// taps. The revision is read from the kernel size, widths and input channels from the keys.
#include "common/error.h"
#include "models/family.h"

namespace cnnscope::models::detail {
namespace {

constexpr int64_t kKernel = 3;
constexpr int64_t kKernel2018 = 5;
constexpr double kDropout1 = 0.25;
constexpr double kDropout2 = 0.5;

struct MnistNetConfig {
  int64_t in_channels = 1;
  int64_t conv1 = 32, conv2 = 64, flat = 9216, hidden = 128;
  int64_t num_classes = 10;
  bool r2018 = false;  // the 2018 revision: 5x5 kernels, a pool after each conv, no dropout
};

constexpr MnistNetConfig k2018{1, 20, 50, 800, 500, 10, true};

class MnistNet : public Layer {
 public:
  explicit MnistNet(const MnistNetConfig& c) : Layer("Net", ""), r2018_(c.r2018) {
    const int64_t k = c.r2018 ? kKernel2018 : kKernel;
    conv1_ = register_module("conv1", conv2d(c.in_channels, c.conv1, k, 1, 0, true));
    conv2_ = register_module("conv2", conv2d(c.conv1, c.conv2, k, 1, 0, true));
    if (!c.r2018) {
      dropout1_ = register_module("dropout1", torch::nn::Dropout(kDropout1));
      dropout2_ = register_module("dropout2", torch::nn::Dropout(kDropout2));
    }
    fc1_ = register_module("fc1", linear(c.flat, c.hidden));
    fc2_ = register_module("fc2", linear(c.hidden, c.num_classes));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    if (r2018_) {
      x = torch::relu(probe("conv1", conv1_->forward(x)));  // [N, 20, 24, 24] at 28x28
      x = at::max_pool2d(x, {2, 2});                        // [N, 20, 12, 12]
      x = torch::relu(probe("conv2", conv2_->forward(x)));  // [N, 50, 8, 8]
      x = at::max_pool2d(x, {2, 2});                        // [N, 50, 4, 4]
      x = torch::flatten(x, 1);                             // [N, 800]
      x = torch::relu(probe("fc1", fc1_->forward(x)));
      return torch::log_softmax(probe("fc2", fc2_->forward(x)), 1);  // [N, classes]
    }
    x = torch::relu(probe("conv1", conv1_->forward(x)));  // [N, 32, 26, 26] at 28x28
    x = torch::relu(probe("conv2", conv2_->forward(x)));  // [N, 64, 24, 24]
    x = at::max_pool2d(x, {2, 2});                        // [N, 64, 12, 12]
    x = probe("dropout1", dropout1_->forward(x));
    x = torch::flatten(x, 1);  // [N, 9216]
    x = torch::relu(probe("fc1", fc1_->forward(x)));
    x = probe("dropout2", dropout2_->forward(x));
    x = probe("fc2", fc2_->forward(x));  // [N, classes]
    return torch::log_softmax(x, 1);
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Dropout dropout1_{nullptr}, dropout2_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
  bool r2018_;
};

// The input side fc1 takes: conv2's map of side s has flat / conv2 = s * s values after the last
// pool, so the input is 2s + 4 (28 for 9216 = 64 x 12 x 12), in the 2018 revision 2(2s + 4) + 4
// (28 for 800 = 50 x 4 x 4); 0 when flat is no such square.
int64_t input_size(const MnistNetConfig& c) {
  const int64_t area = c.flat / c.conv2;
  int64_t side = 1;
  while (side * side < area) ++side;
  if (side * side != area || area * c.conv2 != c.flat) return 0;
  if (c.r2018) return 2 * (2 * side + kKernel2018 - 1) + kKernel2018 - 1;
  return 2 * side + 2 * (kKernel - 1);
}

Built build(const MnistNetConfig& c) {
  Built b;
  b.root = std::make_shared<MnistNet>(c);
  b.info.family = "mnist_net";
  b.info.arch = c.r2018 ? "mnist_net_2018" : "mnist_net";
  b.info.description =
      b.info.arch + ", widths " + join_widths({c.conv1, c.conv2, c.hidden}) + ", " +
      std::to_string(c.num_classes) + " classes, " + std::to_string(c.in_channels) +
      "-channel input: pytorch/examples' MNIST Net" +
      (c.r2018 ? " of 2018-2019 (5x5 kernels" : " (3x3 kernels") + ", outputs log_softmax)";
  b.info.num_classes = c.num_classes;
  b.info.input_channels = c.in_channels;
  b.info.input_size = input_size(c);
  return b;
}

Built detect(const StateDict& sd, std::string& why_not) {
  const std::vector<int64_t> c1 = shape_of(sd, "conv1.weight");
  const std::vector<int64_t> c2 = shape_of(sd, "conv2.weight");
  const std::vector<int64_t> f1 = shape_of(sd, "fc1.weight");
  const std::vector<int64_t> f2 = shape_of(sd, "fc2.weight");
  if (c1.size() != 4 || c2.size() != 4 || f1.size() != 2 || f2.size() != 2) {
    why_not = "no 4-D conv1/conv2 and 2-D fc1/fc2 weights";
    return {};
  }
  if (sd.find("fc3.weight") != nullptr || sd.find("conv3.weight") != nullptr) {
    why_not = "more layers than MNIST's Net (conv3 or fc3)";
    return {};
  }
  if ((c1[2] != kKernel && c1[2] != kKernel2018) || c2[2] != c1[2] || c2[1] != c1[0] ||
      f1[1] % c2[0] != 0 || f2[1] != f1[0]) {
    why_not = "conv1/conv2/fc1/fc2 do not chain as MNIST's Net (3x3 or 5x5 convolutions)";
    return {};
  }
  return build({c1[1], c1[0], c2[0], f1[1], f1[0], f2[0], c1[2] == kKernel2018});
}

Built make(const std::string& arch, int64_t num_classes) {
  MnistNetConfig c = arch == "mnist_net_2018" ? k2018 : MnistNetConfig{};
  c.num_classes = num_classes;
  return build(c);
}

}  // namespace

const Family& mnist_net_family() {
  static const Family family{
      .name = "mnist_net",
      .archs = {"mnist_net", "mnist_net_2018"},
      .classes_key = "fc2.weight",
      .detect = detect,
      .make = make,
      .default_layers = [](const std::vector<TapInfo>&) -> std::vector<std::string> {
        return {"conv1", "conv2"};
      },
      // The feature maps: both convs and (since 2019) the pooled map dropout1 passes on.
      .all_layers = [](const std::vector<TapInfo>& taps) -> std::vector<std::string> {
        std::vector<std::string> out;
        for (const TapInfo& t : taps)
          if (t.name == "conv1" || t.name == "conv2" || t.name == "dropout1") out.push_back(t.name);
        return out;
      },
      .cam_layer = module_named("conv2"),
      // The example trains with ToTensor, Normalize((0.1307,), (0.3081,)) on 28x28 MNIST.
      .preset = [](const std::string&) -> std::string { return "mnist"; },
      .init = init_pytorch_default,  // the example keeps PyTorch's defaults
  };
  return family;
}

}  // namespace cnnscope::models::detail
