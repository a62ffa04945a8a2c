// order_series (see evolve.h): which checkpoint files make a series and in what order: files as
// given, or a folder's checkpoint files sorted naturally by name, then by the `epoch` every file
// holds. Leaves out: reading their tensors (evolve.cpp). Spec: the `evolve` section of
// docs/DESIGN.md.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <set>

#include "app/evolve.h"
#include "app/run_folder.h"
#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "common/text.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

bool is_checkpoint_file(const fs::path& p) {
  static const std::set<std::string> kExtensions{".pth", ".pt",  ".ckpt",
                                                 ".bin", ".tar", ".safetensors"};
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return kExtensions.count(ext) > 0;
}

// A training run's best.pth / last.pth: copies of epochs already in the series, left out of a
// folder (named as files they are taken).
bool is_run_summary(const fs::path& p) {
  const std::string name = p.filename().string();
  return name == kBestCheckpoint || name == kLastCheckpoint;
}

// The top-level `epoch` of a training checkpoint, if it holds an integer one.
std::optional<int64_t> epoch_of(const std::string& path) {
  for (const CheckpointEntry& e : load_checkpoint(path).entries) {
    if (e.path != "epoch" || e.tensor.defined()) continue;
    try {
      size_t used = 0;
      const int64_t v = std::stoll(e.value, &used);
      if (used == e.value.size()) return v;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

// The last run of digits in the file's stem ("epoch_12" -> 12).
std::optional<int64_t> number_in_name(const std::string& path) {
  const std::string stem = fs::path(path).stem().string();
  const size_t end = stem.find_last_of("0123456789");
  if (end == std::string::npos) return std::nullopt;
  size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(stem[begin - 1]))) --begin;
  try {
    return std::stoll(stem.substr(begin, end - begin + 1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

CheckpointSeries order_series(const std::vector<std::string>& inputs) {
  CheckpointSeries s;
  if (inputs.size() == 1 && fs::is_directory(inputs[0])) {
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(inputs[0], ec))
      if (e.is_regular_file() && is_checkpoint_file(e.path()) && !is_run_summary(e.path()))
        s.files.push_back(e.path().string());
    if (ec) fail(inputs[0], "cannot list the folder: " + ec.message());
    std::sort(s.files.begin(), s.files.end(), [](const std::string& a, const std::string& b) {
      return natural_less(fs::path(a).filename().string(), fs::path(b).filename().string());
    });
  } else {
    s.files = inputs;
  }
  if (s.files.size() < 2)
    fail(inputs.empty() ? "" : inputs[0],
         "a series needs at least two checkpoints, got " + std::to_string(s.files.size()),
         "give several files or a folder of .pth/.pt/.safetensors files");
  std::vector<std::optional<int64_t>> epochs, numbers;
  for (const std::string& f : s.files) {
    epochs.push_back(epoch_of(f));
    numbers.push_back(number_in_name(f));
  }
  const auto all = [](const auto& v) {
    return std::all_of(v.begin(), v.end(), [](const auto& x) { return x.has_value(); });
  };
  const std::vector<std::optional<int64_t>>* source = nullptr;
  if (all(epochs)) {
    source = &epochs;
    s.step_source = "epoch";
  } else if (all(numbers)) {
    source = &numbers;
    s.step_source = "file name";
  } else {
    s.step_source = "position";
  }
  for (size_t i = 0; i < s.files.size(); ++i)
    s.steps.push_back(source ? *(*source)[i] : static_cast<int64_t>(i));
  if (source == &epochs && inputs.size() == 1 && fs::is_directory(inputs[0])) {
    std::vector<size_t> order(s.files.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return s.steps[a] < s.steps[b]; });
    CheckpointSeries sorted{{}, {}, s.step_source};
    for (size_t i : order) {
      sorted.files.push_back(s.files[i]);
      sorted.steps.push_back(s.steps[i]);
    }
    s = std::move(sorted);
  }
  return s;
}

}  // namespace cnnscope::app
