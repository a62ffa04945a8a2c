// The JSON documents of the jobs that both the CLI (`--json`) and the server (`cnnscope serve`'s
// API) give, built in one place so that both say the same: summary, predict and one layer of
// features, diff. Leaves out: `weights` (export/stats_table.h) and printing. Spec: docs/DESIGN.md.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "app/diff.h"
#include "app/features.h"
#include "app/predictions.h"
#include "app/summary.h"

namespace cnnscope::app {

// `summary --json`: {"arch","family","description","num_classes","params","mult_adds",
// "input_shape","default_preset","layers":[{"name","type","output_shape","params","mult_adds"}]}.
nlohmann::json summary_json(const models::ArchInfo& info, const Summary& summary);

// `predict --json`: {"logits","probabilities","top":[{"index","label","probability"}],"arch",
// "preset"}.
nlohmann::json predict_json(const models::ArchInfo& info, const std::string& preset,
                            const Predictions& predictions);

// `predict --json` of several images: {"arch","preset","images":[{"image","logits",
// "probabilities","top"}]}.
nlohmann::json predict_images_json(const models::ArchInfo& info, const std::string& preset,
                                   const std::vector<ImagePredictions>& images);

// One entry of `features --json`'s "layers": {"name","shape","mean","std","min","max",
// "zero_fraction","dead_channels","shown","figure","npy","channels":[{"index",...}]}; "figure"
// and "npy" are null when empty.
nlohmann::ordered_json feature_layer_json(const LayerFeatures& layer);

// `features --json`: {"checkpoint","arch","preset","layers","cmap","scale","pick","images":
// [{"image","out","layers":[feature_layer_json]}]}; "out" is null when empty (the server writes
// nothing).
nlohmann::ordered_json features_json(const std::string& checkpoint, const FeaturesOptions& options,
                                     const FeaturesResult& result);

// `diff --json`: {"a","b","tensors":[{"name","shape","l2_a","l2_b","l2_diff","rel_change",
// "cosine","max_abs_diff","changed_fraction"}],"only_in_a","only_in_b","shape_mismatch":
// [{"name","a","b"}]}; undefined figures null.
nlohmann::ordered_json diff_json(const DiffResult& result);

}  // namespace cnnscope::app
