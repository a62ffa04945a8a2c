// torchvision 0.14 transforms for PIL images: Resize (size rule of _compute_resized_output_size),
// CenterCrop (F.center_crop: pad, then round((h - ch) / 2.0)), ToTensor, Normalize.
// Leaves out: Resize's max_size and antialias arguments, tensor-input paths.
#include "image/transforms.h"

#include <cmath>

#include "common/error.h"
#include "image/resize.h"

namespace cnnscope {

ImageSize resize_target(ImageSize in, const PreprocessOptions& options) {
  if (options.resize_short > 0) {
    const bool portrait = in.width <= in.height;
    const int64_t shorter = portrait ? in.width : in.height;
    const int64_t longer = portrait ? in.height : in.width;
    const int64_t new_short = options.resize_short;
    const auto new_long = static_cast<int64_t>(static_cast<double>(new_short * longer) / shorter);
    return portrait ? ImageSize{new_long, new_short} : ImageSize{new_short, new_long};
  }
  if (options.resize_height > 0 && options.resize_width > 0)
    return {options.resize_height, options.resize_width};
  return in;
}

at::Tensor center_crop(const at::Tensor& rgb, int64_t crop_height, int64_t crop_width) {
  at::Tensor img = rgb;  // [H, W, 3]
  int64_t h = img.size(0), w = img.size(1);
  if (crop_width > w || crop_height > h) {
    const int64_t left = crop_width > w ? (crop_width - w) / 2 : 0;
    const int64_t top = crop_height > h ? (crop_height - h) / 2 : 0;
    const int64_t padded_h = std::max(h, crop_height), padded_w = std::max(w, crop_width);
    at::Tensor padded = at::zeros({padded_h, padded_w, 3}, at::kByte);  // [H', W', 3]
    padded.narrow(0, top, h).narrow(1, left, w).copy_(img);
    img = padded;
    h = padded_h;
    w = padded_w;
    if (crop_width == w && crop_height == h) return img;
  }
  // Python's round() rounds half to even, as nearbyint does in the default rounding mode.
  const auto top = static_cast<int64_t>(std::nearbyint((h - crop_height) / 2.0));
  const auto left = static_cast<int64_t>(std::nearbyint((w - crop_width) / 2.0));
  return img.narrow(0, top, crop_height).narrow(1, left, crop_width).contiguous();
}

at::Tensor to_normalized_tensor(const at::Tensor& rgb, const std::array<double, 3>& mean,
                                const std::array<double, 3>& std) {
  for (double s : std)
    if (s == 0.0) fail("", "std of 0 in Normalize", "every std value must be non-zero");
  // ToTensor: permute to [3, H, W], to float32, divide by 255.
  at::Tensor t = rgb.permute({2, 0, 1}).contiguous().to(at::kFloat).div(255);  // [3, H, W]
  at::Tensor m =
      at::tensor({mean[0], mean[1], mean[2]}, at::kDouble).to(at::kFloat).view({-1, 1, 1});
  at::Tensor s = at::tensor({std[0], std[1], std[2]}, at::kDouble).to(at::kFloat).view({-1, 1, 1});
  return t.sub_(m).div_(s);
}

at::Tensor luma_rgb(const at::Tensor& rgb) {
  constexpr int64_t kRed = 19595, kGreen = 38470, kBlue = 7471, kHalf = 0x8000, kShift = 16;
  const at::Tensor c = rgb.to(at::kLong);  // [H, W, 3]
  const at::Tensor sum = c.select(2, 0) * kRed + c.select(2, 1) * kGreen + c.select(2, 2) * kBlue;
  const at::Tensor l = (sum + kHalf).bitwise_right_shift(kShift).to(at::kByte);  // [H, W]
  return l.unsqueeze(2).expand({-1, -1, 3}).contiguous();                        // [H, W, 3]
}

at::Tensor network_tensor(const at::Tensor& picture, const PreprocessOptions& options) {
  at::Tensor t = to_normalized_tensor(picture, options.mean, options.std);  // [3, h, w]
  if (options.channels == 1) t = t.narrow(0, 0, 1).contiguous();            // [1, h, w]
  return t;
}

at::Tensor resize_and_crop(const at::Tensor& input, const PreprocessOptions& options) {
  const at::Tensor rgb = options.channels == 1 ? luma_rgb(input) : input;  // [H, W, 3]
  const ImageSize in{rgb.size(0), rgb.size(1)};
  const ImageSize target = resize_target(in, options);
  if (target.height <= 0 || target.width <= 0)
    fail("",
         "resize gives an empty image (" + std::to_string(target.height) + "x" +
             std::to_string(target.width) + ")",
         "the image is too thin for this resize");
  at::Tensor out = (target.height == in.height && target.width == in.width)
                       ? rgb
                       : resize_rgb(rgb, target.height, target.width, options.interpolation);
  if (options.crop_height > 0 && options.crop_width > 0)
    out = center_crop(out, options.crop_height, options.crop_width);
  return out;
}

}  // namespace cnnscope
