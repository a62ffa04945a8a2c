// Filter mosaic: kernels mapped to 0..255 over their own (or the layer's) finite range and painted
// as nearest-neighbour-scaled cairo image patterns, one tile per kernel or per input channel.
// Leaves out: colour maps for gray tiles (plain gray, as kernel pictures are usually shown).
// Spec: cairo 1.16 image surfaces and patterns (CAIRO_FILTER_NEAREST).
#include "render/filter_mosaic.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.h"
#include "common/text.h"

namespace cnnscope {
namespace {

constexpr double kTargetTileRgb = 72;      // points per kernel tile, colour and mean modes
constexpr double kTargetTileChannel = 36;  // points per tile, one row of channels per kernel
constexpr double kGap = 6;                 // between tiles
constexpr double kMargin = 16;             // around the grid
constexpr double kHeader = 58;             // title and subtitle
constexpr double kLabelSize = 9;
constexpr double kTitleSize = 16, kSubtitleSize = 11;
constexpr double kMinWidth = 460;
constexpr double kRowLabelWidth = 40;   // "k123" left of each kernel row (channels mode)
constexpr uint8_t kConstantGray = 128;  // a constant tile has no range: mid gray
constexpr double kMaxByte = 255.0;

struct Range {
  double lo = 0, hi = 0;
};

// Finite min..max of `t`; throws when there is no finite value at all.
Range finite_range(const at::Tensor& t, const std::string& what) {
  const at::Tensor finite = t.masked_select(at::isfinite(t));
  if (finite.numel() == 0) fail("", what + " has no finite value to draw");
  return Range{finite.min().item<double>(), finite.max().item<double>()};
}

uint8_t to_byte(double v, const Range& r) {
  if (!std::isfinite(v)) return 0;
  if (!(r.hi > r.lo)) return kConstantGray;
  const double scaled = std::round((v - r.lo) / (r.hi - r.lo) * kMaxByte);
  return static_cast<uint8_t>(std::clamp(scaled, 0.0, kMaxByte));
}

// Paints `t` ([kH, kW] gray or [kH, kW, 3] RGB, float64) at (x, y), each value a `pixel`-wide
// square.
void paint_tile(Canvas& canvas, const at::Tensor& t, const Range& range, double x, double y,
                double pixel) {
  const int h = static_cast<int>(t.size(0)), w = static_cast<int>(t.size(1));
  const bool rgb = t.dim() == 3;
  const double* p = t.data_ptr<double>();
  std::vector<uint32_t> packed(static_cast<size_t>(w) * static_cast<size_t>(h));  // [kH * kW]
  for (int i = 0; i < w * h; ++i) {
    uint8_t c[3];
    for (int k = 0; k < 3; ++k) c[k] = to_byte(rgb ? p[i * 3 + k] : p[i], range);
    packed[static_cast<size_t>(i)] =
        (uint32_t{c[0]} << 16) | (uint32_t{c[1]} << 8) | uint32_t{c[2]};
  }
  canvas.draw_pixels(packed.data(), w, h, x, y, w * pixel, h * pixel);
}

bool per_channel_mode(FilterMode mode) {
  return mode == FilterMode::kChannels;
}

// Columns for a grid of n tiles: between sqrt(n) and sqrt(2n), the fewest empty cells in the last
// row, wider on ties (48 kernels -> 8 x 6).
int64_t grid_columns(int64_t n) {
  const auto lo = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const auto hi = std::max(lo, static_cast<int64_t>(std::ceil(std::sqrt(2.0 * n))));
  int64_t best = lo;
  for (int64_t c = lo; c <= std::min(hi, n); ++c)
    if ((c - n % c) % c <= (best - n % best) % best) best = c;
  return std::min(best, n);
}

}  // namespace

FilterScale parse_filter_scale(const std::string& name) {
  if (name == "kernel") return FilterScale::kKernel;
  if (name == "layer") return FilterScale::kLayer;
  fail("", "unknown filter scale '" + name + "'", "use kernel or layer");
}

FilterMode parse_filter_mode(const std::string& name) {
  if (name == "auto") return FilterMode::kAuto;
  if (name == "rgb") return FilterMode::kRgb;
  if (name == "channels") return FilterMode::kChannels;
  if (name == "mean") return FilterMode::kMean;
  fail("", "unknown filter mode '" + name + "'", "use auto, rgb, channels or mean");
}

std::string filter_mosaic(const at::Tensor& weight, const FilterMosaicOptions& options,
                          FigureFormat format) {
  if (weight.dim() != 4)
    fail("",
         "'" + options.title + "' is not a convolution weight: expected 4 dimensions " +
             "[C_out, C_in, kH, kW], got shape " + shape_text(weight.sizes()),
         "pick a conv weight", {{"layer", "NAME"}});
  if (!at::isFloatingType(weight.scalar_type()))
    fail("", "'" + options.title + "' holds " + std::string(c10::toString(weight.scalar_type())) +
                 " values, not floating point kernels");
  const int64_t out_channels = weight.size(0), in_channels = weight.size(1);
  const int64_t kh = weight.size(2), kw = weight.size(3);
  if (weight.numel() == 0)
    fail("", "'" + options.title + "' is empty: shape " + shape_text(weight.sizes()));
  FilterMode mode = options.mode;
  if (mode == FilterMode::kAuto) mode = in_channels == 3 ? FilterMode::kRgb : FilterMode::kChannels;
  if (mode == FilterMode::kRgb && in_channels != 3)
    fail("",
         "'" + options.title + "' has " + std::to_string(in_channels) +
             " input channels, colour patches need 3",
         "", {{"mode", "channels|mean"}});

  const int64_t kernels =
      options.max_kernels > 0 ? std::min<int64_t>(out_channels, options.max_kernels) : out_channels;
  const int64_t channels = mode == FilterMode::kChannels && options.max_channels > 0
                               ? std::min<int64_t>(in_channels, options.max_channels)
                               : in_channels;
  at::Tensor w = weight.narrow(0, 0, kernels).to(at::kDouble).contiguous();  // [K, C_in, kH, kW]

  // Tiles in drawing order: one per kernel (rgb/mean) or one per kernel and channel.
  std::vector<at::Tensor> tiles;  // each [kH, kW] or [kH, kW, 3]
  std::vector<Range> ranges;
  at::Tensor shown;  // what the layer range covers
  if (mode == FilterMode::kRgb) {
    shown = w;
  } else if (mode == FilterMode::kMean) {
    shown = w.mean(1);  // [K, kH, kW]
  } else {
    shown = w.narrow(1, 0, channels).contiguous();  // [K, C, kH, kW]
  }
  const Range layer = finite_range(shown, "'" + options.title + "'");
  for (int64_t k = 0; k < kernels; ++k) {
    const at::Tensor kernel = shown[k];
    Range range = layer;
    if (options.scale == FilterScale::kKernel) {
      const at::Tensor finite = kernel.masked_select(at::isfinite(kernel));
      range = finite.numel() ? Range{finite.min().item<double>(), finite.max().item<double>()}
                             : Range{};
    }
    if (mode == FilterMode::kRgb) {
      tiles.push_back(kernel.permute({1, 2, 0}).contiguous());  // [kH, kW, 3]
      ranges.push_back(range);
    } else if (mode == FilterMode::kMean) {
      tiles.push_back(kernel.contiguous());  // [kH, kW]
      ranges.push_back(range);
    } else {
      for (int64_t c = 0; c < channels; ++c) {
        tiles.push_back(kernel[c].contiguous());  // [kH, kW]
        ranges.push_back(range);
      }
    }
  }

  // Header text first: its width bounds the figure's.
  const char* mode_text = mode == FilterMode::kRgb    ? "RGB patches"
                          : mode == FilterMode::kMean ? "mean over input channels"
                                                      : "input channels as gray tiles";
  const std::string subtitle =
      shape_text(weight.sizes()) + " \u00b7 " + mode_text + " \u00b7 " +
      (options.scale == FilterScale::kKernel
           ? std::string("each kernel on its own range")
           : fmt::format("one range {:.4g} .. {:.4g}", layer.lo, layer.hi));
  std::string shown_note;
  if (kernels < out_channels || channels < in_channels)
    shown_note =
        fmt::format("showing {} of {} kernels", kernels, out_channels) +
        (per_channel_mode(mode) ? fmt::format(", {} of {} channels", channels, in_channels) : "");
  double text_w = 0;
  {
    Canvas measure(1, 1, FigureFormat::kPng);
    text_w = std::max({measure.text_width(options.title, kTitleSize, true),
                       measure.text_width(subtitle, kSubtitleSize),
                       measure.text_width(shown_note, kSubtitleSize)});
  }

  // Layout.
  const bool per_channel = per_channel_mode(mode);
  const double target = per_channel ? kTargetTileChannel : kTargetTileRgb;
  const double pixel = std::max(1.0, std::round(target / static_cast<double>(std::max(kh, kw))));
  const double tile_w = pixel * static_cast<double>(kw), tile_h = pixel * static_cast<double>(kh);
  const double label_h = kLabelSize + 4;
  const int64_t columns = per_channel ? channels : grid_columns(kernels);
  const int64_t rows = per_channel ? kernels : (kernels + columns - 1) / columns;
  const double cell_w = tile_w + kGap, cell_h = tile_h + kGap + label_h;
  const double grid_w = (per_channel ? kRowLabelWidth : 0) + static_cast<double>(columns) * cell_w;
  const double width = std::max({kMinWidth, grid_w + 2 * kMargin, text_w + 2 * kMargin});
  const double grid_left = (width - grid_w) / 2 + (per_channel ? kRowLabelWidth : 0);
  const double header = kHeader + (shown_note.empty() ? 0 : kSubtitleSize + 5);
  const double height = header + (per_channel ? label_h : 0) +
                        static_cast<double>(rows) * (per_channel ? tile_h + kGap : cell_h) +
                        kMargin;
  Canvas canvas(static_cast<int>(std::ceil(width)), static_cast<int>(std::ceil(height)), format);
  canvas.clear(1, 1, 1);
  cairo_t* cr = canvas.cr();
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  canvas.text(options.title, width / 2, 26, kTitleSize, 0.5, true);
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  canvas.text(subtitle, width / 2, 46, kSubtitleSize, 0.5);
  if (!shown_note.empty())
    canvas.text(shown_note, width / 2, 46 + kSubtitleSize + 5, kSubtitleSize, 0.5);

  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  double top = header;
  if (per_channel) {
    for (int64_t c = 0; c < channels; ++c)
      canvas.text("c" + std::to_string(c), grid_left + static_cast<double>(c) * cell_w + tile_w / 2,
                  top + kLabelSize, kLabelSize, 0.5);
    top += label_h;
  }
  for (size_t i = 0; i < tiles.size(); ++i) {
    const int64_t index = static_cast<int64_t>(i);
    const int64_t row = index / columns, col = index % columns;
    const double x = grid_left + static_cast<double>(col) * cell_w;
    const double y = top + static_cast<double>(row) * (per_channel ? tile_h + kGap : cell_h);
    paint_tile(canvas, tiles[i], ranges[i], x, y, pixel);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    if (per_channel && col == 0)
      canvas.text("k" + std::to_string(row), grid_left - 6, y + tile_h / 2 + kLabelSize * 0.35,
                  kLabelSize, 1.0);
    else if (!per_channel)
      canvas.text(std::to_string(index), x + tile_w / 2, y + tile_h + kLabelSize + 2, kLabelSize,
                  0.5);
  }
  return canvas.finish();
}

}  // namespace cnnscope
