// The `weights` report of a state_dict in three shapes: the JSON document of docs/DESIGN.md (plus
// extra fields), CSV for spreadsheets, and an aligned terminal table grouped by layer with totals.
// Leaves out: computing anything (stats/), drawing (render/). Spec: docs/DESIGN.md "JSON shapes".
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "stats/histogram.h"
#include "stats/tensor_stats.h"

namespace cnnscope {

struct TensorReport {
  std::string name;
  TensorStats stats;
  Histogram histogram;
  // A quantized tensor ("qint8 per_channel_affine, axis 0"): the figures are on its dequantized
  // float32 values, and the report says so. Empty for plain tensors.
  std::string quantized = {};
};

struct WeightsReport {
  std::string file;
  std::string format;  // "zip" | "legacy" | "safetensors"
  int bins = kDefaultHistogramBins;
  std::vector<TensorReport> tensors;
  std::vector<std::string> skipped;  // keys left out (num_batches_tracked)
};

// {"file","format","bins","tensors":[{"name","dtype","shape","numel","mean","std","min","max",
//  "l2","zero_fraction","p1","p50","p99","finite","nan","posinf","neginf","quantized"?,"note"?,
//  "histogram":{"edges","counts"}}],"totals":{...},"skipped":[...]}. Undefined figures are null
// and explained in "note".
nlohmann::json weights_json(const WeightsReport& report);

// One header line, then one line per tensor; full precision, empty cells for undefined figures.
std::string weights_csv(const WeightsReport& report);

// Rows grouped under their layer (the key up to its last '.'), a subtotal per layer, totals last.
std::string weights_table(const WeightsReport& report);

// "features.0.weight" -> "features.0"; a key without '.' is its own layer.
std::string layer_of(const std::string& key);

// Why figures are missing or partial ("std undefined: 1 value", "2 NaN left out"); empty if none.
std::string stats_note(const TensorStats& stats);

// stats_note plus, for a quantized tensor, that the figures are on its dequantized values.
std::string report_note(const TensorReport& t);

}  // namespace cnnscope
