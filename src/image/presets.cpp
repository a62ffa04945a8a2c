// The named input presets (see preset() in input.h): the seed's AlexNet preset and torchvision's
// IMAGENET1K_V1 transforms (torchvision.transforms._presets.ImageClassification: Resize(resize,
// interpolation, antialias=True), CenterCrop(crop), ToTensor, Normalize(mean, std)), read from
// torchvision 0.29's `Weights.IMAGENET1K_V1.transforms()` for every classification builder.
// Leaves out the other weights' transforms (IMAGENET1K_V2, SWAG, ...): pass --resize/--crop.
#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>

#include "common/error.h"
#include "common/suggest.h"
#include "image/input.h"

namespace cnnscope {
namespace {

constexpr std::array<double, 3> kImageNetMean{0.485, 0.456, 0.406};
constexpr std::array<double, 3> kImageNetStd{0.229, 0.224, 0.225};
constexpr std::array<double, 3> kHalf{0.5, 0.5, 0.5};
constexpr std::array<double, 3> kMnistMean{0.1307, 0.1307, 0.1307};  // one channel, repeated
constexpr std::array<double, 3> kMnistStd{0.3081, 0.3081, 0.3081};
constexpr Interpolation kBilinear = Interpolation::kBilinear;
constexpr Interpolation kBicubic = Interpolation::kBicubic;

struct Entry {
  const char* name;
  int64_t resize;  // shorter side; 0 with `fixed`: resize to fixed x fixed, no crop
  int64_t crop;
  Interpolation interpolation;
  std::array<double, 3> mean;
  std::array<double, 3> std;
  int64_t fixed = 0;
  int64_t channels = 3;  // 1: convert("L") first, a [1, H, W] tensor
};

// One line per preset; torchvision builders not listed use "imagenet".
const std::array<Entry, 26>& table() {
  static const std::array<Entry, 26> entries{{
      {"alexnet", 0, 0, kBilinear, kHalf, kHalf, 224},  // the seed's AlexNet
      {"imagenet", 256, 224, kBilinear, kImageNetMean, kImageNetStd},
      {"inception_v3", 342, 299, kBilinear, kImageNetMean, kImageNetStd},
      {"resnext101_64x4d", 232, 224, kBilinear, kImageNetMean, kImageNetStd},
      {"mnasnet0_75", 232, 224, kBilinear, kImageNetMean, kImageNetStd},
      {"mnasnet1_3", 232, 224, kBilinear, kImageNetMean, kImageNetStd},
      {"shufflenet_v2_x1_5", 232, 224, kBilinear, kImageNetMean, kImageNetStd},
      {"shufflenet_v2_x2_0", 232, 224, kBilinear, kImageNetMean, kImageNetStd},
      {"efficientnet_b0", 256, 224, kBicubic, kImageNetMean, kImageNetStd},
      {"efficientnet_b1", 256, 240, kBicubic, kImageNetMean, kImageNetStd},
      {"efficientnet_b2", 288, 288, kBicubic, kImageNetMean, kImageNetStd},
      {"efficientnet_b3", 320, 300, kBicubic, kImageNetMean, kImageNetStd},
      {"efficientnet_b4", 384, 380, kBicubic, kImageNetMean, kImageNetStd},
      {"efficientnet_b5", 456, 456, kBicubic, kImageNetMean, kImageNetStd},
      {"efficientnet_b6", 528, 528, kBicubic, kImageNetMean, kImageNetStd},
      {"efficientnet_b7", 600, 600, kBicubic, kImageNetMean, kImageNetStd},
      {"efficientnet_v2_s", 384, 384, kBilinear, kImageNetMean, kImageNetStd},
      {"efficientnet_v2_m", 480, 480, kBilinear, kImageNetMean, kImageNetStd},
      {"efficientnet_v2_l", 480, 480, kBicubic, kHalf, kHalf},
      {"convnext_tiny", 236, 224, kBilinear, kImageNetMean, kImageNetStd},
      {"convnext_small", 230, 224, kBilinear, kImageNetMean, kImageNetStd},
      {"convnext_base", 232, 224, kBilinear, kImageNetMean, kImageNetStd},
      {"convnext_large", 232, 224, kBilinear, kImageNetMean, kImageNetStd},
      // CIFAR-10's 32x32 (a photo resized, center-cropped): the blitz and the seed's LeNet train
      // with Normalize(0.5, 0.5); akamaster's trainer.py with ImageNet's mean/std.
      {"cifar10", 32, 32, kBilinear, kHalf, kHalf},
      {"cifar10_imagenet", 32, 32, kBilinear, kImageNetMean, kImageNetStd},
      // MNIST's 28x28 gray (pytorch/examples mnist/main.py: Normalize((0.1307,), (0.3081,))).
      {"mnist", 28, 28, kBilinear, kMnistMean, kMnistStd, 0, 1},
  }};
  return entries;
}

}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const Entry& e : table()) names.emplace_back(e.name);
  return names;
}

// "exported-CxHxW": a graph network's own input (graph/dataflow.h's input_shape): resized to
// H x W, C channels, mean and std 0.5 (ToTensor + Normalize(0.5, 0.5), what most small custom
// networks train with).
std::optional<PreprocessOptions> exported_preset(const std::string& name) {
  const std::string prefix = "exported-";
  if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  int64_t c = 0, h = 0, w = 0;
  char tail = 0;
  if (std::sscanf(name.c_str() + prefix.size(), "%ldx%ldx%ld%c", &c, &h, &w, &tail) != 3 ||
      (c != 1 && c != 3) || h <= 0 || w <= 0)
    return std::nullopt;
  PreprocessOptions o;
  o.name = name;
  o.resize_height = h;
  o.resize_width = w;
  o.interpolation = kBilinear;
  o.mean = kHalf;
  o.std = kHalf;
  o.channels = c;
  return o;
}

PreprocessOptions preset(const std::string& name) {
  if (auto exported = exported_preset(name)) return *exported;
  for (const Entry& e : table()) {
    if (name != e.name) continue;
    PreprocessOptions o;
    o.name = name;
    if (e.fixed > 0) {
      o.resize_height = o.resize_width = e.fixed;
    } else {
      o.resize_short = e.resize;
      o.crop_height = o.crop_width = e.crop;
    }
    o.interpolation = e.interpolation;
    o.mean = e.mean;
    o.std = e.std;
    o.channels = e.channels;
    return o;
  }
  fail("", "unknown preset '" + name + "'", did_you_mean(name, preset_names()));
}

}  // namespace cnnscope
