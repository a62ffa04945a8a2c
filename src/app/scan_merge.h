// The `merge` job: shard outputs of one scan plan (`scan --shard I/N`) combined exactly: counts,
// min/max and top-k equal to one run; means and std by Chan et al.'s update. Leaves out: printing
// (cli/merge.cpp) and mosaics of merged results (the shards' patches are kept). Spec: the `merge`
// section of docs/DESIGN.md.
#pragma once

#include <string>
#include <vector>

#include "app/scan.h"

namespace cnnscope::app {

struct MergeOptions {
  std::vector<std::string> dirs;  // each holding a scan.json
  std::string out = "scan";
};

// Combines shard outputs of one plan (same checkpoint, layers, preset, top-k, image list and shard
// count; no shard twice) into OUT/scan.json. Throws Error naming the first mismatch.
ScanResult run_merge(const MergeOptions& options);

}  // namespace cnnscope::app
