// Canvas over cairo image/SVG/PDF surfaces; bytes are collected in memory and written atomically.
// Leaves out: PostScript and interactive surfaces. Spec: cairo 1.16 surface and toy-text API.
#include "render/canvas.h"

#include "common/atomic_file.h"
#include "common/error.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>

namespace cnnscope {
namespace {

constexpr const char* kFontFamily = "DejaVu Sans";

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

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
  cairo_select_font_face(cr_, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr_, s.c_str(), &ext);
  cairo_move_to(cr_, x - align * ext.x_advance, y);
  cairo_show_text(cr_, s.c_str());
}

double Canvas::text_width(const std::string& s, double size, bool bold) {
  cairo_select_font_face(cr_, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr_, s.c_str(), &ext);
  return ext.x_advance;
}

std::string Canvas::finish() {
  if (finished_) fail("", "internal: canvas finished twice");
  finished_ = true;
  cairo_destroy(cr_);
  cr_ = nullptr;
  std::string bytes;
  if (format_ == FigureFormat::kPng) {
    cairo_surface_flush(surface_);
    cairo_status_t st = cairo_surface_write_to_png_stream(surface_, append_bytes, &bytes);
    if (st != CAIRO_STATUS_SUCCESS)
      fail("", std::string("PNG encoding failed: ") + cairo_status_to_string(st));
  } else {
    cairo_surface_finish(surface_);
    bytes.swap(vector_bytes_);
  }
  cairo_surface_destroy(surface_);
  surface_ = nullptr;
  return bytes;
}

void Canvas::save(const std::string& path) {
  write_file_atomic(path, finish());
}

}  // namespace cnnscope
