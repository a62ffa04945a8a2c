// read_job_document (see job_document.h).
#include "app/job_document.h"

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/mapped_file.h"

namespace cnnscope::app {
namespace {

constexpr uintmax_t kMaxBytes = uintmax_t{256} << 20;

}  // namespace

nlohmann::json read_job_document(const std::string& path, const JobDocumentKind& kind) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path, "does not exist", kind.hint);
  require_regular_file(path);
  if (std::filesystem::file_size(path, ec) > kMaxBytes)
    fail(path, std::string("larger than a ") + kind.what + " can be (256 MB)", kind.hint);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot read", kind.hint);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("malformed ") + kind.what + ": " + e.what(), kind.hint);
  }
  if (!doc.is_object() || doc.value("format", "") != kind.format ||
      doc.value("version", 0) != kind.version)
    fail(path,
         std::string("not a cnnscope ") + kind.what + " (format " + kind.format + " version " +
             std::to_string(kind.version) + ")",
         kind.hint);
  return doc;
}

}  // namespace cnnscope::app
