// The network's input, as torchvision would make it: a photo (JPEG, PNG, BMP, GIF, WebP, TIFF) goes
// decode -> RGB -> Resize -> CenterCrop -> ToTensor -> Normalize with Pillow-exact pixels; a .npy
// tensor is used as is.
#pragma once

#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace cnnscope {

// Resize's resampling filter, as Pillow does it (torchvision passes the PIL image to Image.resize).
enum class Interpolation { kBilinear, kBicubic, kNearest };

// One preprocessing pipeline: torchvision's Resize, CenterCrop, ToTensor, Normalize in that order.
struct PreprocessOptions {
  std::string name = "custom";  // preset name, for messages and reports
  // Resize: `resize_short` > 0 sizes the shorter side (transforms.Resize(int)); else
  // `resize_height` x `resize_width` > 0 (transforms.Resize((h, w))); all 0: no resize.
  int64_t resize_short = 0;
  int64_t resize_height = 0;
  int64_t resize_width = 0;
  Interpolation interpolation = Interpolation::kBilinear;
  // CenterCrop to crop_height x crop_width (0: no crop).
  int64_t crop_height = 0;
  int64_t crop_width = 0;
  std::array<double, 3> mean{0.0, 0.0, 0.0};  // as Python floats; torch rounds them to float32
  std::array<double, 3> std{1.0, 1.0, 1.0};
  // 1: Pillow's convert("L") (ITU-R 601-2 luma, integer rounding) before Resize, and a [1, H, W]
  // tensor normalized with mean[0] / std[0] (the MNIST preset); 3: RGB.
  int64_t channels = 3;

  bool operator==(const PreprocessOptions& o) const {
    return std::tie(name, resize_short, resize_height, resize_width, interpolation, crop_height,
                    crop_width, mean, std, channels) ==
           std::tie(o.name, o.resize_short, o.resize_height, o.resize_width, o.interpolation,
                    o.crop_height, o.crop_width, o.mean, o.std, o.channels);
  }
};

// A named preset (image/presets.cpp): "alexnet" (the seed's: Resize((224,224)), Normalize(0.5,
// 0.5)); "imagenet" (Resize(256), CenterCrop(224), bilinear, ImageNet mean/std: torchvision's
// IMAGENET1K_V1 transforms of most builders); and, named after the torchvision builder, the
// IMAGENET1K_V1 transforms that differ ("inception_v3": 342/299, "efficientnet_b3": 320/300
// bicubic, ...); the tutorial nets' "cifar10" (32/32, Normalize(0.5, 0.5)), "cifar10_imagenet"
// (32/32, ImageNet mean/std), "mnist" (28/28, 1 channel, Normalize(0.1307, 0.3081)), a graph
// network's own "exported-CxHxW" (resized to H x W, C channels, Normalize(0.5, 0.5)), and one per
// layout arch, named after it: "timm/<name>" (timm's pretrained_cfg transform), "seed/<name>"
// (the seed series' predict.py transform). Throws Error on any other name, listing the known ones.
PreprocessOptions preset(const std::string& name);

// Every preset name preset() knows, in table order.
std::vector<std::string> preset_names();

struct Input {
  at::Tensor tensor;   // [C, H, W] float32 (C = options.channels), normalized: the network's input
  at::Tensor picture;  // [H, W, 3] uint8 RGB after resize and crop, before ToTensor (for reports;
                       // gray for a 1-channel preset)
                       // for a .npy input: the tensor un-normalized with the options, rounded
};

// Reads `path` (JPEG, PNG, or .npy float32 [C,H,W] / [1,C,H,W], C = options.channels) and
// preprocesses it.
// Throws Error naming the file on anything unreadable (missing, empty, truncated, not an image,
// dimensions too large).
Input load_input_with_picture(const std::string& path, const PreprocessOptions& options);

// Just the tensor: [C, H, W] float32.
at::Tensor load_input(const std::string& path, const PreprocessOptions& options);

}  // namespace cnnscope
