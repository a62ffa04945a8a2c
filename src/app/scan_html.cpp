// The report's "Data set" section from a scan result (see scan_html.h). Spec: the `report` section
// of docs/DESIGN.md (--scan).
#include "app/scan_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "export/html_report.h"

namespace cnnscope::app {

namespace fs = std::filesystem;

std::string scan_report_html(const ScanResult& r, const std::string& dir) {
  std::string out = "<p>" + html_escape(r.arch) + ", preset " + html_escape(r.preset) + ": " +
                    std::to_string(r.scanned) + " of " + std::to_string(r.listed) +
                    " images scanned (" + std::to_string(r.skipped.size()) + " skipped; shards " +
                    std::to_string(r.shards.size()) + " of " + std::to_string(r.shard_count) +
                    "), top " + std::to_string(r.topk) + " per channel.</p>";
  const auto num = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", v);
    return std::string(text);
  };
  for (const ScanLayer& layer : r.layers) {
    int64_t dead = 0, on = 0;
    for (const ChannelMoments& m : layer.channels) {
      dead += m.dead();
      on += m.always_on();
    }
    out += "<h3>" + html_escape(layer.name) + "</h3><p>" + std::to_string(layer.channels.size()) +
           " channels, " + std::to_string(dead) + " dead, " + std::to_string(on) +
           " always on.</p>";
    if (layer.batchnorm) {
      double shift = 0, lo = std::numeric_limits<double>::infinity(), hi = 0;
      const ScanBatchNorm& bn = *layer.batchnorm;
      for (size_t c = 0; c < bn.observed.size() && c < bn.running_mean.size(); ++c) {
        const ChannelMoments& m = bn.observed[c];
        const double sd = std::sqrt(bn.running_var[c] + bn.eps);
        shift = std::max(shift, std::abs(m.mean - bn.running_mean[c]) / sd);
        const double var = m.count > 1 ? m.m2 / static_cast<double>(m.count - 1) : 0.0;
        lo = std::min(lo, var / (sd * sd));
        hi = std::max(hi, var / (sd * sd));
      }
      out += "<p>BatchNorm against its input (" + html_escape(bn.input) +
             "): largest |mean shift| " + num(shift) + " running std, variance ratio " + num(lo) +
             " .. " + num(hi) + ".</p>";
    }
    if (!layer.mosaic.empty()) {
      const fs::path mosaic = fs::path(dir) / fs::path(layer.mosaic).filename();
      std::ifstream in(mosaic, std::ios::binary);
      if (in)
        out += html_figure({layer.name + ": top patches per channel", "image/png",
                            std::string(std::istreambuf_iterator<char>(in), {})});
    }
    out +=
        "<table><thead><tr><th>channel</th><th>mean</th><th>std</th><th>min</th><th>max</th>"
        "<th>positive</th><th>state</th><th>strongest image</th></tr></thead><tbody>";
    for (size_t c = 0; c < layer.channels.size(); ++c) {
      const ChannelMoments& m = layer.channels[c];
      const std::vector<TopHit>& hits = layer.top[c].hits();
      const std::string best =
          hits.empty() ? ""
                       : html_escape(fs::path(r.hit_images.at(hits[0].image)).filename().string()) +
                             " (" + num(hits[0].value) + ")";
      out += "<tr><td>" + std::to_string(c) + "</td><td>" + num(m.mean) + "</td><td>" +
             num(m.std()) + "</td><td>" + num(m.min) + "</td><td>" + num(m.max) + "</td><td>" +
             num(100 * m.positive_fraction()) + "%</td><td>" +
             (m.dead()        ? "dead"
              : m.always_on() ? "always on"
                              : "") +
             "</td><td>" + best + "</td></tr>";
    }
    out += "</tbody></table>";
  }
  if (!r.classes.empty()) {
    out += "<h3>Classes</h3><table><thead><tr><th>class</th><th>images</th></tr></thead><tbody>";
    for (const auto& [name, cls] : r.classes)
      out +=
          "<tr><td>" + html_escape(name) + "</td><td>" + std::to_string(cls.images) + "</td></tr>";
    out += "</tbody></table>";
  }
  return out;
}

}  // namespace cnnscope::app
