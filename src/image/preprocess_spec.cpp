// resolve_preprocess (see preprocess_spec.h): the text of the preprocessing flags checked and
// turned into PreprocessOptions for the input a network needs. Spec: torchvision's Resize(int) /
// Resize((h, w)) and its InterpolationMode names, CenterCrop, Normalize argument meanings (one
// number per channel), Grayscale.
#include "image/preprocess_spec.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <vector>

#include "common/error.h"
#include "common/suggest.h"

namespace cnnscope {
namespace {

constexpr const char* kGrayPreset = "mnist";

struct NamedInterpolation {
  const char* name;
  Interpolation interpolation;
};
constexpr std::array<NamedInterpolation, 3> kInterpolations{{
    {"bilinear", Interpolation::kBilinear},
    {"bicubic", Interpolation::kBicubic},
    {"nearest", Interpolation::kNearest},
}};

Interpolation parse_interpolation(const std::string& text) {
  for (const NamedInterpolation& n : kInterpolations)
    if (text == n.name) return n.interpolation;
  fail("", "unknown interpolation '" + text + "'", did_you_mean(text, interpolation_names()));
}

// "a" (every channel) or one number per channel: Normalize's mean or std.
std::array<double, 3> parse_per_channel(const std::string& step, const std::string& text,
                                        int64_t channels) {
  const std::string hint = channels == 1 ? "the network takes one channel: write one number"
                                         : "write one number or a,b,c";
  std::vector<double> values;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string part = text.substr(pos, comma - pos);
    try {
      size_t used = 0;
      values.push_back(std::stod(part, &used));
      if (used != part.size()) throw std::invalid_argument(part);
    } catch (const std::exception&) {
      fail("", step + " '" + text + "' is not a list of numbers", hint);
    }
    pos = comma + 1;
  }
  if (values.size() != 1 && static_cast<int64_t>(values.size()) != channels)
    fail("",
         step + " '" + text + "' has " + std::to_string(values.size()) + " numbers for " +
             std::to_string(channels) + (channels == 1 ? " channel" : " channels"),
         hint);
  std::array<double, 3> v{};
  for (size_t i = 0; i < v.size(); ++i) v[i] = values[values.size() == 1 ? 0 : i];
  return v;
}

int64_t parse_size(const std::string& text) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v <= 0)
    fail("", "resize '" + text + "' is not a positive size", "write N or HxW, e.g. 256 or 224x224");
  return v;
}

// The options make a size x size input.
bool makes_size(const PreprocessOptions& o, int64_t size) {
  if (o.crop_height > 0) return o.crop_height == size && o.crop_width == size;
  return o.resize_short == 0 && o.resize_height == size && o.resize_width == size;
}

}  // namespace

std::vector<std::string> interpolation_names() {
  std::vector<std::string> names;
  for (const NamedInterpolation& n : kInterpolations) names.emplace_back(n.name);
  return names;
}

PreprocessOptions resolve_preprocess(const PreprocessSpec& spec, const NetworkInput& net) {
  const bool sized = !spec.resize.empty() || spec.crop > 0;
  const bool custom = sized || !spec.mean.empty() || !spec.std.empty();
  if (spec.crop < 0) fail("", "crop must be positive, got " + std::to_string(spec.crop));
  // A one-channel network whose default preset is for colour: MNIST's gray 28x28 digits.
  const std::string base =
      net.channels == 1 && preset(net.preset).channels != 1 ? kGrayPreset : net.preset;
  PreprocessOptions o;
  if (!spec.preset.empty())
    o = preset(spec.preset);
  else if (!custom)
    o = preset(base);
  else
    o.channels = preset(base).channels;
  if (net.channels > 0) o.channels = net.channels;
  if (spec.grayscale) o.channels = 1;
  if (!spec.resize.empty()) {
    o.resize_short = o.resize_height = o.resize_width = 0;
    const size_t x = spec.resize.find('x');
    if (x == std::string::npos) {
      o.resize_short = parse_size(spec.resize);
    } else {
      o.resize_height = parse_size(spec.resize.substr(0, x));
      o.resize_width = parse_size(spec.resize.substr(x + 1));
    }
  }
  if (spec.crop > 0) o.crop_height = o.crop_width = spec.crop;
  const bool refiltered =
      !spec.interpolation.empty() && parse_interpolation(spec.interpolation) != o.interpolation;
  if (refiltered) o.interpolation = parse_interpolation(spec.interpolation);
  const bool resized = !sized && net.size > 0 && !makes_size(o, net.size);
  if (resized) {  // the size the network needs
    o.resize_short = o.crop_height = o.crop_width = 0;
    o.resize_height = o.resize_width = net.size;
  }
  if (!spec.mean.empty()) o.mean = parse_per_channel("mean", spec.mean, o.channels);
  if (!spec.std.empty()) o.std = parse_per_channel("std", spec.std, o.channels);
  if (custom) o.name = spec.preset.empty() ? "custom" : spec.preset + "+custom";
  if (refiltered) o.name += "+" + spec.interpolation;
  if (resized) o.name += "+" + std::to_string(net.size) + "x" + std::to_string(net.size);
  if (spec.grayscale) o.name += "+grayscale";
  return o;
}

PreprocessOptions resolve_preprocess(const PreprocessSpec& spec,
                                     const std::string& default_preset) {
  return resolve_preprocess(spec, NetworkInput{default_preset, 0, 0});
}

}  // namespace cnnscope
