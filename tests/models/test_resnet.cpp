// ResNet 18/34/50/101/152, torchvision's and the seed's classes (64x64 inputs): logits, taps
// (inside blocks too) and named_modules() equal PyTorch's (oracle: make_models_parity.py).
#include <gtest/gtest.h>

#include "models/parity.h"

namespace cnnscope::models {
namespace {

TEST(ResNetParity, TorchvisionResNet18) {
  parity::check_parity("tv_resnet18");
}
TEST(ResNetParity, SeedResNet34) {
  parity::check_parity("seed_resnet34");
}
TEST(ResNetParity, TorchvisionResNet50) {
  parity::check_parity("tv_resnet50");
}
TEST(ResNetParity, SeedResNet101) {
  parity::check_parity("seed_resnet101");
}
TEST(ResNetParity, TorchvisionResNet152) {
  parity::check_parity("tv_resnet152");
}

}  // namespace
}  // namespace cnnscope::models
