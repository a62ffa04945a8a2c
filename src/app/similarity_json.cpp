// similarity_json and read_similarity_json (see similarity.h): the document `similarity --json`
// prints and similarity.json holds, and its reader for `report --similarity` (a file from
// anywhere: app/job_document.h's checks, then every field type-checked). Spec: the `similarity`
// section of docs/DESIGN.md.
#include "app/job_document.h"
#include "app/similarity.h"
#include "common/error.h"

namespace cnnscope::app {

namespace {

constexpr const char* kFormat = "cnnscope-similarity";
constexpr int kVersion = 1;
constexpr size_t kMaxLayers = kMaxSimilarityLayers;
constexpr uintmax_t kMaxBytes = uintmax_t{32} << 20;  // 1024 x 1024 values as text, with room

}  // namespace

nlohmann::ordered_json similarity_json(const SimilarityResult& r) {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
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
  j["cka"] = optional_grid_json(r.values);
  j["figure"] =
      r.figure.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.figure);
  return j;
}

SimilarityResult read_similarity_json(const std::string& path) {
  const nlohmann::json doc = read_job_document(
      path,
      {kFormat, kVersion, "similarity.json", "give a folder that `similarity` wrote", kMaxBytes});
  try {
    SimilarityResult r;
    r.a = doc.at("a").get<std::string>();
    if (!doc.at("b").is_null()) r.b = doc.at("b").get<std::string>();
    r.arch_a = doc.at("arch_a").get<std::string>();
    r.arch_b = doc.at("arch_b").get<std::string>();
    const std::string kernel = doc.at("kernel").get<std::string>();
    if (kernel != "linear" && kernel != "rbf") fail(path, "unknown CKA kernel '" + kernel + "'");
    r.cka.kernel = parse_cka_kernel(kernel);
    r.cka.unbiased = doc.at("unbiased").get<bool>();
    r.used = count_field(doc.at("images").at("used"), path);
    r.rows = doc.at("rows").get<std::vector<std::string>>();
    r.cols = doc.at("cols").get<std::vector<std::string>>();
    if (r.rows.empty() || r.cols.empty() || r.rows.size() > kMaxLayers ||
        r.cols.size() > kMaxLayers)
      fail(path, "the matrix must have 1 to " + std::to_string(kMaxLayers) + " rows and columns");
    r.values = read_optional_grid(doc.at("cka"), r.rows.size(), r.cols.size(), path,
                                  "\"cka\" (rows x cols)");
    return r;
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("malformed similarity.json: ") + e.what());
  }
}

}  // namespace cnnscope::app
