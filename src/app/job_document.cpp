// read_job_document (see job_document.h): nlohmann's DOM parser with a callback that refuses
// nesting deeper than any job document has (a file of '[' would otherwise cost ~100x its size).
#include "app/job_document.h"

#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/mapped_file.h"

namespace cnnscope::app {
namespace {

constexpr int kMaxDepth = 16;  // scan.json, the deepest, nests 6

}  // namespace

nlohmann::json read_job_document(const std::string& path, const JobDocumentKind& kind) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path, "does not exist", kind.hint);
  require_regular_file(path);
  register_input(path);  // an output named like it must not replace it
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size > kind.max_bytes)
    fail(path,
         std::string("larger than a ") + kind.what + " can be (" +
             std::to_string(kind.max_bytes >> 20) + " MB)",
         kind.hint);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot read", kind.hint);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in, [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
      if (depth > kMaxDepth) fail(path, std::string("not a ") + kind.what + ": nested too deeply");
      return true;
    });
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("malformed ") + kind.what + ": " + e.what(), kind.hint);
  }
  const auto field = [&](const char* key) {
    return doc.is_object() && doc.contains(key) ? doc[key] : nlohmann::json();
  };
  const nlohmann::json format = field("format"), version = field("version");
  if (!format.is_string() || format.get<std::string>() != kind.format ||
      !version.is_number_integer() || version.get<int64_t>() != kind.version)
    fail(path,
         std::string("not a cnnscope ") + kind.what + " (format " + kind.format + " version " +
             std::to_string(kind.version) + ")",
         kind.hint);
  return doc;
}

nlohmann::ordered_json optional_grid_json(const OptionalGrid& grid) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& row : grid) {
    nlohmann::ordered_json line = nlohmann::ordered_json::array();
    for (const std::optional<double>& v : row)
      line.push_back(v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr));
    out.push_back(std::move(line));
  }
  return out;
}

OptionalGrid read_optional_grid(const nlohmann::json& j, size_t rows, size_t cols,
                                const std::string& path, const std::string& what) {
  const auto wrong = [&] {
    fail(path, what + " must hold " + std::to_string(rows) + " rows of " + std::to_string(cols) +
                   " numbers or nulls");
  };
  if (!j.is_array() || j.size() != rows) wrong();
  OptionalGrid out;
  for (const nlohmann::json& row : j) {
    if (!row.is_array() || row.size() != cols) wrong();
    std::vector<std::optional<double>> line;
    for (const nlohmann::json& v : row) {
      if (!v.is_null() && !v.is_number()) wrong();
      line.push_back(v.is_null() ? std::nullopt : std::optional<double>(v.get<double>()));
    }
    out.push_back(std::move(line));
  }
  return out;
}

int64_t count_field(const nlohmann::json& j, const std::string& path) {
  if (!j.is_number_integer() || j.get<int64_t>() < 0)
    fail(path, "a count must be a whole number, 0 or more, got " + j.dump());
  return j.get<int64_t>();
}

}  // namespace cnnscope::app
