// Class predictions from logits: softmax probabilities and the top k with labels, as `predict`,
// `report` (and later `explain`, `serve`) show them. Leaves out: multi-label (sigmoid) heads.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cnnscope::app {

constexpr int64_t kDefaultTopK = 5;

struct Prediction {
  int64_t index = 0;
  std::string label;  // labels[index], or the index as text without labels
  double probability = 0;
};

struct Predictions {
  std::vector<double> logits;         // [classes]
  std::vector<double> probabilities;  // [classes], softmax of the logits in float32, as torch
  std::vector<Prediction> top;        // the k most probable, most probable first
};

// `logits`: [classes] of one image. k is clipped to the number of classes; `labels` empty or one
// per class. Throws Error when k < 1.
Predictions predict_top(const at::Tensor& logits, int64_t k,
                        const std::vector<std::string>& labels);

}  // namespace cnnscope::app
