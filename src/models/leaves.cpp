// The leaf modules the families are made of, with PyTorch's defaults (BN eps 1e-5, momentum 0.1;
// Dropout p 0.5; MaxPool2d stride given explicitly, as torchvision does).
#include "models/family.h"

namespace cnnscope::models::detail {

namespace {
constexpr double kDropout = 0.5;
}  // namespace

torch::nn::Conv2d conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                         bool bias, int64_t groups) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(padding)
                               .bias(bias)
                               .groups(groups));
}

torch::nn::BatchNorm2d batch_norm(int64_t channels) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels));
}

torch::nn::ReLU relu(bool inplace) {
  return torch::nn::ReLU(torch::nn::ReLUOptions(inplace));
}

torch::nn::MaxPool2d max_pool(int64_t kernel, int64_t stride, int64_t padding, bool ceil_mode) {
  return torch::nn::MaxPool2d(
      torch::nn::MaxPool2dOptions(kernel).stride(stride).padding(padding).ceil_mode(ceil_mode));
}

torch::nn::Linear linear(int64_t in, int64_t out) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out));
}

torch::nn::Dropout dropout() {
  return torch::nn::Dropout(torch::nn::DropoutOptions(kDropout));
}

torch::nn::AdaptiveAvgPool2d adaptive_avg_pool(int64_t size) {
  return torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({size, size}));
}

}  // namespace cnnscope::models::detail
