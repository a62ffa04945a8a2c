// ResNet 18/34/50/101/152, torchvision's and the seed's classes (64x64 inputs): logits, taps
// (inside blocks too) and named_modules() equal PyTorch's (oracle: make_models_parity.py).
#include <gtest/gtest.h>

#include "models/parity.h"

namespace cnnscope::models {
namespace {

class ResNetParity : public ::testing::TestWithParam<const char*> {};

TEST_P(ResNetParity, LogitsTapsModulesAndShapes) {
  parity::check_parity(GetParam());
}

INSTANTIATE_TEST_SUITE_P(TorchvisionAndSeed, ResNetParity,
                         ::testing::Values("tv_resnet18", "seed_resnet34", "tv_resnet50",
                                           "seed_resnet101", "tv_resnet152"));

}  // namespace
}  // namespace cnnscope::models
