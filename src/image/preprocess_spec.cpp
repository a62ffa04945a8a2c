// resolve_preprocess (see preprocess_spec.h): the text of the preprocessing flags checked and
// turned into PreprocessOptions. Spec: torchvision's Resize(int) / Resize((h, w)), CenterCrop,
// Normalize argument meanings.
#include "image/preprocess_spec.h"

#include <array>
#include <stdexcept>

#include "common/error.h"

namespace cnnscope {
namespace {

std::array<double, 3> parse_triple(const std::string& flag, const std::string& text) {
  std::array<double, 3> v{};
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    const size_t comma = text.find(',', pos);
    const std::string part = text.substr(pos, comma == std::string::npos ? comma : comma - pos);
    try {
      size_t used = 0;
      v[i] = std::stod(part, &used);
      if (used != part.size()) throw std::invalid_argument(part);
    } catch (const std::exception&) {
      fail("", flag + " '" + text + "' is not three numbers", "write it as a,b,c");
    }
    if ((i < 2) != (comma != std::string::npos))
      fail("", flag + " '" + text + "' is not three numbers", "write it as a,b,c");
    pos = comma + 1;
  }
  return v;
}

int64_t parse_size(const std::string& flag, const std::string& text) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v <= 0)
    fail("", flag + " '" + text + "' is not a positive size",
         "write N or HxW, e.g. 256 or 224x224");
  return v;
}

}  // namespace

PreprocessOptions resolve_preprocess(const PreprocessSpec& spec,
                                     const std::string& default_preset) {
  const bool custom =
      !spec.resize.empty() || spec.crop > 0 || !spec.mean.empty() || !spec.std.empty();
  if (spec.crop < 0) fail("", "--crop must be positive, got " + std::to_string(spec.crop));
  PreprocessOptions o;
  if (!spec.preset.empty())
    o = preset(spec.preset);
  else if (!custom)
    o = preset(default_preset);
  else
    o.channels = preset(default_preset).channels;  // the network's input channels
  if (!spec.resize.empty()) {
    o.resize_short = o.resize_height = o.resize_width = 0;
    const size_t x = spec.resize.find('x');
    if (x == std::string::npos) {
      o.resize_short = parse_size("--resize", spec.resize);
    } else {
      o.resize_height = parse_size("--resize", spec.resize.substr(0, x));
      o.resize_width = parse_size("--resize", spec.resize.substr(x + 1));
    }
  }
  if (spec.crop > 0) o.crop_height = o.crop_width = spec.crop;
  if (!spec.mean.empty()) o.mean = parse_triple("--mean", spec.mean);
  if (!spec.std.empty()) o.std = parse_triple("--std", spec.std);
  if (custom) o.name = spec.preset.empty() ? "custom" : spec.preset + "+custom";
  return o;
}

}  // namespace cnnscope
