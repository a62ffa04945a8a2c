// The `report` job: one self-contained HTML page for a checkpoint (architecture table, weight
// statistics with histograms, first-layer filters, and per image the input as the network saw it,
// predictions and feature maps), optionally TensorBoard event files. A checkpoint outside the zoo
// still gets its weights part; an image that cannot be used is reported in the page and through
// `on_warning`, not fatal. Leaves out: the page's markup (export/html_report.h).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/predictions.h"
#include "app/steps.h"
#include "image/preprocess_spec.h"
#include "render/feature_grid.h"
#include "stats/histogram.h"

namespace cnnscope::app {

struct ReportOptions {
  std::string checkpoint;
  std::vector<std::string> images;
  std::string out = "report.html";
  std::string tensorboard;              // "" = none
  std::string arch;                     // "" = detected
  std::optional<bool> transform_input;  // GoogLeNet / Inception v3 (BuildOptions)
  PreprocessSpec preprocess;
  std::string layers;   // feature-map layers; "" = the family's defaults
  std::string classes;  // labels file; "" = class indices
  int64_t topk = kDefaultTopK;
  int64_t channels = kDefaultFeatureChannels;
  std::string cmap = "viridis";
  int bins = kDefaultHistogramBins;
  std::string scan;      // a `scan`/`merge` output folder: adds the "Data set" section; "" = none
  bool spectra = false;  // the "Layers" section's spectral health
  // a `similarity` output folder (its CKA matrix) or an `evolve` one with layers.json (alpha and
  // CKA over the series), shown in "Layers"; "" = none
  std::string similarity;
};

struct ReportResult {
  std::string html;         // the page written
  std::string tensorboard;  // the event file written, or ""
};

ReportResult write_report(const ReportOptions& options,
                          const std::function<void(const std::string&)>& on_warning = {},
                          const StepFn& on_step = {});

}  // namespace cnnscope::app
