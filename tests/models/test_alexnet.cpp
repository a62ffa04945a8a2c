// AlexNet of any widths: the seed's half-width one (no avgpool) and torchvision's: logits, taps
// (inside blocks too) and named_modules() equal PyTorch's (oracle: make_models_parity.py).
#include <gtest/gtest.h>

#include "models/parity.h"

namespace cnnscope::models {
namespace {

TEST(AlexNetParity, SeedHalfWidth) {
  parity::check_parity("seed_alexnet");
}
TEST(AlexNetParity, TorchvisionWithAvgpool) {
  parity::check_parity("tv_alexnet");
}

}  // namespace
}  // namespace cnnscope::models
