// The image-pipeline flags shared by `preprocess`, `predict` and `features`: --preset, or a custom
// --resize N|HxW, --crop N, --mean a,b,c, --std a,b,c (overriding the preset's steps when both
// given).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "common/error.h"
#include "image/input.h"

namespace cnnscope::cli {

struct PreprocessFlags {
  std::string preset;
  std::string resize;
  int64_t crop = 0;
  std::string mean;
  std::string std;
};

inline void add_preprocess_flags(CLI::App& sub, PreprocessFlags& f) {
  sub.add_option("--preset", f.preset, "input preset: alexnet | imagenet (default: by model)");
  sub.add_option("--resize", f.resize, "Resize: N (shorter side) or HxW");
  sub.add_option("--crop", f.crop, "CenterCrop N")->check(CLI::PositiveNumber);
  sub.add_option("--mean", f.mean, "Normalize mean a,b,c");
  sub.add_option("--std", f.std, "Normalize std a,b,c");
}

namespace detail {
inline std::array<double, 3> parse_triple(const std::string& flag, const std::string& text) {
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

inline int64_t parse_size(const std::string& flag, const std::string& text) {
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
}  // namespace detail

// The pipeline the flags describe. Custom flags alone start from no resize, no crop, mean 0, std 1;
// with --preset they replace that preset's steps. No flags at all: `default_preset`.
inline PreprocessOptions resolve_preprocess(const PreprocessFlags& f,
                                            const std::string& default_preset) {
  const bool custom = !f.resize.empty() || f.crop > 0 || !f.mean.empty() || !f.std.empty();
  PreprocessOptions o;
  if (!f.preset.empty())
    o = preset(f.preset);
  else if (!custom)
    o = preset(default_preset);
  if (!f.resize.empty()) {
    o.resize_short = o.resize_height = o.resize_width = 0;
    const size_t x = f.resize.find('x');
    if (x == std::string::npos) {
      o.resize_short = detail::parse_size("--resize", f.resize);
    } else {
      o.resize_height = detail::parse_size("--resize", f.resize.substr(0, x));
      o.resize_width = detail::parse_size("--resize", f.resize.substr(x + 1));
    }
  }
  if (f.crop > 0) o.crop_height = o.crop_width = f.crop;
  if (!f.mean.empty()) o.mean = detail::parse_triple("--mean", f.mean);
  if (!f.std.empty()) o.std = detail::parse_triple("--std", f.std);
  if (custom) o.name = f.preset.empty() ? "custom" : f.preset + "+custom";
  return o;
}

}  // namespace cnnscope::cli
