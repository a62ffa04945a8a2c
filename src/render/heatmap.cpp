// Explanation heat maps as RGB pixels (see heatmap.h). Maps are read as contiguous float32 on the
// CPU; values are scaled in double precision, as numpy does for the float64 arithmetic of
// show_cam_on_image.
#include "render/heatmap.h"

#include <algorithm>
#include <cmath>

namespace cnnscope {
namespace {

constexpr double kByte = 255.0;

RgbImage blank(const at::Tensor& map) {  // [H, W]
  RgbImage out;
  out.height = map.size(0);
  out.width = map.size(1);
  out.pixels.resize(static_cast<size_t>(out.height * out.width * 3));
  return out;
}

void put(RgbImage& image, int64_t i, Rgb8 c) {
  const size_t at = static_cast<size_t>(i * 3);
  image.pixels[at] = c.r;
  image.pixels[at + 1] = c.g;
  image.pixels[at + 2] = c.b;
}

}  // namespace

RgbImage cam_heatmap(const at::Tensor& map, const Colormap& cmap) {
  RgbImage out = blank(map);
  const at::Tensor m = map.to(at::kCPU, at::kFloat).contiguous();  // [H, W]
  const float* v = m.data_ptr<float>();
  for (int64_t i = 0; i < out.height * out.width; ++i) {
    const int index = static_cast<int>(static_cast<uint8_t>(kByte * v[i]));  // np.uint8(255*m)
    put(out, i, cmap.entry(std::clamp(index, 0, Colormap::kSize - 1)));
  }
  return out;
}

RgbImage cam_overlay(const RgbImage& heat, const at::Tensor& picture, double alpha) {
  const bool have_picture =
      picture.defined() && picture.size(0) == heat.height && picture.size(1) == heat.width;
  const at::Tensor pic = have_picture ? picture.contiguous() : picture;  // [H, W, C] uint8
  const uint8_t* p = have_picture ? pic.data_ptr<uint8_t>() : nullptr;
  const int64_t pc = have_picture ? pic.size(2) : 0;
  std::vector<double> blend(heat.pixels.size());
  double top = 0;
  for (int64_t i = 0; i < heat.height * heat.width; ++i) {
    for (int64_t k = 0; k < 3; ++k) {
      const size_t at = static_cast<size_t>(i * 3 + k);
      const double image = p != nullptr ? p[i * pc + (pc == 3 ? k : 0)] / kByte : 0.0;
      blend[at] = alpha * (heat.pixels[at] / kByte) + (1 - alpha) * image;
      top = std::max(top, blend[at]);
    }
  }
  RgbImage out{heat.width, heat.height, std::vector<uint8_t>(heat.pixels.size())};
  for (size_t i = 0; i < out.pixels.size(); ++i)
    out.pixels[i] = static_cast<uint8_t>(top > 0 ? kByte * (blend[i] / top) : 0.0);
  return out;
}

RgbImage signed_heatmap(const at::Tensor& map) {
  RgbImage out = blank(map);
  const at::Tensor s = map.to(at::kCPU, at::kFloat).contiguous();  // [H, W]
  const double largest = s.abs().max().item<double>();
  const float* v = s.data_ptr<float>();
  for (int64_t i = 0; i < out.height * out.width; ++i) {
    const double t = largest > 0 ? v[i] / largest : 0.0;  // [-1, 1]
    const auto fade = static_cast<uint8_t>(std::lround(kByte * (1 - std::abs(t))));
    put(out, i, t >= 0 ? Rgb8{255, fade, fade} : Rgb8{fade, fade, 255});
  }
  return out;
}

RgbImage magnitude_heatmap(const at::Tensor& map, const Colormap& cmap) {
  RgbImage out = blank(map);
  const at::Tensor a = map.to(at::kCPU, at::kFloat).contiguous();  // [H, W]
  const double top = a.max().item<double>();
  const float* v = a.data_ptr<float>();
  for (int64_t i = 0; i < out.height * out.width; ++i)
    put(out, i, cmap.map(top > 0 ? v[i] / top : 0.0));
  return out;
}

}  // namespace cnnscope
