// The `features` job: images (batched) through the network, the chosen layers captured, and per
// image and layer a grid figure, optionally the activation as .npy, typed statistics, and the
// figures as TensorBoard images. Leaves out: printing (cli/features.cpp builds text or JSON from
// the typed result).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/steps.h"
#include "image/preprocess_spec.h"
#include "models/network.h"
#include "render/feature_grid.h"
#include "stats/activation_stats.h"

namespace cnnscope::app {

constexpr int64_t kDefaultFeatureBatch = 8;

struct FeaturesOptions {
  std::string checkpoint;
  std::vector<std::string> images;      // files or folders (expand_images)
  std::string arch;                     // "" = detected
  std::optional<bool> transform_input;  // GoogLeNet / Inception v3 (BuildOptions)
  PreprocessSpec preprocess;
  std::string layers;  // "" = the family's defaults, "all", or L1,L2,...
  int64_t channels = kDefaultFeatureChannels;
  std::string pick = "first";  // first | top (largest mean activation)
  std::string cmap = "viridis";
  std::string scale = "channel";  // channel | layer
  std::string format = "png";     // png | svg | pdf
  bool npy = false;               // also <layer>.npy, float32 [C, H, W]
  int64_t batch = kDefaultFeatureBatch;
  std::string out = "features";
  std::string tensorboard;  // "" = none; needs png figures
};

struct LayerFeatures {
  std::string name;
  ActivationStats stats;       // [C, H, W] layer and per-channel figures
  int64_t dead_channels = 0;   // channels that are zero everywhere
  std::vector<int64_t> shown;  // channel indices in the figure, in its order
  std::string figure;          // path written
  std::string npy;             // path written, or "" without --npy
};

struct ImageFeatures {
  std::string image;  // as given
  std::string out;    // its output folder
  std::vector<LayerFeatures> layers;
};

struct FeaturesResult {
  models::ArchInfo info;
  std::string preset;               // the preprocessing's name
  std::vector<std::string> layers;  // as selected
  std::vector<ImageFeatures> images;
  std::string tensorboard;  // the event file written, or ""
};

// One layer of one image without writing anything (also `cnnscope serve`): its statistics, dead
// channels, the channels shown (options.channels, options.pick) and the grid figure's options;
// figure and npy left empty.
struct LayerView {
  LayerFeatures features;
  FeatureGridOptions grid;
};
LayerView view_layer(const FeaturesOptions& options, const std::string& image_name,
                     const std::string& layer, const at::Tensor& activation /* [C, H, W] */);

// Throws Error on a bad channels, pick, cmap or scale (what view_layer reads).
void check_view_options(const FeaturesOptions& options);

// Checks every option before any work; throws Error (naming the file where there is one).
FeaturesResult run_features(const FeaturesOptions& options, const StepFn& on_step = {});

}  // namespace cnnscope::app
