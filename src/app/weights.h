// The `weights` job: statistics and histograms of the chosen tensors of a state_dict (computed in
// parallel), one figure per tensor plus an overview sheet, and TensorBoard histograms. The
// BatchNorm step counters are left out (listed in `skipped`). Leaves out: formatting the report
// (export/stats_table.h) and anything needing the architecture.
#pragma once

#include <string>
#include <vector>

#include "checkpoint/state_dict.h"
#include "export/stats_table.h"
#include "render/canvas.h"

namespace cnnscope::app {

struct WeightsOptions {
  std::vector<std::string> keys;  // globs (fnmatch); empty: every tensor
  int bins = kDefaultHistogramBins;
};

// Throws Error naming sd.file for a glob that matches nothing, bins < 1, a tensor whose statistics
// fail, or when nothing but counters is left.
WeightsReport compute_weights(const StateDict& sd, const WeightsOptions& options);

// One histogram figure per floating, non-empty tensor (`dir/<key>.<ext>`) and `dir/overview.<ext>`
// with every histogram small; returns the number of files written (0 when nothing is drawable).
size_t write_weight_plots(const WeightsReport& report, const std::string& dir, FigureFormat format);

// A TensorBoard histogram `weights/<key>` per tensor with finite values; returns the event file.
std::string write_weight_histograms(const StateDict& sd, const WeightsReport& report,
                                    const std::string& dir);

}  // namespace cnnscope::app
