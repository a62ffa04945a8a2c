// Builds the `report` page from ReportContent: escaped text, figures as base64 data URIs (Boost's
// base64 iterators), histograms as inline SVG paths, inline CSS/JS locked in by a CSP that forbids
// every network fetch. Leaves out layout engines and templates: the page is a fixed structure.
#include "export/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <cmath>

#include "common/atomic_file.h"

namespace cnnscope {
namespace {

constexpr int kSparkWidth = 160;  // weight-table histogram, SVG user units
constexpr int kSparkHeight = 32;
constexpr int kIndentPx = 14;  // summary table: per depth level

constexpr std::string_view kStyle = R"CSS(
:root { --fg:#1d232b; --muted:#5b6673; --line:#d8dde3; --accent:#2f6db5; --bad:#b3261e;
        --bg-alt:#f5f7f9; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       color:var(--fg); background:#fff; }
header, main { max-width: 1180px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.5em; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 1.25em; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.05em; margin: 18px 0 8px; }
nav { margin: 8px 0 12px; display: flex; gap: 14px; flex-wrap: wrap; }
nav a { color: var(--accent); text-decoration: none; }
.meta { color: var(--muted); margin: 0; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 8px;
         margin: 12px 0; }
.facts div { background: var(--bg-alt); border-radius: 6px; padding: 8px 10px; }
.facts b { display: block; font-size: .8em; color: var(--muted); font-weight: 600; }
.note { color: var(--muted); font-style: italic; }
.error { color: var(--bad); font-weight: 600; }
.scroll { max-height: 70vh; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .88em; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left;
         white-space: nowrap; }
th { background: #eef1f4; position: sticky; top: 0; z-index: 1; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: var(--bg-alt); }
th[data-sort] { cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " \25B2"; }
th[aria-sort=descending]::after { content: " \25BC"; }
.controls { display: flex; gap: 12px; align-items: center; margin: 8px 0; }
.controls input { font: inherit; padding: 4px 8px; width: 320px; max-width: 60vw;
                  border: 1px solid var(--line); border-radius: 4px; }
svg.hist { display: block; width: 160px; height: 32px; }
svg.hist path { fill: var(--accent); }
figure { margin: 10px 0 18px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .9em; }
.image-head { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
.image-head img { width: 224px; image-rendering: pixelated; }
.bar { display: inline-block; height: 10px; background: var(--accent); vertical-align: middle; }
footer { max-width: 1180px; margin: 30px auto; padding: 0 20px; color: var(--muted); font-size: .85em; }
@media print {
  body { font-size: 10pt; }
  nav, .controls { display: none; }
  .scroll { max-height: none; overflow: visible; border: none; }
  th { position: static; }
  thead { display: table-header-group; }
  tr, figure, .facts div { break-inside: avoid; }
  section.image { break-before: page; }
  a { color: inherit; text-decoration: none; }
}
)CSS";

// Sorts the weight table by a clicked header (numbers by data-v) and filters rows by name: a plain
// substring, or a glob when the text holds * or ?.
constexpr std::string_view kScript = R"JS(
(function () {
  var table = document.getElementById('weights-table');
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById('weights-filter');
  var shown = document.getElementById('weights-shown');
  function cellValue(row, col, numeric) {
    var cell = row.cells[col];
    return numeric ? parseFloat(cell.getAttribute('data-v')) : cell.textContent;
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    if (!th.hasAttribute('data-sort')) return;
    th.addEventListener('click', function () {
      var numeric = th.getAttribute('data-sort') === 'num';
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var order = rows.map(function (r, i) { return [cellValue(r, col, numeric), i, r]; });
      order.sort(function (a, b) {
        var d = numeric ? a[0] - b[0] : (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
        if (d !== d) d = 0;
        return (ascending ? d : -d) || a[1] - b[1];
      });
      order.forEach(function (o) { body.appendChild(o[2]); });
    });
  });
  function matcher(text) {
    text = text.trim().toLowerCase();
    if (text.indexOf('*') < 0 && text.indexOf('?') < 0) {
      return function (name) { return name.toLowerCase().indexOf(text) >= 0; };
    }
    var re = new RegExp('^' + text.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')
                                      .replace(/\?/g, '.') + '$');
    return function (name) { return re.test(name.toLowerCase()); };
  }
  function apply() {
    var match = matcher(filter.value);
    var n = 0;
    rows.forEach(function (r) {
      var ok = match(r.cells[0].textContent);
      r.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = n + ' of ' + rows.length + ' tensors';
  }
  filter.addEventListener('input', apply);
  apply();
})();
)JS";

// Four significant digits; undefined figures (NaN: std of one value, no finite values) as a dash.
std::string num(double v) {
  return std::isnan(v) ? "&ndash;" : fmt::format("{:.4g}", v);
}

std::string data_uri(const ReportFigure& f) {
  return "data:" + f.mime + ";base64," + base64_encode(f.bytes);
}

std::string figure_html(const ReportFigure& f, const std::string& css_class = "") {
  if (f.bytes.empty()) return "";
  return fmt::format(R"(<figure{}><img src="{}" alt="{}"><figcaption>{}</figcaption></figure>)",
                     css_class.empty() ? "" : " class=\"" + css_class + "\"", data_uri(f),
                     html_escape(f.title), html_escape(f.title)) +
         "\n";
}

// The counts as one SVG path of bars over [min, max]; the tooltip gives the range and bin count.
std::string histogram_svg(const ReportWeight& w) {
  if (w.counts.empty()) return "";
  const int64_t peak = *std::max_element(w.counts.begin(), w.counts.end());
  const double bar = static_cast<double>(kSparkWidth) / static_cast<double>(w.counts.size());
  std::string path;
  for (size_t i = 0; i < w.counts.size(); ++i) {
    if (w.counts[i] <= 0 || peak <= 0) continue;
    const double h = std::max(1.0, kSparkHeight * static_cast<double>(w.counts[i]) / peak);
    path += fmt::format("M{:.2f} {}V{:.2f}h{:.2f}V{}z", bar * i, kSparkHeight, kSparkHeight - h,
                        bar, kSparkHeight);
  }
  return fmt::format(
      R"(<svg class="hist" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img">)"
      R"(<title>{} bins from {} to {}, tallest {}</title><path d="{}"/></svg>)",
      kSparkWidth, kSparkHeight, w.counts.size(), num(w.edges.front()), num(w.edges.back()), peak,
      path);
}

void overview(std::string& out, const ReportContent& c) {
  out += R"(<section id="overview"><h2>Overview</h2><div class="facts">)";
  auto fact = [&out](const std::string& k, const std::string& v) {
    out += "<div><b>" + html_escape(k) + "</b>" + html_escape(v) + "</div>";
  };
  fact("architecture", c.arch.empty() ? "not recognised" : c.arch);
  fact("format", c.format);
  fact("tensors", std::to_string(c.weights.size()));
  if (c.params > 0) fact("parameters", fmt::format("{} ({:.2f} M)", c.params, c.params / 1e6));
  if (c.num_classes > 0) fact("classes", std::to_string(c.num_classes));
  if (!c.input_shape.empty()) fact("input", c.input_shape);
  fact("images", std::to_string(c.images.size()));
  out += "</div>\n";
  if (!c.no_features_reason.empty())
    out += R"(<p class="note" id="no-features">)" + html_escape(c.no_features_reason) + "</p>\n";
  out += "</section>\n";
}

void architecture(std::string& out, const ReportContent& c) {
  out += R"(<section id="architecture"><h2>Architecture</h2>)";
  if (c.layers.empty()) {
    out += R"(<p class="note">No layer summary: )" +
           html_escape(c.arch.empty() ? "the architecture was not recognised."
                                      : "the model gave no layers.") +
           "</p></section>\n";
    return;
  }
  out += R"(<div class="scroll"><table id="layers-table"><thead><tr><th>layer</th><th>type</th>)"
         R"(<th>output shape</th><th class="num">params</th></tr></thead><tbody>)";
  for (const ReportLayer& l : c.layers)
    out += fmt::format(
        R"(<tr><td style="padding-left:{}px">{}</td><td>{}</td><td>{}</td><td class="num">{}</td></tr>)",
        kIndentPx * std::max(l.depth, 1), html_escape(l.name), html_escape(l.type),
        html_escape(l.output_shape), l.params);
  out += "</tbody></table></div></section>\n";
}

void weights(std::string& out, const ReportContent& c) {
  out += R"(<section id="weights"><h2>Weights</h2>)"
         R"(<p class="meta">mean, std (ddof=1), min, max and a histogram (numpy.histogram bins) )"
         R"(of every tensor; click a header to sort.</p>)"
         R"(<div class="controls"><input id="weights-filter" type="search" )"
         R"(placeholder="filter by name, e.g. layer1 or *.weight" aria-label="filter by name">)"
         R"(<span id="weights-shown"></span></div>)";
  out += R"(<div class="scroll"><table id="weights-table"><thead><tr>)"
         R"(<th data-sort="text">name</th><th data-sort="text">dtype</th><th>shape</th>)"
         R"(<th class="num" data-sort="num">numel</th><th class="num" data-sort="num">mean</th>)"
         R"(<th class="num" data-sort="num">std</th><th class="num" data-sort="num">min</th>)"
         R"(<th class="num" data-sort="num">max</th><th>histogram</th></tr></thead><tbody>)";
  for (const ReportWeight& w : c.weights) {
    auto cell = [](double v) {
      return fmt::format(R"(<td class="num" data-v="{}">{}</td>)", v, num(v));
    };
    out += "<tr><td>" + html_escape(w.name) + "</td><td>" + html_escape(w.dtype) + "</td><td>" +
           html_escape(w.shape) + "</td>" +
           fmt::format(R"(<td class="num" data-v="{}">{}</td>)", w.numel, w.numel) + cell(w.mean) +
           cell(w.std) + cell(w.min) + cell(w.max) + "<td>" + histogram_svg(w) + "</td></tr>";
  }
  out += "</tbody></table></div></section>\n";
}

void filters(std::string& out, const ReportContent& c) {
  out += R"(<section id="filters"><h2>First-layer filters</h2>)";
  if (c.filters.empty()) out += R"(<p class="note">No convolution filters to show.</p>)";
  for (const ReportFigure& f : c.filters) out += figure_html(f);
  out += "</section>\n";
}

void predictions(std::string& out, const ReportImage& img) {
  if (img.predictions.empty()) return;
  out += R"(<table class="predictions"><thead><tr><th>class</th><th class="num">probability</th>)"
         R"(<th></th></tr></thead><tbody>)";
  for (const ReportPrediction& p : img.predictions)
    out += fmt::format(
        R"(<tr><td>{}</td><td class="num">{:.4f}</td><td><span class="bar" style="width:{:.0f}px"></span></td></tr>)",
        html_escape(p.label.empty() ? std::to_string(p.index) : p.label), p.probability,
        std::clamp(p.probability, 0.0, 1.0) * 120);
  out += "</tbody></table>";
}

void images(std::string& out, const ReportContent& c) {
  out += R"(<section id="images"><h2>Images and feature maps</h2>)";
  if (c.images.empty()) out += R"(<p class="note">No images given.</p>)";
  int n = 0;
  for (const ReportImage& img : c.images) {
    out += fmt::format(R"(<section class="image" id="image-{}"><h3>{}</h3>)", n++,
                       html_escape(img.source));
    if (!img.error.empty()) {
      out += R"(<p class="error">)" + html_escape(img.error) + "</p></section>\n";
      continue;
    }
    out += R"(<div class="image-head">)";
    if (!img.input.bytes.empty())
      out += fmt::format(R"(<figure><img src="{}" alt="input as the network saw it">)"
                         R"(<figcaption>{}</figcaption></figure>)",
                         data_uri(img.input), html_escape(img.preprocessing));
    predictions(out, img);
    out += "</div>";
    if (img.feature_maps.empty() && !c.no_features_reason.empty())
      out += R"(<p class="note">)" + html_escape(c.no_features_reason) + "</p>";
    for (const ReportFigure& f : img.feature_maps) out += figure_html(f);
    out += "</section>\n";
  }
  out += "</section>\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  using namespace boost::archive::iterators;
  using Encoder = base64_from_binary<transform_width<const char*, 6, 8>>;
  std::string out(Encoder(bytes.data()), Encoder(bytes.data() + bytes.size()));
  out.append((3 - bytes.size() % 3) % 3, '=');
  return out;
}

namespace {

// <!DOCTYPE> to <body>: charset, the CSP (inline images, style and script only), style sheet.
std::string document_head(const std::string& title) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out += R"(<meta http-equiv="Content-Security-Policy" content="default-src 'none'; )"
         R"(img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">)"
         "\n";
  out += R"(<meta name="viewport" content="width=device-width, initial-scale=1">)"
         "\n";
  out += "<title>" + html_escape(title) + "</title>\n";
  out += "<style>" + std::string(kStyle) + "</style></head><body>\n";
  return out;
}

}  // namespace

std::string html_document(const std::string& title, const std::string& header_html,
                          const std::string& main_html, const std::string& footer_text) {
  return document_head(title) + "<header>" + header_html + "</header>\n<main>\n" + main_html +
         "</main>\n<footer>" + html_escape(footer_text) + "</footer>\n</body></html>\n";
}

std::string html_figure(const ReportFigure& figure) {
  return figure_html(figure);
}

std::string render_html_report(const ReportContent& c) {
  std::string out = document_head("cnnscope report: " + c.checkpoint);
  out += "<header><h1>" + html_escape(c.checkpoint) + "</h1>";
  out += R"(<p class="meta">)" +
         html_escape(c.arch.empty() ? "architecture not recognised" : c.arch) + " &middot; " +
         std::to_string(c.weights.size()) + " tensors &middot; " + std::to_string(c.images.size()) +
         " image(s)</p>";
  out += R"(<nav><a href="#overview">Overview</a><a href="#architecture">Architecture</a>)"
         R"(<a href="#weights">Weights</a><a href="#filters">Filters</a>)"
         R"(<a href="#images">Images</a>)" +
         std::string(c.dataset_html.empty() ? "" : R"(<a href="#dataset">Data set</a>)") +
         std::string(c.layers_html.empty() ? "" : R"(<a href="#layers">Layers</a>)") +
         "</nav></header>\n<main>\n";
  overview(out, c);
  architecture(out, c);
  weights(out, c);
  filters(out, c);
  images(out, c);
  if (!c.dataset_html.empty())
    out += R"(<section id="dataset"><h2>Data set</h2>)" + c.dataset_html + "</section>\n";
  if (!c.layers_html.empty())
    out += R"(<section id="layers"><h2>Layers</h2>)" + c.layers_html + "</section>\n";
  if (!c.notes.empty()) {
    out += R"(<section id="notes"><h2>Notes</h2><ul>)";
    for (const std::string& n : c.notes) out += "<li>" + html_escape(n) + "</li>";
    out += "</ul></section>\n";
  }
  out += "</main>\n<footer>Made by " + html_escape(c.generator) + " from " +
         html_escape(c.checkpoint) + ". Self-contained: no network access.</footer>\n";
  out += "<script>" + std::string(kScript) + "</script>\n</body></html>\n";
  return out;
}

void write_html_report(const std::string& path, const ReportContent& content) {
  write_file_atomic(path, render_html_report(content));
}

}  // namespace cnnscope
