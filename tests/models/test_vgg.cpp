// VGG 11/13/16/19 with and without BN, torchvision's layout (1/8 widths to stay small): logits,
// taps (inside blocks too) and named_modules() equal PyTorch's (oracle: make_models_parity.py).
#include <gtest/gtest.h>

#include "models/parity.h"

namespace cnnscope::models {
namespace {

TEST(VggParity, Vgg11) {
  parity::check_parity("tv_vgg11");
}
TEST(VggParity, Vgg11Bn) {
  parity::check_parity("tv_vgg11_bn");
}
TEST(VggParity, Vgg13) {
  parity::check_parity("tv_vgg13");
}
TEST(VggParity, Vgg13Bn) {
  parity::check_parity("tv_vgg13_bn");
}
TEST(VggParity, Vgg16) {
  parity::check_parity("tv_vgg16");
}
TEST(VggParity, Vgg16Bn) {
  parity::check_parity("tv_vgg16_bn");
}
TEST(VggParity, Vgg19) {
  parity::check_parity("tv_vgg19");
}
TEST(VggParity, Vgg19Bn) {
  parity::check_parity("tv_vgg19_bn");
}

}  // namespace
}  // namespace cnnscope::models
