// Class predictions from logits: softmax probabilities and the top k with labels, as `predict`,
// `report`, `explain` and `serve` show them; `predict`'s images through a network in batches.
// Leaves out: multi-label (sigmoid) heads.
#pragma once

#include <ATen/ATen.h>

#include "image/input.h"
#include "models/network.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cnnscope::app {

constexpr int64_t kDefaultTopK = 5;
constexpr int64_t kPredictBatch = 8;  // images per forward

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

struct ImagePredictions {
  std::string image;  // as listed
  Predictions predictions;
};

// Each of `images` (files, as expand_images lists them) loaded with `preprocess` and run through
// `net`, consecutive ones of one size together (image_list.h's for_each_batch). Throws Error naming
// the first image that cannot be read or does not fit the network.
std::vector<ImagePredictions> predict_images(const models::Network& net,
                                             const std::vector<std::string>& images,
                                             const PreprocessOptions& preprocess, int64_t k,
                                             const std::vector<std::string>& labels);

}  // namespace cnnscope::app
