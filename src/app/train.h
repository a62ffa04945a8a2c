// The `train` job: a zoo network trained on an ImageFolder tree or MNIST IDX files
// (dataset/data.h) with LibTorch's Adam or SGD and cross-entropy, validated each epoch with the
// model's preset; writes epoch_NNN.pth (epoch_000.pth: the initial weights), best.pth, last.pth
// (a resumable training checkpoint in PyTorch's layout), run.json (checkpoint/run_info.h),
// class_indices.json, metrics.json and TensorBoard scalars, weight histograms and filter images
// (app/run_folder.h). Leaves out: learning-rate schedules, mixed precision, several devices.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "app/steps.h"

namespace cnnscope::app {

struct TrainOptions {
  std::string arch;  // one of models::known_archs()
  std::string data;  // ImageFolder tree or IDX folder
  std::string out;   // run folder
  int64_t epochs = 10;
  int64_t batch_size = 32;
  std::string optimizer = "adam";  // adam | sgd
  double lr = 0.0002;
  double momentum = 0.9;  // sgd
  double weight_decay = 0;
  int64_t input_size = 0;        // 0: the model's preset; else Resize((N, N)) and crops of N
  std::string augment = "seed";  // seed | none
  double val_split = 0.1;
  std::string init;        // a state_dict to start from ("" = the family's initialization)
  std::string resume;      // a last.pth to continue from (RUN/last.pth into RUN: in place)
  bool overwrite = false;  // remove an earlier run's outputs from `out` first (holds_run())
  uint64_t seed = 0;
  bool shuffle = true;
  int64_t max_steps = 0;  // 0: no limit
  int threads = 0;        // 0: LibTorch's default
  std::string device = "cpu";
  const std::atomic<bool>* stop = nullptr;         // set (SIGINT): stop before the next batch
  std::function<void(const std::string&)> warn{};  // an unreadable image, ...
};

struct EpochMetrics {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0, train_acc = 0, val_loss = 0, val_acc = 0;
  double seconds = 0, images_per_second = 0;
  int64_t skipped_images = 0;
};

struct TrainResult {
  std::string arch;
  std::vector<std::string> classes;
  int64_t train_images = 0, val_images = 0;
  std::vector<EpochMetrics> epochs;  // every finished epoch, resumed ones included
  double best_val_acc = 0;
  bool stopped = false;  // interrupted: the last epoch was not finished (nothing written for it)
  std::string out;
};

// Called after each batch: (batches in this epoch, "epoch E loss L").
// Throws Error on bad data, an unknown arch, an --init / --resume of another architecture.
TrainResult train(const TrainOptions& options, const StepFn& step = {},
                  const std::function<void(const EpochMetrics&)>& on_epoch = {});

}  // namespace cnnscope::app
