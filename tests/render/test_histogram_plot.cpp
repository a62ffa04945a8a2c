// Histogram figures: PNG/SVG/PDF bytes of the promised size, bars in the bar colour, the mean and
// ±std lines drawn only when defined, an overview sheet sized by its grid.
#include <gtest/gtest.h>

#include <cairo.h>

#include <cstring>

#include "common/error.h"
#include "render/histogram_plot.h"

namespace cnnscope {
namespace {

struct Reader {
  const std::string* bytes;
  size_t offset = 0;
};

cairo_status_t read_bytes(void* closure, unsigned char* data, unsigned int length) {
  auto* r = static_cast<Reader*>(closure);
  if (r->offset + length > r->bytes->size()) return CAIRO_STATUS_READ_ERROR;
  std::memcpy(data, r->bytes->data() + r->offset, length);
  r->offset += length;
  return CAIRO_STATUS_SUCCESS;
}

// Decoded PNG: width, height and how many pixels have exactly the colour (r, g, b).
struct Png {
  int width = 0, height = 0;
  std::vector<uint32_t> pixels;  // 0x00RRGGBB
  int64_t count(int r, int g, int b) const {
    const uint32_t want = (uint32_t(r) << 16) | (uint32_t(g) << 8) | uint32_t(b);
    int64_t n = 0;
    for (uint32_t p : pixels) n += (p & 0xffffff) == want;
    return n;
  }
};

Png decode(const std::string& bytes) {
  Reader reader{&bytes};
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(read_bytes, &reader);
  EXPECT_EQ(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  Png png;
  png.width = cairo_image_surface_get_width(s);
  png.height = cairo_image_surface_get_height(s);
  const int stride = cairo_image_surface_get_stride(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  for (int y = 0; y < png.height; ++y)
    for (int x = 0; x < png.width; ++x)
      png.pixels.push_back(reinterpret_cast<const uint32_t*>(data + y * stride)[x]);
  cairo_surface_destroy(s);
  return png;
}

HistogramPanel panel_of(const at::Tensor& t, const std::string& title) {
  return HistogramPanel{title, compute_stats(t), histogram(t, kDefaultHistogramBins)};
}

// Colours of histogram_plot.cpp as 8-bit: bars, mean line, std lines.
constexpr int kBar[] = {31, 119, 180};
constexpr int kMean[] = {214, 39, 40};
constexpr int kStd[] = {255, 127, 14};

TEST(HistogramPlot, PngFigureShowsBarsMeanAndStd) {
  // Several seeds: the lines must be crisp wherever mean and std fall between pixels.
  constexpr int kSeeds = 12;
  for (int seed = 0; seed < kSeeds; ++seed) {
    at::manual_seed(seed);
    const at::Tensor t = at::randn({5000}, at::TensorOptions().dtype(at::kFloat));  // [5000]
    const Png png =
        decode(histogram_figure(panel_of(t, "layer1.0.conv1.weight"), FigureFormat::kPng));
    EXPECT_EQ(png.width, kHistogramFigureWidth);
    EXPECT_EQ(png.height, kHistogramFigureHeight);
    EXPECT_GT(png.count(kBar[0], kBar[1], kBar[2]), 5000) << "seed " << seed;
    EXPECT_GT(png.count(kMean[0], kMean[1], kMean[2]), 200) << "seed " << seed;  // 2-px line
    EXPECT_GT(png.count(kStd[0], kStd[1], kStd[2]), 200) << "seed " << seed;
  }
}

TEST(HistogramPlot, OneValueDrawsNoStdLines) {
  const Png png = decode(histogram_figure(panel_of(at::full({1}, 0.5), "one"), FigureFormat::kPng));
  EXPECT_GT(png.count(kMean[0], kMean[1], kMean[2]), 200);
  EXPECT_EQ(png.count(kStd[0], kStd[1], kStd[2]), 0);
}

TEST(HistogramPlot, VectorFormatsHaveTheirSignatures) {
  const HistogramPanel p = panel_of(at::randn({100}), "bias");
  EXPECT_EQ(histogram_figure(p, FigureFormat::kPdf).rfind("%PDF", 0), 0u);
  const std::string svg = histogram_figure(p, FigureFormat::kSvg);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("width=\"800\""), std::string::npos);
}

TEST(HistogramPlot, NonFiniteOnlyTensorStillDraws) {
  const HistogramPanel p = panel_of(at::full({3}, NAN), "all_nan");
  EXPECT_FALSE(p.stats.has_values);
  const Png png = decode(histogram_figure(p, FigureFormat::kPng));
  EXPECT_EQ(png.count(kBar[0], kBar[1], kBar[2]), 0);
}

TEST(HistogramPlot, OverviewIsSizedByItsGrid) {
  std::vector<HistogramPanel> panels;
  for (int i = 0; i < 7; ++i)
    panels.push_back(panel_of(at::randn({200}) * (i + 1), "t" + std::to_string(i)));
  OverviewOptions options;
  options.title = "seven";
  options.columns = 3;
  const Png png = decode(histogram_overview(panels, options, FigureFormat::kPng));
  EXPECT_EQ(png.width, 3 * 250);
  EXPECT_EQ(png.height, 40 + 3 * 150);
  EXPECT_GT(png.count(kBar[0], kBar[1], kBar[2]), 7 * 500);
  EXPECT_THROW(histogram_overview({}, options, FigureFormat::kPng), Error);
}

}  // namespace
}  // namespace cnnscope
