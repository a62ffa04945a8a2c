// Receptive fields of single-path networks: walks the leaf modules in named_modules() order up to
// the layer and folds each one's kernel/stride/padding/dilation (read from its repr, as
// print(model) writes them) into r, j and the start offset. ResNets (ResNeXt, Wide ResNet) walk
// the main path and skip each block's `downsample`: the shortcut (a 1x1 convolution with the
// block's stride, or none) sees input pixel (y*s, x*s), which the main path's 3x3 convolution of
// the same stride and padding 1 covers, so the main path's field is the block's whole field.
// Leaves out: other branched networks (nullopt), a tap inside a downsample, avgpool/fc,
// padding='same' and ceil_mode's extra output (it does not change the field of a unit).
// Spec: receptive_field.h.
#include "models/receptive_field.h"

#include <algorithm>
#include <cstdlib>

#include "common/text.h"

namespace cnnscope::models {
namespace {

// `key=(a, b)` or `key=a` in a repr; `fallback` when absent.
std::array<int64_t, 2> repr_pair(const std::string& repr, const std::string& key,
                                 int64_t fallback) {
  const size_t at = repr.find(key + "=");
  if (at == std::string::npos) return {fallback, fallback};
  const char* p = repr.c_str() + at + key.size() + 1;
  if (*p == '(') {
    char* end = nullptr;
    const int64_t a = std::strtoll(p + 1, &end, 10);
    const int64_t b = (end && *end == ',') ? std::strtoll(end + 1, nullptr, 10) : a;
    return {a, b};
  }
  const int64_t v = std::strtoll(p, nullptr, 10);
  return {v, v};
}

bool is_prefix(const std::string& layer, const std::string& name) {
  return name == layer || (name.size() > layer.size() &&
                           name.compare(0, layer.size(), layer) == 0 && name[layer.size()] == '.');
}

}  // namespace

std::array<int64_t, 4> ReceptiveField::patch(int64_t y, int64_t x, int64_t height,
                                             int64_t width) const {
  const int64_t y0 = y * jump[0] - padding[0], x0 = x * jump[1] - padding[1];
  return {std::max<int64_t>(0, y0), std::max<int64_t>(0, x0), std::min(height, y0 + size[0]),
          std::min(width, x0 + size[1])};
}

std::optional<ReceptiveField> receptive_field(const Network& net, const std::string& layer) {
  net.check_tap(layer);
  const std::string& family = net.info().family;
  const bool chain = (family == "alexnet" || family == "vgg") && starts_with(layer, "features");
  const bool resnet = family == "resnet" && layer.find("downsample") == std::string::npos &&
                      layer != "avgpool" && layer != "fc";
  if (!chain && !resnet) return std::nullopt;
  ReceptiveField rf;
  bool reached = false;
  for (const TapInfo& tap : net.taps()) {
    const bool inside = is_prefix(layer, tap.name);
    if (reached && !inside) break;
    reached = reached || inside;
    if (!tap.leaf || tap.name.find(".downsample.") != std::string::npos) continue;
    if (tap.type != "Conv2d" && tap.type != "MaxPool2d" && tap.type != "AvgPool2d") continue;
    const auto k = repr_pair(tap.repr, "kernel_size", 1);
    const auto s = repr_pair(tap.repr, "stride", tap.type == "Conv2d" ? 1 : k[0]);
    const auto p = repr_pair(tap.repr, "padding", 0);
    const auto d = repr_pair(tap.repr, "dilation", 1);
    for (size_t a = 0; a < 2; ++a) {
      rf.size[a] += (k[a] - 1) * d[a] * rf.jump[a];
      rf.padding[a] += p[a] * rf.jump[a];
      rf.jump[a] *= s[a];
    }
  }
  return rf;
}

}  // namespace cnnscope::models
