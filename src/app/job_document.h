// Reading back a JSON document a cnnscope job wrote (scan.json, similarity.json, evolve's
// layers.json) from a folder a user names: the one place that checks it is a regular file within
// a size bound, parses it, and checks its "format" and "version". Leaves out: each document's
// fields (the readers beside each writer check those).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace cnnscope::app {

// What a reader expects: {"format": format, "version": version, ...}; `what` names the file for
// messages ("scan.json"), `hint` says where such a file comes from.
struct JobDocumentKind {
  const char* format;
  int version;
  const char* what;
  const char* hint;
};

// Throws Error naming `path`: not a regular file, larger than 256 MB, not JSON, another format or
// version.
nlohmann::json read_job_document(const std::string& path, const JobDocumentKind& kind);

}  // namespace cnnscope::app
