// A training run's folder, as `train` writes it and `evolve` reads it: epoch_NNN.pth (epoch 0 the
// initial weights), best.pth, last.pth (the resumable training checkpoint), metrics.json,
// class_indices.json, run.json (checkpoint/run_info.h) and tensorboard/. Names, the test for "a
// run is already here", the metrics file. Leaves out: the checkpoints' contents (app/train.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/train.h"

namespace cnnscope::app {

inline constexpr char kBestCheckpoint[] = "best.pth";
inline constexpr char kLastCheckpoint[] = "last.pth";
inline constexpr char kMetricsFile[] = "metrics.json";
inline constexpr char kClassIndicesFile[] = "class_indices.json";
inline constexpr char kTensorBoardFolder[] = "tensorboard";

// "DIR/epoch_007.pth".
std::string epoch_checkpoint(const std::string& dir, int64_t epoch);

// Whether `dir` holds a training run's outputs (run.json, last.pth or metrics.json).
bool holds_run(const std::string& dir);

// Removes the outputs of an earlier run from `dir` (checkpoints, metrics, run.json, TensorBoard
// events), keeping anything else; throws Error naming a file it cannot remove.
void clear_run(const std::string& dir);

// metrics.json: {"epochs": [{epoch, train_loss, ...}, ...]}.
std::string metrics_json(const std::vector<EpochMetrics>& epochs);

// The epochs 1..up_to of a metrics.json (none when it is missing or not one).
std::vector<EpochMetrics> read_metrics(const std::string& path, int64_t up_to);

}  // namespace cnnscope::app
