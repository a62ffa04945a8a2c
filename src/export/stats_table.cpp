// weights report formatting: nlohmann::json for --json, RFC 4180-style CSV, and a fmt-aligned
// table. Leaves out: localised number formats. Spec: docs/DESIGN.md `weights` JSON shape.
#include "export/stats_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "checkpoint/dtype.h"
#include "common/text.h"

namespace cnnscope {
namespace {

using nlohmann::json;

json number_or_null(bool defined, double v) {
  return defined ? json(v) : json(nullptr);
}

int64_t element_bytes(const TensorStats& s) {
  for (const DType& d : all_dtypes())
    if (s.dtype == d.torch_name) return static_cast<int64_t>(d.element_size);
  return 0;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string full(double v) {
  return fmt::format("{:.17g}", v);
}
std::string brief(double v) {
  return fmt::format("{:.4g}", v);
}

}  // namespace

std::string layer_of(const std::string& key) {
  const size_t dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(0, dot);
}

std::string stats_note(const TensorStats& s) {
  std::vector<std::string> parts;
  if (s.numel == 0)
    parts.push_back("empty tensor: no statistics");
  else if (!s.has_values)
    parts.push_back("no finite values: no statistics");
  else if (!s.std)
    parts.push_back("std undefined: one value (ddof=1)");
  if (s.nan_count + s.posinf_count + s.neginf_count > 0)
    parts.push_back(fmt::format("{} NaN, {} +Inf, {} -Inf left out of the figures", s.nan_count,
                                s.posinf_count, s.neginf_count));
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

std::string report_note(const TensorReport& t) {
  std::string note = stats_note(t.stats);
  if (!t.quantized.empty())
    note += std::string(note.empty() ? "" : "; ") + "figures on the dequantized values of a " +
            t.quantized + " tensor";
  return note;
}

json weights_json(const WeightsReport& report) {
  json tensors = json::array();
  int64_t numel = 0, bytes = 0;
  for (const TensorReport& t : report.tensors) {
    const TensorStats& s = t.stats;
    numel += s.numel;
    bytes += s.numel * element_bytes(s);
    json j = {{"name", t.name},
              {"dtype", s.dtype},
              {"shape", s.shape},
              {"numel", s.numel},
              {"mean", number_or_null(s.has_values, s.mean)},
              {"std", s.std ? json(*s.std) : json(nullptr)},
              {"min", number_or_null(s.has_values, s.min)},
              {"max", number_or_null(s.has_values, s.max)},
              {"l2", number_or_null(s.has_values, s.l2)},
              {"zero_fraction", number_or_null(s.has_values, s.zero_fraction)},
              {"p1", number_or_null(s.has_values, s.p1)},
              {"p50", number_or_null(s.has_values, s.p50)},
              {"p99", number_or_null(s.has_values, s.p99)},
              {"finite", s.finite},
              {"nan", s.nan_count},
              {"posinf", s.posinf_count},
              {"neginf", s.neginf_count},
              {"histogram",
               {{"edges", t.histogram.edges},
                {"counts", t.histogram.counts},
                {"edge_dtype", t.histogram.float32_edges ? "float32" : "float64"}}}};
    if (!t.quantized.empty()) j["quantized"] = t.quantized;
    const std::string note = report_note(t);
    if (!note.empty()) j["note"] = note;
    tensors.push_back(std::move(j));
  }
  return json{{"file", report.file},
              {"format", report.format},
              {"bins", report.bins},
              {"tensors", std::move(tensors)},
              {"totals", {{"tensors", report.tensors.size()}, {"numel", numel}, {"bytes", bytes}}},
              {"skipped", report.skipped}};
}

std::string weights_csv(const WeightsReport& report) {
  std::string out =
      "name,layer,dtype,shape,numel,finite,nan,posinf,neginf,mean,std,min,max,l2,zero_fraction,"
      "p1,p50,p99\n";
  for (const TensorReport& t : report.tensors) {
    const TensorStats& s = t.stats;
    const auto cell = [&](double v) { return s.has_values ? full(v) : std::string(); };
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(t.name),
                       csv_field(layer_of(t.name)), s.dtype, dims_text(s.shape, "x"), s.numel,
                       s.finite, s.nan_count, s.posinf_count, s.neginf_count, cell(s.mean),
                       s.std ? full(*s.std) : std::string(), cell(s.min), cell(s.max), cell(s.l2),
                       cell(s.zero_fraction), cell(s.p1), cell(s.p50), cell(s.p99));
  }
  return out;
}

std::string weights_table(const WeightsReport& report) {
  // The header, then per layer a heading row and one row per tensor (the key's tail indented).
  std::vector<std::vector<std::string>> rows = {
      {"tensor", "dtype", "shape", "numel", "mean", "std", "min", "max", "l2", "zeros", "note"}};
  int64_t total_numel = 0, total_bytes = 0;
  size_t i = 0;
  while (i < report.tensors.size()) {
    const std::string layer = layer_of(report.tensors[i].name);
    size_t end = i;
    int64_t layer_numel = 0;
    while (end < report.tensors.size() && layer_of(report.tensors[end].name) == layer)
      layer_numel += report.tensors[end++].stats.numel;
    rows.push_back({fmt::format("{}  ({} value{})", layer, thousands(layer_numel),
                                layer_numel == 1 ? "" : "s")});
    for (; i < end; ++i) {
      const TensorReport& t = report.tensors[i];
      const TensorStats& s = t.stats;
      total_numel += s.numel;
      total_bytes += s.numel * element_bytes(s);
      const std::string tail = t.name == layer ? t.name : t.name.substr(layer.size() + 1);
      const auto cell = [&](double v) { return s.has_values ? brief(v) : std::string("-"); };
      rows.push_back(
          {"  " + tail,
           t.quantized.empty() ? s.dtype : t.quantized.substr(0, t.quantized.find(' ')),
           dims_text(s.shape, "\u00d7"), thousands(s.numel), cell(s.mean),
           s.std ? brief(*s.std) : std::string("-"), cell(s.min), cell(s.max), cell(s.l2),
           s.has_values ? fmt::format("{:.1f}%", 100.0 * s.zero_fraction) : "-", report_note(t)});
    }
  }
  std::string out =
      format_table(rows, {true, true, true, false, false, false, false, false, false, false, true});
  out += fmt::format("total: {} tensors, {} values, {}", report.tensors.size(),
                     thousands(total_numel), human_bytes(total_bytes));
  if (!report.skipped.empty())
    out += fmt::format(" ({} num_batches_tracked left out)", report.skipped.size());
  return out + "\n";
}

}  // namespace cnnscope
