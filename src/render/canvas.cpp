// Canvas over cairo image/SVG/PDF surfaces; bytes are collected in memory (the caller writes them
// atomically). PNG goes through encode_png (libpng) rather than cairo's writer, for speed.
// Leaves out: PostScript and interactive surfaces. Spec: cairo 1.16 surface and toy-text API,
// libpng 1.6 write API.
#include "render/canvas.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <png.h>

#include <algorithm>
#include <vector>

#include "common/error.h"
#include "render/fonts.h"

namespace cnnscope {
namespace {

constexpr const char* kFontFamily = "DejaVu Sans";

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// Figures are flat colours: zlib's fastest level with the "sub" filter.
constexpr int kPngCompression = 1;

void append_png_bytes(png_structp png, png_bytep data, png_size_t length) {
  static_cast<std::string*>(png_get_io_ptr(png))
      ->append(reinterpret_cast<const char*>(data), length);
}

void png_error_jump(png_structp png, png_const_charp) {
  png_longjmp(png, 1);
}

// Writes `rows` as a PNG into `out`; false on a libpng error. No C++ objects with destructors
// live across the setjmp.
bool write_png_rows(int width, int height, png_bytepp rows, std::string* out) {
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, png_error_jump, nullptr);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, info ? &info : nullptr);
    return false;
  }
  png_set_write_fn(png, out, append_png_bytes, nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, kPngCompression);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

std::string encode_png(const uint8_t* rgb, int width, int height) {
  std::vector<png_bytep> rows(static_cast<size_t>(height));
  for (int y = 0; y < height; ++y)
    rows[static_cast<size_t>(y)] =
        const_cast<png_bytep>(rgb) + static_cast<size_t>(y) * 3 * static_cast<size_t>(width);
  std::string bytes;
  if (!write_png_rows(width, height, rows.data(), &bytes)) fail("", "PNG encoding failed");
  return bytes;
}

FigureFormat parse_figure_format(const std::string& name) {
  if (name == "png") return FigureFormat::kPng;
  if (name == "svg") return FigureFormat::kSvg;
  if (name == "pdf") return FigureFormat::kPdf;
  fail("", "unknown figure format '" + name + "'", "use png, svg or pdf");
}

const char* figure_extension(FigureFormat format) {
  switch (format) {
    case FigureFormat::kPng:
      return "png";
    case FigureFormat::kSvg:
      return "svg";
    case FigureFormat::kPdf:
      return "pdf";
  }
  return "png";
}

Canvas::Canvas(int width, int height, FigureFormat format)
    : width_(width), height_(height), format_(format) {
  switch (format) {
    case FigureFormat::kPng:
      surface_ = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
      break;
    case FigureFormat::kSvg:
      surface_ = cairo_svg_surface_create_for_stream(append_bytes, &vector_bytes_, width, height);
      break;
    case FigureFormat::kPdf:
      surface_ = cairo_pdf_surface_create_for_stream(append_bytes, &vector_bytes_, width, height);
      break;
  }
  if (cairo_surface_status(surface_) != CAIRO_STATUS_SUCCESS)
    fail("", "cannot create a " + std::to_string(width) + "x" + std::to_string(height) + " " +
                 figure_extension(format) +
                 " canvas: " + cairo_status_to_string(cairo_surface_status(surface_)));
  cr_ = cairo_create(surface_);
}

Canvas::~Canvas() {
  if (cr_) cairo_destroy(cr_);
  if (surface_) cairo_surface_destroy(surface_);
}

void Canvas::clear(double r, double g, double b) {
  cairo_save(cr_);
  cairo_set_source_rgb(cr_, r, g, b);
  cairo_paint(cr_);
  cairo_restore(cr_);
}

void Canvas::text(const std::string& s, double x, double y, double size, double align, bool bold) {
  const double advance = text_width(s, size, bold);  // also selects the font and its size
  cairo_move_to(cr_, x - align * advance, y);
  cairo_show_text(cr_, s.c_str());
}

double Canvas::text_width(const std::string& s, double size, bool bold) {
  use_bundled_fonts();
  cairo_select_font_face(cr_, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr_, s.c_str(), &ext);
  return ext.x_advance;
}

void Canvas::draw_pixels(const uint32_t* pixels, int width, int height, double x, double y,
                         double w, double h) {
  cairo_surface_t* image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cairo_surface_flush(image);
  unsigned char* data = cairo_image_surface_get_data(image);
  const int stride = cairo_image_surface_get_stride(image);
  for (int row = 0; row < height; ++row)
    std::copy_n(pixels + static_cast<size_t>(row) * static_cast<size_t>(width), width,
                reinterpret_cast<uint32_t*>(data + static_cast<ptrdiff_t>(row) * stride));
  cairo_surface_mark_dirty(image);
  cairo_save(cr_);
  cairo_rectangle(cr_, x, y, w, h);
  cairo_clip(cr_);
  cairo_translate(cr_, x, y);
  cairo_scale(cr_, w / width, h / height);
  cairo_set_source_surface(cr_, image, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr_), CAIRO_FILTER_NEAREST);
  cairo_paint(cr_);
  cairo_restore(cr_);
  cairo_surface_destroy(image);
}

std::string Canvas::finish() {
  if (finished_) fail("", "internal: canvas finished twice");
  finished_ = true;
  cairo_destroy(cr_);
  cr_ = nullptr;
  std::string bytes;
  if (format_ == FigureFormat::kPng) {
    cairo_surface_flush(surface_);
    const int stride = cairo_image_surface_get_stride(surface_);
    const unsigned char* data = cairo_image_surface_get_data(surface_);
    std::vector<uint8_t> rgb(static_cast<size_t>(width_) * 3 * static_cast<size_t>(height_));
    for (int y = 0; y < height_; ++y) {
      const auto* pixels =
          reinterpret_cast<const uint32_t*>(data + static_cast<ptrdiff_t>(y) * stride);
      uint8_t* row = rgb.data() + static_cast<size_t>(y) * 3 * static_cast<size_t>(width_);
      for (int x = 0; x < width_; ++x) {  // CAIRO_FORMAT_RGB24: 0x00RRGGBB in native order
        row[3 * x] = static_cast<uint8_t>(pixels[x] >> 16);
        row[3 * x + 1] = static_cast<uint8_t>(pixels[x] >> 8);
        row[3 * x + 2] = static_cast<uint8_t>(pixels[x]);
      }
    }
    bytes = encode_png(rgb.data(), width_, height_);
  } else {
    cairo_surface_finish(surface_);
    bytes.swap(vector_bytes_);
  }
  cairo_surface_destroy(surface_);
  surface_ = nullptr;
  return bytes;
}

}  // namespace cnnscope
