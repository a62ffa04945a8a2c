// Class labels for `predict`, `report` and every other `--classes`: the seed's class_indices.json
// ({"0": "daisy", ...}) or a text file with one label per line, in class-index order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cnnscope::app {

// Labels by class index; throws Error naming the file when it does not fit `num_classes`.
std::vector<std::string> read_labels(const std::string& path, int64_t num_classes);

}  // namespace cnnscope::app
