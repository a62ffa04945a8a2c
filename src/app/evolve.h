// The `evolve` job: a series of checkpoints in order (files as given, or a folder sorted
// naturally by name, or by the `epoch` value every file holds) and, per tensor and checkpoint,
// mean, std (ddof=1), L2, relative change from the first and from the previous checkpoint, and a
// histogram on bins shared across the series. Optional figures (drift curves per layer, a step x
// bin heat map per tensor, the first conv's filters per step as frames and an APNG animation),
// one self-contained HTML page, and TensorBoard steps. Streams: at most two checkpoints are loaded
// at a time (two passes over the series). Mismatched series are reported, not fatal. Optionally,
// how the layers settled: each layer's power-law alpha per checkpoint (app/spectra.h), and each
// layer's CKA to the last checkpoint over an image set (app/similarity.h), as curves, JSON
// (OUT/layers.json) and TensorBoard scalars.
// Leaves out: printing (cli/evolve.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/similarity.h"
#include "app/spectra.h"
#include "app/steps.h"
#include "render/chart.h"
#include "stats/histogram.h"

namespace cnnscope::app {

struct EvolveOptions {
  std::vector<std::string> inputs;  // checkpoint files in order, or one folder
  std::vector<std::string> keys;    // globs over the first checkpoint's keys; empty: all
  int bins = kDefaultHistogramBins;
  std::string out;  // figures and evolve.html; "" = none
  std::string format = "png";
  std::string tensorboard;  // "" = none
  int frame_ms = 500;       // filter animation: time per checkpoint
  bool spectra = false;     // alpha per layer per checkpoint
  // CKA of each checkpoint's layers to the last's over these images; unset: none.
  std::optional<SimilarityInputs> similarity;
};

struct EvolveTensor {
  std::string name;
  std::vector<int64_t> shape;  // in the first checkpoint
  // One entry per checkpoint; nullopt where the tensor is missing (or, for the relative changes,
  // where its shape differs or the reference is all zeros).
  std::vector<std::optional<double>> mean, std, l2, rel_change_from_first, rel_change_from_previous;
  std::vector<double> edges;                 // [bins + 1], shared by the whole series
  std::vector<std::vector<int64_t>> counts;  // [checkpoints][bins]; all zero where missing
};

struct EvolveResult {
  std::vector<std::string> checkpoints;  // in series order
  std::vector<int64_t> steps;            // epochs, numbers from the names, or 0, 1, ...
  std::string step_source;               // "epoch" | "file name" | "position"
  std::vector<EvolveTensor> tensors;     // BatchNorm step counters left out
  std::vector<std::string> problems;     // missing keys, shape changes
  std::vector<std::string> figures;      // files written into options.out
  std::string html;                      // the page, or ""
  std::string tensorboard;               // the event file, or ""
  std::optional<SeriesSpectra> spectra;
  std::optional<SeriesSimilarity> similarity;
};

// Throws Error naming the file on an unreadable checkpoint, fewer than two checkpoints, a glob
// that matches nothing in the first, or bad options.
EvolveResult evolve_checkpoints(const EvolveOptions& options, const StepFn& on_step = {});

// The series order and steps alone (for tests and `evolve --json`): files as given, or a folder's
// checkpoint files (.pth .pt .ckpt .bin .tar .safetensors; a training run's best.pth and last.pth
// left out) sorted naturally (epoch_2 before epoch_10), then by `epoch` when every file holds one.
struct CheckpointSeries {
  std::vector<std::string> files;
  std::vector<int64_t> steps;
  std::string step_source;
};
CheckpointSeries order_series(const std::vector<std::string>& inputs);

// How the layers settled, as `evolve --json` and OUT/layers.json give it: {"format":
// "cnnscope-evolve-layers","version":1,"checkpoints","steps","spectra": null |
// {"layers","alpha":[[per layer] per checkpoint]}, "similarity": null | {"layers","images",
// "preset","kernel","unbiased","cka":[[per layer] per checkpoint]}}; undefined values null.
nlohmann::ordered_json evolve_layers_json(const EvolveResult& result, const EvolveOptions& options);

// What a layers.json holds, read back for `report` (a file from anywhere: regular files only,
// size bounded, every field type-checked; throws Error naming `path` otherwise).
struct EvolveLayers {
  std::vector<std::string> checkpoints;
  std::vector<int64_t> steps;
  std::optional<SeriesSpectra> spectra;
  std::optional<SeriesSimilarity> similarity;
};
EvolveLayers read_evolve_layers_json(const std::string& path);

// The curves of those: one series per layer over the checkpoints (NaN where undefined).
std::vector<cnnscope::Series> alpha_curves(const SeriesSpectra& spectra);
std::vector<cnnscope::Series> similarity_curves(const SeriesSimilarity& similarity);

}  // namespace cnnscope::app
