// The receptive field of a layer's units in the input image, from the kernel sizes, strides,
// paddings and dilations of the Conv2d / MaxPool2d / AvgPool2d modules before it (their reprs).
// Known for chains of layers (the `features` Sequential of AlexNet and VGG) and for ResNets'
// convolutional layers (the main path of each block covers its shortcut); a layer reached through
// other branches (inception, dense blocks, ...) has none here. Spec: Araujo et al.,
// "Computing Receptive Fields of Convolutional Neural Networks" (Distill, 2019), the single-path
// formulas.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "models/network.h"

namespace cnnscope::models {

struct ReceptiveField {
  std::array<int64_t, 2> size{1, 1};     // r: input pixels per unit, y and x
  std::array<int64_t, 2> jump{1, 1};     // input pixels between neighbouring units
  std::array<int64_t, 2> padding{0, 0};  // where unit 0's field starts: at -padding

  // The input patch [y0, x0, y1, x1) (end exclusive) under unit (y, x), clipped to an input of
  // `height` x `width`.
  std::array<int64_t, 4> patch(int64_t y, int64_t x, int64_t height, int64_t width) const;
};

// The field of `layer`'s output, or nullopt where the layer is not on a single chain of layers.
// Throws Error for a name that is not a tap.
std::optional<ReceptiveField> receptive_field(const Network& net, const std::string& layer);

}  // namespace cnnscope::models
