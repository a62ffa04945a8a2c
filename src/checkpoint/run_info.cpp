// run.json read and written (checkpoint/run_info.h). Every field is type- and range-checked, so a
// hostile file yields one line naming the file and the field; nothing of it is echoed unbounded.
#include "checkpoint/run_info.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace cnnscope {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kFormatVersion = 1;
constexpr uintmax_t kMaxBytes = uintmax_t{1} << 20;
constexpr int64_t kMaxClasses = 100000;
constexpr size_t kMaxName = 256;  // a class name
constexpr size_t kMaxArch = 64;   // an arch or preset name
constexpr int64_t kMaxInputSize = 4096;
constexpr int64_t kMaxChannels = 64;

const nlohmann::json& field(const nlohmann::json& doc, const char* key, const std::string& file) {
  const auto it = doc.find(key);
  if (it == doc.end())
    fail(file, std::string("no '") + key + "'", "was it written by cnnscope train?");
  return *it;
}

int64_t integer(const nlohmann::json& doc, const char* key, int64_t lo, int64_t hi,
                const std::string& file) {
  const nlohmann::json& v = field(doc, key, file);
  if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
    fail(file, std::string("'") + key + "' must be an integer in " + std::to_string(lo) + ".." +
                   std::to_string(hi));
  return v.get<int64_t>();
}

// An arch or preset name: lower-case letters, digits and '_', as known_archs() and preset_names().
std::string name(const nlohmann::json& doc, const char* key, const std::string& file) {
  const nlohmann::json& v = field(doc, key, file);
  const bool ok = v.is_string() && !v.get_ref<const std::string&>().empty() &&
                  v.get_ref<const std::string&>().size() <= kMaxArch &&
                  v.get_ref<const std::string&>().find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
  if (!ok) fail(file, std::string("'") + key + "' must be a name of [a-z0-9_]");
  return v.get<std::string>();
}

std::vector<std::string> class_names(const nlohmann::json& doc, int64_t count,
                                     const std::string& file) {
  const nlohmann::json& v = field(doc, "classes", file);
  if (!v.is_array() || static_cast<int64_t>(v.size()) != count)
    fail(file, "'classes' must be a list of num_classes (" + std::to_string(count) + ") names");
  std::vector<std::string> out;
  for (const nlohmann::json& c : v) {
    if (!c.is_string() || c.get_ref<const std::string&>().size() > kMaxName)
      fail(file, "'classes' entry " + std::to_string(out.size()) + " is not a name of at most " +
                     std::to_string(kMaxName) + " bytes");
    out.push_back(c.get<std::string>());
  }
  return out;
}

}  // namespace

std::string run_info_json(const RunInfo& run) {
  const nlohmann::json doc = {{"format", "cnnscope-run"},
                              {"version", kFormatVersion},
                              {"arch", run.arch},
                              {"num_classes", run.num_classes},
                              {"input_size", run.input_size},
                              {"input_channels", run.input_channels},
                              {"preset", run.preset},
                              {"classes", run.classes},
                              {"epochs", run.epochs},
                              {"options", run.options}};
  return doc.dump(2) + "\n";
}

std::optional<RunInfo> parse_run_info(const std::string& text, const std::string& file) {
  if (text.size() > kMaxBytes) fail(file, "larger than 1 MiB", "not a run.json of cnnscope train");
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) fail(file, "not valid JSON");
  if (!doc.is_object()) fail(file, "not a JSON object");
  const auto format = doc.find("format");
  if (format == doc.end() || *format != "cnnscope-run") return std::nullopt;  // another tool's
  integer(doc, "version", kFormatVersion, kFormatVersion, file);
  RunInfo run;
  run.arch = name(doc, "arch", file);
  run.num_classes = integer(doc, "num_classes", 1, kMaxClasses, file);
  run.input_size = integer(doc, "input_size", 0, kMaxInputSize, file);
  run.input_channels = integer(doc, "input_channels", 1, kMaxChannels, file);
  run.preset = name(doc, "preset", file);
  run.classes = class_names(doc, run.num_classes, file);
  run.epochs = integer(doc, "epochs", 0, INT32_MAX, file);
  const nlohmann::json& options = field(doc, "options", file);
  if (!options.is_object()) fail(file, "'options' must be an object");
  run.options = options;
  return run;
}

std::optional<RunInfo> run_info_beside(const std::string& checkpoint) {
  if (checkpoint.empty()) return std::nullopt;
  const fs::path path = fs::path(checkpoint).parent_path() / kRunInfoName;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return std::nullopt;
  const std::string file = path.string();
  if (!fs::is_regular_file(path, ec)) fail(file, "not a regular file");
  if (fs::file_size(path, ec) > kMaxBytes)
    fail(file, "larger than 1 MiB", "not a run.json of cnnscope train");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(file, "cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_run_info(text.str(), file);
}

}  // namespace cnnscope
