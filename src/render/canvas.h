// Canvas: one cairo drawing surface that ends up as PNG, SVG or PDF, so every figure is drawn
// by the same code for all three formats. Units are pixels (PNG) or points (SVG/PDF), 1:1.
// It owns the two things every figure needs beyond cairo's drawing calls: blitting a pixel buffer
// (feature maps, kernels, photos) and the one fast PNG encoder (libpng, zlib level 1).
#pragma once

#include <cairo.h>

#include <cstdint>

#include <memory>
#include <string>

namespace cnnscope {

enum class FigureFormat { kPng, kSvg, kPdf };

// "png" | "svg" | "pdf" -> FigureFormat; throws Error naming the value otherwise.
FigureFormat parse_figure_format(const std::string& name);
const char* figure_extension(FigureFormat format);  // "png", "svg", "pdf"

// 8-bit RGB rows (`height` rows of 3 * `width` bytes) as PNG bytes: libpng at zlib level 1 with
// the "sub" filter, several times faster than cairo's writer on flat-colour figures, similar size.
std::string encode_png(const uint8_t* rgb, int width, int height);

class Canvas {
 public:
  Canvas(int width, int height, FigureFormat format);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  cairo_t* cr() { return cr_; }
  int width() const { return width_; }
  int height() const { return height_; }
  FigureFormat format() const { return format_; }

  // Fills the whole canvas with an RGB colour (components 0..1).
  void clear(double r, double g, double b);
  // Text in DejaVu Sans; `align` 0 = left, 0.5 = centre, 1 = right of x; y is the baseline.
  void text(const std::string& s, double x, double y, double size, double align = 0.0,
            bool bold = false);
  double text_width(const std::string& s, double size, bool bold = false);

  // Paints `pixels` (`width` x `height`, row-major, packed 0x00RRGGBB) into the rectangle
  // (x, y, w, h), each pixel magnified with nearest-neighbour filtering (no smoothing).
  void draw_pixels(const uint32_t* pixels, int width, int height, double x, double y, double w,
                   double h);

  // Finishes the figure and returns its bytes (PNG through encode_png, SVG or PDF). Call once.
  std::string finish();

 private:
  int width_, height_;
  FigureFormat format_;
  std::string vector_bytes_;  // SVG/PDF stream target
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
  bool finished_ = false;
};

}  // namespace cnnscope
