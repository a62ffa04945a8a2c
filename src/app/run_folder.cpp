// A training run's folder (app/run_folder.h): file names, the "already a run" test, clearing an
// earlier run for a fresh one, metrics.json written and read back.
#include "app/run_folder.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "checkpoint/run_info.h"
#include "common/error.h"
#include "common/mapped_file.h"
#include "common/text.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

// epoch_NNN.pth of any width.
bool is_epoch_checkpoint(const std::string& name) {
  if (!starts_with(name, "epoch_") || !ends_with(name, ".pth")) return false;
  const std::string digits = name.substr(6, name.size() - 6 - 4);
  return !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos;
}

void remove_file(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) fail(path.string(), "cannot remove the earlier run's file: " + ec.message());
}

}  // namespace

std::string epoch_checkpoint(const std::string& dir, int64_t epoch) {
  char name[32];
  std::snprintf(name, sizeof name, "epoch_%03lld.pth", static_cast<long long>(epoch));
  return (fs::path(dir) / name).string();
}

bool holds_run(const std::string& dir) {
  std::error_code ec;
  for (const char* name : {kRunInfoName, kLastCheckpoint, kMetricsFile})
    if (fs::exists(fs::symlink_status(fs::path(dir) / name, ec))) return true;
  return false;
}

void clear_run(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> old;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (is_epoch_checkpoint(name) || name == kBestCheckpoint || name == kLastCheckpoint ||
        name == kMetricsFile || name == kClassIndicesFile || name == kRunInfoName)
      old.push_back(e.path());
  }
  if (ec) fail(dir, "cannot list the folder: " + ec.message());
  const fs::path events = fs::path(dir) / kTensorBoardFolder;
  if (fs::is_directory(fs::symlink_status(events, ec)))
    for (const fs::directory_entry& e : fs::directory_iterator(events, ec))
      if (starts_with(e.path().filename().string(), "events.out.tfevents."))
        old.push_back(e.path());
  for (const fs::path& path : old) remove_file(path);
}

std::string metrics_json(const std::vector<EpochMetrics>& epochs) {
  nlohmann::json list = nlohmann::json::array();
  for (const EpochMetrics& m : epochs)
    list.push_back({{"epoch", m.epoch},
                    {"train_loss", m.train_loss},
                    {"train_acc", m.train_acc},
                    {"val_loss", m.val_loss},
                    {"val_acc", m.val_acc},
                    {"seconds", m.seconds},
                    {"images_per_second", m.images_per_second},
                    {"skipped_images", m.skipped_images}});
  return nlohmann::json{{"epochs", list}}.dump(2) + "\n";
}

std::vector<EpochMetrics> read_metrics(const std::string& path, int64_t up_to) {
  std::vector<EpochMetrics> out;
  require_regular_file(path);
  std::ifstream in(path);
  if (!in) return out;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("epochs") || !j["epochs"].is_array()) return out;
  for (const auto& e : j["epochs"]) {
    if (!e.is_object()) continue;
    EpochMetrics m;
    try {  // an entry of another type is left out
      m.epoch = e.value("epoch", int64_t{0});
      m.train_loss = e.value("train_loss", 0.0);
      m.train_acc = e.value("train_acc", 0.0);
      m.val_loss = e.value("val_loss", 0.0);
      m.val_acc = e.value("val_acc", 0.0);
      m.seconds = e.value("seconds", 0.0);
      m.images_per_second = e.value("images_per_second", 0.0);
      m.skipped_images = e.value("skipped_images", int64_t{0});
    } catch (const nlohmann::json::exception&) {
      continue;
    }
    if (m.epoch >= 1 && m.epoch <= up_to) out.push_back(m);
  }
  return out;
}

}  // namespace cnnscope::app
