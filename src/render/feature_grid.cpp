// Feature-map grid drawn on a Canvas: colormapped tiles magnified by an integer zoom with nearest
// filtering (sharp in PNG, SVG and PDF), channel labels, a title and, for one layer range, a
// colorbar. Leaves out: per-tile interpolation and downscaling below one figure pixel per cell.
#include "render/feature_grid.h"

#include "common/error.h"
#include "common/text.h"
#include "render/colormap.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cnnscope {
namespace {

constexpr double kMargin = 24;        // around the figure
constexpr double kTitleSize = 20;     // layer name and shape
constexpr double kSubtitleSize = 13;  // image, channels, scale
constexpr double kHeaderHeight = kMargin + kTitleSize + 8 + kSubtitleSize + 18;
constexpr double kLabelSize = 12;  // "ch 7" above each tile
constexpr double kLabelBand = 18;  // room above a tile for its label
constexpr double kColumnGap = 14;  // between tiles side by side
constexpr double kRowGap = 10;     // below a tile, before the next row's label
constexpr double kBarGap = 22;     // between the grid and the colorbar
constexpr double kBarWidth = 18;   // colorbar strip
constexpr double kBarLabels = 72;  // room for the colorbar's tick labels
constexpr int kBarTicks = 5;       // tick labels on the colorbar
constexpr int kMaxZoom = 16;       // at most 16 figure pixels per activation cell
constexpr int kMinWidth = 560;     // narrow grids are centred in at least this width
constexpr int kMaxSide = 16384;    // figures larger than this are refused (cairo's limit is 32767)
constexpr double kStripHeight = 48;  // a [C, 1, 1] activation's one row of cells
constexpr double kStripLabels = 22;  // index and range labels below it
constexpr double kTextGray = 0.15;   // main text
constexpr double kNoteGray = 0.45;   // secondary text
constexpr double kFrameGray = 0.75;  // tile frames

struct Range {
  double lo = 0, hi = 0;
};

std::vector<int64_t> shown_channels(const FeatureGridOptions& options, int64_t channel_count) {
  if (!options.channels.empty()) return options.channels;
  std::vector<int64_t> first(
      static_cast<size_t>(std::min<int64_t>(kDefaultFeatureChannels, channel_count)));
  for (size_t i = 0; i < first.size(); ++i) first[i] = static_cast<int64_t>(i);
  return first;
}

std::string title_text(const std::vector<int64_t>& shape, const FeatureGridOptions& options) {
  return (options.layer.empty() ? std::string("activation") : options.layer) + "   " +
         shape_text(shape);
}

std::string subtitle_text(int64_t shown, int64_t channel_count, const FeatureGridOptions& options) {
  std::string s = options.image.empty() ? "" : options.image + "  \u00b7  ";
  s += fmt::format("{}{} of {} channels{}  \u00b7  ", options.by_mean ? "top " : "", shown,
                   channel_count, options.by_mean ? " by mean" : "");
  s += options.scale == FeatureScale::kChannel ? "each channel scaled to its own min..max"
                                               : "one range for the whole layer";
  return s + "  \u00b7  " + options.colormap;
}

std::string number(double v) {
  return fmt::format("{:.3g}", v);
}

uint32_t pack(Rgb8 c) {
  return (static_cast<uint32_t>(c.r) << 16) | (static_cast<uint32_t>(c.g) << 8) | c.b;
}

// matplotlib's Normalize: (v - lo) / (hi - lo), and 0 where the range is empty.
double normalise(double v, const Range& range) {
  return range.hi > range.lo ? (v - range.lo) / (range.hi - range.lo) : 0.0;
}

void draw_colorbar(Canvas& canvas, const Colormap& cmap, const Range& range, const Box& bar) {
  std::vector<uint32_t> strip(Colormap::kSize);
  for (int i = 0; i < Colormap::kSize; ++i)
    strip[static_cast<size_t>(i)] = pack(cmap.entry(Colormap::kSize - 1 - i));  // top = max
  canvas.draw_pixels(strip.data(), 1, Colormap::kSize, bar.x, bar.y, bar.w, bar.h);
  cairo_t* cr = canvas.cr();
  cairo_set_line_width(cr, 1);
  cairo_set_source_rgb(cr, kFrameGray, kFrameGray, kFrameGray);
  cairo_rectangle(cr, bar.x - 0.5, bar.y - 0.5, bar.w + 1, bar.h + 1);
  cairo_stroke(cr);
  cairo_set_source_rgb(cr, kTextGray, kTextGray, kTextGray);
  for (int t = 0; t < kBarTicks; ++t) {
    const double f = static_cast<double>(t) / (kBarTicks - 1);
    const double y = bar.y + bar.h * (1 - f);
    cairo_move_to(cr, bar.x + bar.w, y);
    cairo_line_to(cr, bar.x + bar.w + 4, y);
    cairo_stroke(cr);
    canvas.text(number(range.lo + f * (range.hi - range.lo)), bar.x + bar.w + 7,
                y + kLabelSize * 0.35, kLabelSize);
  }
}

// A [C, 1, 1] activation (a Linear's or a pooled embedding's values): one row of C colormapped
// cells, stretched to a readable height, with the range and the first and last index below.
std::string render_strip(const at::Tensor& values /* [C] float */,
                         const FeatureGridOptions& options, FigureFormat format) {
  const int64_t count = values.size(0);
  const std::vector<int64_t> shape{count};
  const std::string subtitle =
      (options.image.empty() ? "" : options.image + "  \u00b7  ") +
      fmt::format("{} values, one range  \u00b7  {}", count, options.colormap);
  Canvas scratch(1, 1, FigureFormat::kPng);
  const double title_w = std::max(scratch.text_width(title_text(shape, options), kTitleSize, true),
                                  scratch.text_width(subtitle, kSubtitleSize));
  const double room = std::max(options.max_width - 2 * kMargin, 1.0);
  const double zoom =
      std::clamp(std::floor(room / static_cast<double>(count)), 1.0, static_cast<double>(kMaxZoom));
  const double strip_w = std::min(static_cast<double>(count) * zoom, room);
  const double width = std::max({strip_w + 2 * kMargin, title_w + 2 * kMargin, double{kMinWidth}});
  const double height = kHeaderHeight + kStripHeight + kStripLabels + kMargin;
  Canvas canvas(static_cast<int>(std::ceil(width)), static_cast<int>(std::ceil(height)), format);
  canvas.clear(1, 1, 1);
  cairo_t* cr = canvas.cr();
  cairo_set_source_rgb(cr, kTextGray, kTextGray, kTextGray);
  canvas.text(title_text(shape, options), kMargin, kMargin + kTitleSize, kTitleSize, 0, true);
  cairo_set_source_rgb(cr, kNoteGray, kNoteGray, kNoteGray);
  canvas.text(subtitle, kMargin, kMargin + kTitleSize + 8 + kSubtitleSize, kSubtitleSize);

  const Colormap& cmap = colormap(options.colormap);
  const at::Tensor v = values.detach().to(at::kCPU, at::kFloat).contiguous();  // [C]
  const Range range{v.min().item<double>(), v.max().item<double>()};
  const float* data = v.data_ptr<float>();
  std::vector<uint32_t> rgb(static_cast<size_t>(count));
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = pack(cmap.map(normalise(data[i], range)));
  const Box strip{std::floor((width - strip_w) / 2), kHeaderHeight, strip_w, kStripHeight};
  canvas.draw_pixels(rgb.data(), static_cast<int>(count), 1, strip.x, strip.y, strip.w, strip.h);
  cairo_set_line_width(cr, 1);
  cairo_set_source_rgb(cr, kFrameGray, kFrameGray, kFrameGray);
  cairo_rectangle(cr, strip.x - 0.5, strip.y - 0.5, strip.w + 1, strip.h + 1);
  cairo_stroke(cr);
  cairo_set_source_rgb(cr, kTextGray, kTextGray, kTextGray);
  const double baseline = strip.y + strip.h + kLabelSize + 4;
  canvas.text("0", strip.x, baseline, kLabelSize);
  canvas.text(std::to_string(count - 1), strip.x + strip.w, baseline, kLabelSize, 1.0);
  canvas.text(number(range.lo) + " \u2026 " + number(range.hi), strip.x + strip.w / 2, baseline,
              kLabelSize, 0.5);
  return canvas.finish();
}

}  // namespace

FeatureScale parse_feature_scale(const std::string& name) {
  if (name == "channel") return FeatureScale::kChannel;
  if (name == "layer") return FeatureScale::kLayer;
  fail("", "unknown scale '" + name + "'", "use channel or layer");
}

GridShape near_square_grid(int n) {
  if (n <= 0) return {};
  int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  while (cols * cols < n) ++cols;  // guard against sqrt rounding
  while ((cols - 1) * (cols - 1) >= n) --cols;
  return GridShape{(n + cols - 1) / cols, cols};
}

FeatureGridLayout feature_grid_layout(const std::vector<int64_t>& shape,
                                      const FeatureGridOptions& options) {
  if (shape.size() != 3 || shape[0] < 1 || shape[1] < 1 || shape[2] < 1)
    fail("", "a feature grid needs a [C, H, W] activation, got " + shape_text(shape));
  const int64_t count = static_cast<int64_t>(shown_channels(options, shape[0]).size());
  FeatureGridLayout layout;
  layout.grid = near_square_grid(static_cast<int>(count));
  const double rows = layout.grid.rows, cols = layout.grid.cols;
  const bool bar = options.scale == FeatureScale::kLayer;
  const double fixed_w =
      2 * kMargin + (cols - 1) * kColumnGap + (bar ? kBarGap + kBarWidth + kBarLabels : 0);
  const double fixed_h = kHeaderHeight + rows * kLabelBand + (rows - 1) * kRowGap + kMargin;
  const double fit_w = (options.max_width - fixed_w) / (cols * static_cast<double>(shape[2]));
  const double fit_h = (options.max_height - fixed_h) / (rows * static_cast<double>(shape[1]));
  layout.zoom = std::clamp(static_cast<int>(std::min(fit_w, fit_h)), 1, kMaxZoom);
  const double tile_w = static_cast<double>(shape[2]) * layout.zoom;
  const double tile_h = static_cast<double>(shape[1]) * layout.zoom;

  Canvas scratch(1, 1, FigureFormat::kPng);
  const double title_w =
      std::max(scratch.text_width(title_text(shape, options), kTitleSize, true),
               scratch.text_width(subtitle_text(count, shape[0], options), kSubtitleSize));
  const double content_w = fixed_w + cols * tile_w;
  const double width = std::max({content_w, title_w + 2 * kMargin, double{kMinWidth}});
  const double height = fixed_h + rows * tile_h;
  if (width > kMaxSide || height > kMaxSide)
    fail("",
         fmt::format("a grid of {} tiles of {}x{} would be {:.0f}x{:.0f} pixels, larger than {}",
                     count, shape[1], shape[2], width, height, kMaxSide),
         "show fewer channels", {{"channels", "N"}});
  layout.width = static_cast<int>(std::ceil(width));
  layout.height = static_cast<int>(std::ceil(height));

  const double left = std::floor((width - content_w) / 2) + kMargin;
  for (int64_t i = 0; i < count; ++i) {
    const double r = static_cast<double>(i / layout.grid.cols);
    const double c = static_cast<double>(i % layout.grid.cols);
    layout.tiles.push_back(Box{left + c * (tile_w + kColumnGap),
                               kHeaderHeight + kLabelBand + r * (tile_h + kLabelBand + kRowGap),
                               tile_w, tile_h});
  }
  if (bar) {
    const double grid_right = left + cols * tile_w + (cols - 1) * kColumnGap;
    const double grid_h = rows * tile_h + (rows - 1) * (kLabelBand + kRowGap);
    layout.colorbar = Box{grid_right + kBarGap, kHeaderHeight + kLabelBand, kBarWidth, grid_h};
  }
  return layout;
}

std::string render_feature_grid(const at::Tensor& activation, const FeatureGridOptions& options,
                                FigureFormat format) {
  if (activation.dim() != 3 || !activation.is_floating_point())
    fail("", "a feature grid needs a floating [C, H, W] activation, got " +
                 shape_text(activation.sizes().vec()) + " " +
                 std::string(c10::toString(activation.scalar_type())));
  const std::vector<int64_t> shape = activation.sizes().vec();
  if (shape[1] == 1 && shape[2] == 1 && shape[0] > 1)
    return render_strip(activation.flatten(), options, format);
  const std::vector<int64_t> channels = shown_channels(options, shape[0]);
  for (int64_t c : channels)
    if (c < 0 || c >= shape[0])
      fail("", fmt::format("channel {} is out of range for {}", c, shape_text(shape)),
           fmt::format("channels are 0..{}", shape[0] - 1));
  const Colormap& cmap = colormap(options.colormap);
  const FeatureGridLayout layout = feature_grid_layout(shape, options);
  const int h = static_cast<int>(shape[1]), w = static_cast<int>(shape[2]);

  const at::Tensor values = activation.detach().to(at::kCPU, at::kFloat).contiguous();  // [C,H,W]
  const auto cells = values.accessor<float, 3>();
  Range layer_range{values.min().item<double>(), values.max().item<double>()};

  Canvas canvas(layout.width, layout.height, format);
  canvas.clear(1, 1, 1);
  cairo_t* cr = canvas.cr();
  cairo_set_source_rgb(cr, kTextGray, kTextGray, kTextGray);
  canvas.text(title_text(shape, options), kMargin, kMargin + kTitleSize, kTitleSize, 0, true);
  cairo_set_source_rgb(cr, kNoteGray, kNoteGray, kNoteGray);
  canvas.text(subtitle_text(static_cast<int64_t>(channels.size()), shape[0], options), kMargin,
              kMargin + kTitleSize + 8 + kSubtitleSize, kSubtitleSize);

  std::vector<uint32_t> rgb(static_cast<size_t>(h) * static_cast<size_t>(w));
  for (size_t i = 0; i < channels.size(); ++i) {
    const int64_t c = channels[i];
    const Box& tile = layout.tiles[i];
    Range range = layer_range;
    if (options.scale == FeatureScale::kChannel) {
      range = Range{cells[c][0][0], cells[c][0][0]};
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          range.lo = std::min<double>(range.lo, cells[c][y][x]);
          range.hi = std::max<double>(range.hi, cells[c][y][x]);
        }
    }
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        rgb[static_cast<size_t>(y * w + x)] = pack(cmap.map(normalise(cells[c][y][x], range)));
    canvas.draw_pixels(rgb.data(), w, h, tile.x, tile.y, tile.w, tile.h);

    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, kFrameGray, kFrameGray, kFrameGray);
    cairo_rectangle(cr, tile.x - 0.5, tile.y - 0.5, tile.w + 1, tile.h + 1);
    cairo_stroke(cr);
    const double baseline = tile.y - 5;
    cairo_set_source_rgb(cr, kTextGray, kTextGray, kTextGray);
    const std::string label = fmt::format("ch {}", c);
    canvas.text(label, tile.x, baseline, kLabelSize, 0, true);
    const std::string span = number(range.lo) + " \u2026 " + number(range.hi);
    const bool span_fits = canvas.text_width(label, kLabelSize, true) + kColumnGap +
                               canvas.text_width(span, kLabelSize - 1) <=
                           tile.w;
    if (options.scale == FeatureScale::kChannel && span_fits) {
      cairo_set_source_rgb(cr, kNoteGray, kNoteGray, kNoteGray);
      canvas.text(span, tile.x + tile.w, baseline, kLabelSize - 1, 1.0);
    }
  }
  if (options.scale == FeatureScale::kLayer)
    draw_colorbar(canvas, cmap, layer_range, layout.colorbar);
  return canvas.finish();
}

}  // namespace cnnscope
