// The `scan` job: a whole image set (a folder, recursively, class subfolders as labels; or a text
// list of paths) streamed in batches through the network, and per chosen layer and channel the
// statistics over all images and positions (count, mean, std, min, max, positive fraction, dead,
// always on), the top-k images by spatial maximum with its position, and per class folder each
// channel's mean; written as DIR/scan.json. `--shard I/N` scans every N-th image from the I-th
// (1-based) of the sorted list (app/scan_plan.h). Where a layer's receptive field is known
// (models/receptive_field.h), each top hit's input patch, drawn per layer as OUT/<layer>_top.png
// (app/scan_mosaic.h). A BatchNorm2d layer also gets its running mean/var against the mean/var
// observed at its input. Leaves out: printing (cli/scan.cpp), scan.json (app/scan_json.h), the
// report section (app/scan_html.h), combining shards (app/scan_merge.h). Spec: the `scan` section
// of docs/DESIGN.md.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/scan_plan.h"
#include "app/steps.h"
#include "image/preprocess_spec.h"
#include "models/receptive_field.h"
#include "stats/channel_stats.h"

namespace cnnscope::app {

constexpr int64_t kMaxScanTopk = 1000;  // top images kept per channel

struct ScanOptions {
  std::string checkpoint;
  std::string images;                   // a folder (recursive) or a text file, one path a line
  std::string arch;                     // "" = detected
  std::optional<bool> transform_input;  // GoogLeNet / Inception v3 (BuildOptions)
  PreprocessSpec preprocess;
  std::string layers;  // "" = the family's defaults, "all", or L1,L2,...
  int64_t topk = 9;
  int64_t batch = 32;
  int64_t threads = 0;        // LibTorch threads; 0 = its default
  std::string shard = "1/1";  // I/N
  std::string out = "scan";
};

// A BatchNorm2d layer's running statistics (from the checkpoint) against the statistics observed
// at its input (the output of the leaf module right before it in the same parent, a Conv2d).
struct ScanBatchNorm {
  std::string input;  // the module whose output the BatchNorm normalizes
  double eps = 1e-5;
  std::vector<double> running_mean, running_var;  // [C]
  std::vector<ChannelMoments> observed;           // [C], over images and positions
};

struct ScanLayer {
  std::string name;
  std::vector<int64_t> shape;                   // [C, H, W] of the first image scanned
  std::vector<ChannelMoments> channels;         // one per channel
  std::vector<TopK> top;                        // one per channel
  std::optional<models::ReceptiveField> field;  // none where the layer is reached by branches
  // {image, y, x} of a top hit -> its input patch [y0, x0, y1, x1) (end exclusive, clipped)
  std::map<std::array<int64_t, 3>, std::array<int64_t, 4>> patches;
  std::string mosaic;  // OUT/<layer>_top.png as written, or "" (no field; merged results)
  std::optional<ScanBatchNorm> batchnorm;  // for a BatchNorm2d layer with a known input
};

// One class folder: its images and, per layer, each channel's sum over its images and positions.
struct ScanClass {
  int64_t images = 0;
  std::map<std::string, int64_t> positions;         // per layer: values per channel
  std::map<std::string, std::vector<double>> sums;  // per layer: [C]
};

struct SkippedImage {
  std::string image;
  std::string error;
};

struct ScanResult {
  std::string checkpoint;
  int64_t checkpoint_bytes = 0;
  std::string arch;
  std::string preset;
  int64_t topk = 0;
  int64_t shard_count = 1;
  std::vector<int64_t> shards;  // 1-based shard indices this result covers, ascending
  int64_t listed = 0;           // images in the whole sorted list (all shards)
  std::string list_hash;        // FNV-1a 64 of the list, hex: shards of one plan share it
  int64_t selected = 0;         // images of the covered shards
  int64_t scanned = 0;          // of those, read and run
  std::vector<SkippedImage> skipped;
  std::vector<ScanLayer> layers;
  std::map<std::string, ScanClass> classes;   // by class folder name; empty without subfolders
  std::map<int64_t, std::string> hit_images;  // list index -> path, for every top-k hit
  std::string json;                           // the scan.json written
};

// Checks every option before any work; throws Error (naming the file where there is one). One bad
// image is skipped and listed, not an error. Writes OUT/scan.json atomically.
ScanResult run_scan(const ScanOptions& options, const StepFn& on_step = {});

}  // namespace cnnscope::app
