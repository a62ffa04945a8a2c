// Reading back a JSON document a cnnscope job wrote (scan.json, similarity.json, evolve's
// layers.json) from a folder a user names: the one place that checks it is a regular file within
// a size bound, registers it as an input (never overwritten), parses it with a nesting bound, and
// checks its "format" and "version". Leaves out: each document's fields (the readers beside each
// writer check those, with count_field for counts).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cnnscope::app {

// What a reader expects: {"format": format, "version": version, ...}; `what` names the file for
// messages ("scan.json"), `hint` says where such a file comes from.
struct JobDocumentKind {
  const char* format;
  int version;
  const char* what;
  const char* hint;
  uintmax_t max_bytes;  // what the largest real document of the kind needs, with room
};

// Throws Error naming `path`: missing, not a regular file, larger than kind.max_bytes, not JSON,
// nested deeper than 16, another format or version.
nlohmann::json read_job_document(const std::string& path, const JobDocumentKind& kind);

// A matrix with gaps as documents hold it: [[number|null, ...] per row].
using OptionalGrid = std::vector<std::vector<std::optional<double>>>;
nlohmann::ordered_json optional_grid_json(const OptionalGrid& grid);
// Read back: exactly `rows` rows of `cols` values (`what` names them in the error); throws Error
// naming `path` otherwise.
OptionalGrid read_optional_grid(const nlohmann::json& j, size_t rows, size_t cols,
                                const std::string& path, const std::string& what);

// A count in a document (images, ...): an integer, 0 or more; throws Error naming `path`.
int64_t count_field(const nlohmann::json& j, const std::string& path);

}  // namespace cnnscope::app
