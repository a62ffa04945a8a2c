// The `similarity` job: centred kernel alignment (stats/cka.h) between every pair of chosen layers
// of one network (or of network A against network B) over an image set, streamed in minibatches
// (app/image_stream.h) so memory holds one minibatch's activations and Gram matrices, whatever the
// number of images. Also the series form `evolve --similarity` uses: each checkpoint's layers
// against the same layers of the series' last checkpoint. Writes DIR/similarity.json and a heat
// map. Leaves out: printing (cli/similarity.cpp), the JSON document (similarity_json.cpp), the
// figure's drawing (render/matrix_plot.h). Spec: the `similarity` section of docs/DESIGN.md.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/scan.h"
#include "app/steps.h"
#include "image/preprocess_spec.h"
#include "stats/cka.h"

namespace cnnscope::app {

// What every CKA job reads: the images, how the networks are built and fed, the layers, the
// estimator.
struct SimilarityInputs {
  std::string images;                   // a folder (recursive) or a text file, one path a line
  std::string arch;                     // "" = detected (for every network)
  std::optional<bool> transform_input;  // GoogLeNet / Inception v3 (BuildOptions)
  PreprocessSpec preprocess;            // each network's own default preset unless told
  std::string layers = "all";           // "all", "" (the family's defaults) or L1,L2,...
  CkaOptions cka;
  int64_t batch = 32;   // the minibatch of the estimator; >= 2 (biased), >= 4 (unbiased)
  int64_t threads = 0;  // LibTorch threads; 0 = its default
  int64_t limit = 0;    // the first `limit` images of the sorted list; 0 = all
};

constexpr size_t kMaxSimilarityLayers = 1024;  // rows and columns of one matrix

struct SimilarityOptions {
  std::string a;
  std::string b;  // "" = A's layers against each other
  SimilarityInputs inputs;
  std::string out = "similarity";
  std::string format = "png";
};

struct SimilarityResult {
  std::string a, b;  // b "" when A was compared with itself
  std::string arch_a, arch_b;
  std::string preset_a, preset_b;
  CkaOptions cka;
  int64_t batch = 0;
  std::vector<std::string> rows;                           // A's layers
  std::vector<std::string> cols;                           // B's layers (A's again without B)
  std::vector<std::vector<std::optional<double>>> values;  // [rows][cols]; nullopt: undefined
  int64_t listed = 0;                 // images in the sorted list (after `limit`)
  int64_t used = 0;                   // images that entered the estimate
  int64_t batches = 0;                // minibatches that entered it
  int64_t left_out = 0;               // read but in a run of one size too small for the estimator
  std::vector<SkippedImage> skipped;  // unreadable
  std::string figure;                 // the heat map as written
  std::string json;                   // similarity.json as written
};

// Checks every option before any work; throws Error (naming the file where there is one). Writes
// OUT/similarity.json and OUT/similarity.<format> atomically (the folder appears whole or not).
SimilarityResult run_similarity(const SimilarityOptions& options, const StepFn& on_step = {});

// CKA of each checkpoint's layers to the same layers of the last checkpoint (the last's own row
// is 1 where defined). `layers` are chosen on the last checkpoint's network; a checkpoint whose
// network lacks one gets nullopt there.
struct SeriesSimilarity {
  std::vector<std::string> layers;
  std::vector<std::vector<std::optional<double>>> values;  // [checkpoint][layer]
  int64_t used = 0;                                        // images in the estimate
  std::string preset;
  std::vector<SkippedImage> skipped;  // unreadable
};
SeriesSimilarity series_similarity(const std::vector<std::string>& checkpoints,
                                   const SimilarityInputs& inputs, const StepFn& on_step = {});

// similarity.json:
// {"format":"cnnscope-similarity","version":1,"a","b","arch_a","arch_b","preset_a","preset_b","kernel","unbiased",
// "rbf_threshold","batch","images":{"listed","used","left_out","skipped":[{"image","error"}]},
// "rows","cols","cka":[[...]],"figure"}; undefined values null.
nlohmann::ordered_json similarity_json(const SimilarityResult& result);

// Reads what similarity_json wrote (the matrix, the files, archs, kernel, images used). Throws
// Error naming `path` for anything else: not a regular file, not JSON, another format or version,
// a field of the wrong type, rows and columns that do not fit.
SimilarityResult read_similarity_json(const std::string& path);

}  // namespace cnnscope::app
