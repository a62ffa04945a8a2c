// The `explain` job: images (batched when of one size) through the network, the target class per
// image (--class or the top-1), and per method the map (explain/methods.h) written as figures (a
// CAM over the image as the network saw it and alone; a pixel attribution as a signed and an
// absolute map) and, with npy, as arrays. Leaves out: printing (cli/explain.cpp), several CAM
// layers at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/steps.h"
#include "explain/methods.h"
#include "image/preprocess_spec.h"

namespace cnnscope::app {

struct ExplainOptions {
  std::string checkpoint;
  std::vector<std::string> images;      // files or folders (expand_images)
  std::string arch;                     // "" = detected
  std::optional<bool> transform_input;  // GoogLeNet / Inception v3 (BuildOptions)
  PreprocessSpec preprocess;
  std::string classes;                          // labels file, "" = class indices as labels
  std::vector<std::string> methods{"gradcam"};  // explain::method_names()
  std::string layer;                            // CAM layer, "" = explain::default_cam_layer
  std::optional<int64_t> target;                // --class; unset: each image's top-1
  explain::AttributionOptions attribution;      // --steps, --samples, --noise, --batch
  std::string out = "explain";
  bool npy = false;          // also <method>.npy (and <method>_layer.npy for CAMs)
  std::string cmap = "jet";  // the CAM's heat map and the absolute attribution map
  double alpha = 0.5;        // the heat map's weight over the image (1 - image_weight)
};

struct MethodExplanation {
  std::string method;
  std::string layer;               // CAM layer, "" for pixel attributions
  std::vector<std::string> files;  // written, in order
  std::optional<double> delta;     // integrated gradients' convergence delta
};

struct ImageExplanation {
  std::string image;  // as given
  std::string out;    // its output folder
  int64_t target = 0;
  std::string label;
  double score = 0;  // softmax probability of `target`
  std::vector<MethodExplanation> methods;
};

struct ExplainResult {
  std::string checkpoint;
  std::vector<ImageExplanation> images;
};

// Checks every option (methods, layer, class, cmap, alpha, steps, ...) before any work; throws
// Error (naming the file where there is one).
ExplainResult run_explain(const ExplainOptions& options, const StepFn& on_step = {});

}  // namespace cnnscope::app
