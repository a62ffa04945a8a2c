// evolve_page (see evolve_page.h).
#include "app/evolve_page.h"

#include <fmt/format.h>

#include "common/text.h"

namespace cnnscope::app {
namespace {

std::string fmt_opt(const std::optional<double>& v) {
  return v ? fmt::format("{:.4g}", *v) : "&ndash;";
}

}  // namespace

std::string evolve_page(const EvolveOptions& o, const EvolveResult& r,
                        const std::vector<ReportFigure>& figures,
                        const std::vector<ReportFigure>& frames, const ReportFigure& animation) {
  std::string header = "<h1>cnnscope evolve</h1><p class=\"meta\">" +
                       std::to_string(r.checkpoints.size()) + " checkpoints, steps by " +
                       html_escape(r.step_source) + ": " + html_escape(r.checkpoints.front()) +
                       " &hellip; " + html_escape(r.checkpoints.back()) + "</p>";
  std::string main =
      "<section id=\"series\"><h2>Series</h2><div class=\"scroll\"><table>"
      "<thead><tr><th>step</th><th>checkpoint</th></tr></thead><tbody>";
  for (size_t i = 0; i < r.checkpoints.size(); ++i)
    main += "<tr><td class=\"num\">" + std::to_string(r.steps[i]) + "</td><td>" +
            html_escape(r.checkpoints[i]) + "</td></tr>";
  main += "</tbody></table></div></section>\n";
  if (!r.problems.empty()) {
    main += "<section id=\"problems\"><h2>Mismatches</h2><ul>";
    for (const std::string& p : r.problems)
      main += "<li class=\"error\">" + html_escape(p) + "</li>";
    main += "</ul></section>\n";
  }
  main += "<section id=\"drift\"><h2>Drift</h2>";
  for (const ReportFigure& f : figures)
    if (starts_with(f.title, "drift")) main += html_figure(f);
  main += "</section>\n";
  if (r.spectra || r.similarity) {
    main += "<section id=\"layers\"><h2>How the layers settled</h2>";
    for (const ReportFigure& f : figures)
      if (starts_with(f.title, "layers")) main += html_figure(f);
    main += "</section>\n";
  }
  main += "<section id=\"filters\"><h2>First-layer filters</h2>";
  if (!animation.bytes.empty()) main += html_figure(animation);
  main += "<div style=\"display:flex;flex-wrap:wrap;gap:8px\">";
  for (const ReportFigure& f : frames)
    main += "<figure style=\"width:220px\"><img src=\"data:image/png;base64," +
            base64_encode(f.bytes) + "\" alt=\"" + html_escape(f.title) + "\"><figcaption>" +
            html_escape(f.title) + "</figcaption></figure>";
  main +=
      "</div></section>\n<section id=\"tensors\"><h2>Tensors</h2><div class=\"scroll\"><table>"
      "<thead><tr><th>tensor</th><th>shape</th><th class=\"num\">L2 first</th>"
      "<th class=\"num\">L2 last</th><th class=\"num\">change from first (last)</th>"
      "</tr></thead><tbody>";
  for (const EvolveTensor& t : r.tensors)
    main += "<tr><td>" + html_escape(t.name) + "</td><td>" + shape_text(t.shape) +
            "</td><td class=\"num\">" + fmt_opt(t.l2.front()) + "</td><td class=\"num\">" +
            fmt_opt(t.l2.back()) + "</td><td class=\"num\">" +
            fmt_opt(t.rel_change_from_first.back()) + "</td></tr>";
  main += "</tbody></table></div>";
  for (const ReportFigure& f : figures)
    if (!starts_with(f.title, "drift") && !starts_with(f.title, "layers")) main += html_figure(f);
  main += "</section>\n";
  return html_document("cnnscope evolve: " + r.checkpoints.front(), header, main,
                       "Made by cnnscope " + std::string(CNNSCOPE_VERSION) +
                           ". Self-contained: no network access. Bins: " + std::to_string(o.bins) +
                           " shared across the series.");
}

}  // namespace cnnscope::app
