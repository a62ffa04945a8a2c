// torchvision 0.14's transforms on a decoded picture: Resize size rule, CenterCrop (with its
// zero padding and half-to-even offsets), ToTensor and Normalize. Internal to src/image/.
#pragma once

#include <ATen/ATen.h>

#include <array>
#include <cstdint>

#include "image/input.h"

namespace cnnscope {

struct ImageSize {
  int64_t height = 0;
  int64_t width = 0;
};

// The size transforms.Resize gives an image of `in`: the shorter side becomes resize_short and
// the longer int(resize_short * long / short); or the fixed height x width; or `in` unchanged.
ImageSize resize_target(ImageSize in, const PreprocessOptions& options);

// transforms.CenterCrop on [H, W, 3] uint8: pads with zeros when the crop is larger.
at::Tensor center_crop(const at::Tensor& rgb, int64_t crop_height, int64_t crop_width);

// ToTensor then Normalize: [H, W, 3] uint8 -> [3, H, W] float32, same float32 operations as torch.
at::Tensor to_normalized_tensor(const at::Tensor& rgb, const std::array<double, 3>& mean,
                                const std::array<double, 3>& std);

// Pillow's convert("L") of [H, W, 3] uint8 RGB: (19595 R + 38470 G + 7471 B + 0x8000) >> 16,
// repeated in the 3 channels ([H, W, 3] uint8 gray).
at::Tensor luma_rgb(const at::Tensor& rgb);

// Resize and crop as `options` say: [H, W, 3] uint8 -> [h, w, 3] uint8 (made gray first with
// luma_rgb when options.channels is 1: resampling the three equal channels gives Pillow's "L"
// resize in each).
at::Tensor resize_and_crop(const at::Tensor& rgb, const PreprocessOptions& options);

// ToTensor then Normalize as `options` say: [h, w, 3] uint8 -> [C, h, w] float32, C =
// options.channels (1: the first channel of the gray picture).
at::Tensor network_tensor(const at::Tensor& picture, const PreprocessOptions& options);

}  // namespace cnnscope
