// read_labels: JSON object of class index -> label, or one label per line; sizes checked
// against the model's number of classes. Leaves out: CSV and label files with extra columns.
#include "app/labels.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/mapped_file.h"

namespace cnnscope::app {
namespace {

// Every class has a label: the same check for both formats.
void check_count(const std::string& path, size_t labels, int64_t num_classes,
                 const std::string& hint) {
  if (static_cast<int64_t>(labels) != num_classes)
    fail(path,
         "has " + std::to_string(labels) + (labels == 1 ? " label" : " labels") +
             ", the model has " + std::to_string(num_classes) + " classes",
         hint);
}

}  // namespace

std::vector<std::string> labels_or_run(const std::string& path, const models::ArchInfo& info) {
  return path.empty() ? info.class_names : read_labels(path, info.num_classes);
}

std::vector<std::string> read_labels(const std::string& path, int64_t num_classes) {
  register_input(path);
  require_regular_file(path);
  std::ifstream in(path);
  if (!in) fail(path, "cannot open the classes file", "check the path");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> labels;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object())
      fail(path, "is not valid JSON", "expected {\"0\": \"daisy\", \"1\": \"dandelion\", ...}");
    check_count(
        path, doc.size(), num_classes,
        "one label per class: {\"0\": ..., \"" + std::to_string(num_classes - 1) + "\": ...}");
    labels.resize(static_cast<size_t>(num_classes));
    for (const auto& [key, value] : doc.items()) {
      size_t used = 0;
      int64_t index = -1;
      try {
        index = std::stoll(key, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != key.size() || index < 0 || index >= num_classes)
        fail(path, "key '" + key + "' is not a class index 0.." + std::to_string(num_classes - 1),
             "the model has " + std::to_string(num_classes) + " classes");
      if (!value.is_string()) fail(path, "label of class " + key + " is not a string");
      labels[static_cast<size_t>(index)] = value.get<std::string>();
    }
    return labels;
  }
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) labels.push_back(line);
  }
  check_count(path, labels.size(), num_classes, "one label per line, in class-index order");
  return labels;
}

}  // namespace cnnscope::app
