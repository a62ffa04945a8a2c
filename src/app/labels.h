// Class labels for `predict`, `report` and every other `--classes`: the seed's class_indices.json
// ({"0": "daisy", ...}) or a text file with one label per line, in class-index order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/network.h"

namespace cnnscope::app {

// Labels by class index; throws Error naming the file when it does not fit `num_classes`.
std::vector<std::string> read_labels(const std::string& path, int64_t num_classes);

// The labels of `path` when one is given, else the training run's class names
// (ArchInfo::class_names, from its run.json), else none.
std::vector<std::string> labels_or_run(const std::string& path, const models::ArchInfo& info);

}  // namespace cnnscope::app
