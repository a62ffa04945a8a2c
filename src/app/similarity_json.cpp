// similarity_json (see similarity.h): the document `similarity --json` prints and similarity.json
// holds. Spec: the `similarity` section of docs/DESIGN.md.
#include <filesystem>

#include "app/similarity.h"

namespace cnnscope::app {

namespace {

nlohmann::ordered_json optional_number(const std::optional<double>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

nlohmann::ordered_json similarity_json(const SimilarityResult& r) {
  nlohmann::ordered_json j;
  j["a"] = r.a;
  j["b"] = r.b.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.b);
  j["arch_a"] = r.arch_a;
  j["arch_b"] = r.arch_b;
  j["preset_a"] = r.preset_a;
  j["preset_b"] = r.preset_b;
  j["kernel"] = cka_kernel_name(r.cka.kernel);
  j["unbiased"] = r.cka.unbiased;
  j["rbf_threshold"] = r.cka.rbf_threshold;
  j["batch"] = r.batch;
  j["batches"] = r.batches;
  nlohmann::ordered_json images;
  images["listed"] = r.listed;
  images["used"] = r.used;
  images["left_out"] = r.left_out;
  images["skipped"] = nlohmann::ordered_json::array();
  for (const SkippedImage& s : r.skipped)
    images["skipped"].push_back({{"image", s.image}, {"error", s.error}});
  j["images"] = images;
  j["rows"] = r.rows;
  j["cols"] = r.cols;
  nlohmann::ordered_json values = nlohmann::ordered_json::array();
  for (const auto& row : r.values) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const std::optional<double>& v : row) out.push_back(optional_number(v));
    values.push_back(out);
  }
  j["cka"] = values;
  j["figure"] =
      r.figure.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.figure);
  return j;
}

}  // namespace cnnscope::app
