// VGG 11/13/16/19 with and without BN, torchvision's layout (1/8 widths to stay small): logits,
// taps (inside blocks too) and named_modules() equal PyTorch's (oracle: make_models_parity.py).
#include <gtest/gtest.h>

#include "models/parity.h"

namespace cnnscope::models {
namespace {

class VggParity : public ::testing::TestWithParam<const char*> {};

TEST_P(VggParity, LogitsTapsModulesAndShapes) {
  parity::check_parity(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Torchvision, VggParity,
                         ::testing::Values("tv_vgg11", "tv_vgg11_bn", "tv_vgg13", "tv_vgg13_bn",
                                           "tv_vgg16", "tv_vgg16_bn", "tv_vgg19", "tv_vgg19_bn"));

}  // namespace
}  // namespace cnnscope::models
