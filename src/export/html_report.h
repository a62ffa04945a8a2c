// The `report` page: one self-contained HTML file (figures as data URIs, inline CSS and JS, no
// network) with the architecture, a sortable/filterable weight table with each tensor's histogram,
// the first-layer filters and, per image, the input as the network saw it, predictions and feature
// maps. Leaves out computing any of it: callers fill ReportContent. Follows HTML5 (WHATWG).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cnnscope {

// An embedded figure: its bytes become a data URI (`mime` e.g. "image/png", "image/svg+xml").
struct ReportFigure {
  std::string title;
  std::string mime = "image/png";
  std::string bytes;
};

struct ReportLayer {  // one row of the summary table
  std::string name, type, output_shape;
  int64_t params = 0;
  int depth = 1;  // 1 for the model's children, 2 for theirs, ...: indents the name
};

struct ReportWeight {  // one row of the weight table
  std::string name, dtype, shape;
  int64_t numel = 0;
  double mean = 0, std = 0, min = 0, max = 0;
  std::vector<double> edges;    // [bins + 1], numpy.histogram edges; empty: no histogram
  std::vector<int64_t> counts;  // [bins]
};

struct ReportPrediction {
  int64_t index = 0;
  std::string label;
  double probability = 0;
};

struct ReportImage {          // one `--image`
  std::string source;         // the path given
  std::string error;          // non-empty: the image could not be used; shown instead of figures
  std::string preprocessing;  // e.g. "imagenet: Resize(256), CenterCrop(224), Normalize(...)"
  ReportFigure input;         // the picture after resize and crop (what the network saw)
  std::vector<ReportPrediction> predictions;
  std::vector<ReportFigure> feature_maps;  // one per layer, titled with the layer name
};

struct ReportContent {
  std::string checkpoint;          // the file
  std::string format;              // "zip" | "legacy" | "safetensors"
  std::string arch;                // detected architecture; empty: not in the zoo
  std::string no_features_reason;  // shown when arch is empty or images cannot be run
  int64_t params = 0;
  int64_t num_classes = 0;
  std::string input_shape;
  std::vector<ReportLayer> layers;
  std::vector<ReportWeight> weights;
  std::vector<ReportFigure> filters;  // first-layer filters
  std::vector<ReportImage> images;
  std::vector<std::string> notes;  // anything else worth a line (skipped tensors, ...)
  // The "Data set" section's inner HTML (`report --scan`, made and escaped by app/scan's
  // scan_report_html); "" = no such section.
  std::string dataset_html;
  // The "Layers" section's inner HTML (`report --spectra`/`--similarity`, made and escaped by
  // app/layers_html); "" = no such section.
  std::string layers_html;
  std::string generator;  // e.g. "cnnscope 0.1.0"
};

// The whole page as UTF-8 HTML. Every section is present (with a line saying why when empty).
std::string render_html_report(const ReportContent& content);

// Renders and writes `path` atomically.
void write_html_report(const std::string& path, const ReportContent& content);

// The report's look for other pages (e.g. `evolve`): a complete self-contained document with the
// same style sheet and Content-Security-Policy (no network, inline images only); `header_html`
// and `main_html` are inserted as they are (escape any user text first). No script.
std::string html_document(const std::string& title, const std::string& header_html,
                          const std::string& main_html, const std::string& footer_text);

// One embedded figure as <figure><img src="data:..."><figcaption> (empty bytes: "").
std::string html_figure(const ReportFigure& figure);

// Helpers, public for the tests: `&<>"'` escaped; RFC 4648 base64 with padding.
std::string html_escape(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace cnnscope
