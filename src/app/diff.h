// The `diff` job: what changed between two checkpoints, tensor by tensor (checkpoint/ + stats/
// compare.h), keys only in one of them and shape mismatches, and optionally per layer A's and B's
// histograms overlaid on shared bins plus a bar chart of the relative change per tensor.
// Leaves out: printing (cli/diff.cpp) and architecture-aware comparisons.
#pragma once

#include <string>
#include <vector>

#include "render/canvas.h"
#include "stats/compare.h"
#include "stats/histogram.h"

namespace cnnscope::app {

struct DiffOptions {
  std::string a, b;               // checkpoint files
  std::vector<std::string> keys;  // globs; empty: every tensor
  bool sort_by_change = false;    // largest relative change first (else file order of A)
  std::string plots;              // "" = no figures
  std::string format = "png";
  int bins = kDefaultHistogramBins;
};

struct DiffEntry {
  std::string name;
  std::vector<int64_t> shape;
  TensorDiff diff;
};

struct ShapeMismatch {
  std::string name;
  std::vector<int64_t> a, b;
};

struct DiffResult {
  std::string a, b;
  std::vector<DiffEntry> tensors;  // present in both with one shape
  std::vector<std::string> only_in_a, only_in_b;
  std::vector<ShapeMismatch> shape_mismatch;
  size_t figures = 0;  // files written into options.plots
};

// Throws Error naming the file on an unreadable checkpoint, a glob that matches nothing in either,
// or a bad --bins/--format.
DiffResult diff_checkpoints(const DiffOptions& options);

}  // namespace cnnscope::app
