// Colormaps for feature maps: gray and matplotlib's 256-entry viridis, magma, inferno, plasma and
// turbo, looked up exactly as matplotlib's Colormap(x, bytes=True) does. Leaves out: under/over
// colours.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cnnscope {

struct Rgb8 {
  uint8_t r, g, b;
};

class Colormap {
 public:
  static constexpr int kSize = 256;

  Colormap(std::string name, const double (*table)[3]);

  const std::string& name() const { return name_; }
  // Entry i as matplotlib's cmap(i, bytes=True): each float component times 255, truncated.
  Rgb8 entry(int i) const { return lut_[static_cast<size_t>(i)]; }
  // Entry i as floats 0..1 (matplotlib's cmap(i)).
  const std::array<double, 3>& entry_float(int i) const { return table_[static_cast<size_t>(i)]; }
  // A normalised value t (0..1) -> colour, as matplotlib: index int(t * 256), 1.0 -> 255,
  // clipped to the table; NaN maps to entry 0.
  Rgb8 map(double t) const { return lut_[static_cast<size_t>(index(t))]; }
  static int index(double t);

 private:
  std::string name_;
  std::array<std::array<double, 3>, kSize> table_;
  std::array<Rgb8, kSize> lut_;
};

// "gray" | "viridis" | "magma" | "inferno" | "plasma" | "turbo"; throws Error listing the names.
const Colormap& colormap(const std::string& name);
const std::vector<std::string>& colormap_names();

}  // namespace cnnscope
