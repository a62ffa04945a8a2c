// pytorch/examples' MNIST `Net` (mnist/main.py): a 1x28x28 input, conv1 1->32 k3, ReLU, conv2
// 32->64 k3, ReLU, max_pool2d(2), dropout1 (p 0.25), flatten, fc1 9216->128, ReLU, dropout2
// (p 0.5), fc2 128->10, log_softmax. The network's output is what forward returns: the
// log-probabilities (softmax of them is the class probabilities, as of the logits before). The
// ReLUs and the max-pool are functional: no taps. Widths and input channels read from the keys.
#include "common/error.h"
#include "models/family.h"

namespace cnnscope::models::detail {
namespace {

constexpr int64_t kKernel = 3;
constexpr double kDropout1 = 0.25;
constexpr double kDropout2 = 0.5;

struct MnistNetConfig {
  int64_t in_channels = 1;
  int64_t conv1 = 32, conv2 = 64, flat = 9216, hidden = 128;
  int64_t num_classes = 10;
};

class MnistNet : public Layer {
 public:
  explicit MnistNet(const MnistNetConfig& c) : Layer("Net", "") {
    conv1_ = register_module("conv1", conv2d(c.in_channels, c.conv1, kKernel, 1, 0, true));
    conv2_ = register_module("conv2", conv2d(c.conv1, c.conv2, kKernel, 1, 0, true));
    dropout1_ = register_module("dropout1", torch::nn::Dropout(kDropout1));
    dropout2_ = register_module("dropout2", torch::nn::Dropout(kDropout2));
    fc1_ = register_module("fc1", linear(c.flat, c.hidden));
    fc2_ = register_module("fc2", linear(c.hidden, c.num_classes));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
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
};

// The input side fc1 takes: conv2's map of side s has flat / conv2 = s * s values after the
// pool, so the input is 2s + 4 (28 for 9216 = 64 x 12 x 12); 0 when flat is no such square.
int64_t input_size(const MnistNetConfig& c) {
  const int64_t area = c.flat / c.conv2;
  int64_t side = 1;
  while (side * side < area) ++side;
  return side * side == area && area * c.conv2 == c.flat ? 2 * side + 2 * (kKernel - 1) : 0;
}

Built build(const MnistNetConfig& c) {
  Built b;
  b.root = std::make_shared<MnistNet>(c);
  b.info.family = "mnist_net";
  b.info.arch = "mnist_net";
  b.info.description = "mnist_net, widths " + join_widths({c.conv1, c.conv2, c.hidden}) + ", " +
                       std::to_string(c.num_classes) + " classes, " +
                       std::to_string(c.in_channels) +
                       "-channel input: pytorch/examples' MNIST Net (outputs log_softmax)";
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
  if (c1[2] != kKernel || c2[2] != kKernel || c2[1] != c1[0] || f1[1] % c2[0] != 0 ||
      f2[1] != f1[0]) {
    why_not = "conv1/conv2/fc1/fc2 do not chain as MNIST's Net (3x3 convolutions)";
    return {};
  }
  return build({c1[1], c1[0], c2[0], f1[1], f1[0], f2[0]});
}

Built make(const std::string& /*arch*/, int64_t num_classes) {
  MnistNetConfig c;
  c.num_classes = num_classes;
  return build(c);
}

}  // namespace

const Family& mnist_net_family() {
  static const Family family{
      .name = "mnist_net",
      .archs = {"mnist_net"},
      .classes_key = "fc2.weight",
      .detect = detect,
      .make = make,
      .default_layers = [](const std::vector<TapInfo>&) -> std::vector<std::string> {
        return {"conv1", "conv2"};
      },
      .all_layers = [](const std::vector<TapInfo>&) -> std::vector<std::string> {
        return {"conv1", "conv2", "dropout1"};
      },
      .cam_layer = module_named("conv2"),
      // The example trains with ToTensor, Normalize((0.1307,), (0.3081,)) on 28x28 MNIST.
      .preset = [](const std::string&) -> std::string { return "mnist"; },
      .init = init_pytorch_default,  // the example keeps PyTorch's defaults
  };
  return family;
}

}  // namespace cnnscope::models::detail
