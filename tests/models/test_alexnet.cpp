// AlexNet of any widths: the seed's half-width one (no avgpool) and torchvision's: logits, taps
// (inside blocks too) and named_modules() equal PyTorch's (oracle: make_models_parity.py).
#include <gtest/gtest.h>

#include "models/parity.h"

namespace cnnscope::models {
namespace {

class AlexNetParity : public ::testing::TestWithParam<const char*> {};

TEST_P(AlexNetParity, LogitsTapsModulesAndShapes) {
  parity::check_parity(GetParam());
}

INSTANTIATE_TEST_SUITE_P(SeedAndTorchvision, AlexNetParity,
                         ::testing::Values("seed_alexnet", "tv_alexnet"));

}  // namespace
}  // namespace cnnscope::models
