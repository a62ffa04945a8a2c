// A list of images streamed through a network in batches: worker threads (common/parallel.h)
// decode the next batch while the current one runs, a file that cannot be read is reported and
// skipped, and consecutive images of one size go on together. One home for this loop: `scan` and
// `similarity` both use it. Memory: two batches of inputs, whatever the number of images.
// Leaves out: listing the images (app/scan_plan.h) and what is done with each batch.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "app/scan_plan.h"
#include "image/preprocess_spec.h"

namespace cnnscope::app {

struct ImageStreamCalls {
  // One run of images of one size: per preprocessing asked for, the inputs stacked [B, C, H, W];
  // `indices` are the images' positions in the list.
  std::function<void(const std::vector<at::Tensor>& batches, const std::vector<int64_t>& indices)>
      batch;
  // An image that could not be read (index in the list, the one-line error).
  std::function<void(int64_t index, const std::string& error)> skipped;
  // After each image is decoded or skipped (progress).
  std::function<void(const std::string& path)> step;
};

// Streams `picks` (positions in `list`) in batches of at most `batch` images, each image decoded
// once per entry of `preprocess` (two networks with different presets see the same image set).
void stream_images(const std::vector<ScanImage>& list, const std::vector<int64_t>& picks,
                   const std::vector<PreprocessOptions>& preprocess, int64_t batch,
                   const ImageStreamCalls& calls);

}  // namespace cnnscope::app
