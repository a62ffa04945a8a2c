// stream_images (see image_stream.h): one batch decoded ahead on std::async while the caller runs
// the current one; same-size runs split with same_shape_batches (app/image_list.h).
#include "app/image_stream.h"

#include <future>

#include "app/image_list.h"
#include "common/error.h"
#include "common/parallel.h"
#include "image/input.h"

namespace cnnscope::app {
namespace {

// A decoded image of the batch (one input per preprocessing), or why it could not be read.
struct Decoded {
  int64_t index = 0;               // in the list
  std::vector<at::Tensor> inputs;  // each [C, H, W]; empty when skipped
  std::string error;
};

std::vector<Decoded> decode(const std::vector<ScanImage>& list, const std::vector<int64_t>& picks,
                            const std::vector<PreprocessOptions>& preprocess) {
  std::vector<Decoded> out(picks.size());
  for_each_parallel(picks.size(), [&](size_t i) {
    out[i].index = picks[i];
    try {
      for (const PreprocessOptions& pre : preprocess)
        out[i].inputs.push_back(load_input(list[static_cast<size_t>(picks[i])].path, pre));
    } catch (const Error& e) {
      out[i].inputs.clear();
      out[i].error = e.what();
    }
  });
  return out;
}

// Runs of equal shapes (over every preprocessing) among the decoded images, handed on stacked.
void hand_on(std::vector<Decoded>& decoded, const ImageStreamCalls& calls, size_t streams) {
  std::vector<Decoded*> ok;
  std::vector<std::vector<int64_t>> shapes;
  for (Decoded& d : decoded) {
    if (d.inputs.empty()) continue;
    std::vector<int64_t> shape;
    for (const at::Tensor& input : d.inputs)
      for (const int64_t size : input.sizes()) shape.push_back(size);
    shapes.push_back(std::move(shape));
    ok.push_back(&d);
  }
  for (const auto& [begin, end] : same_shape_batches(shapes)) {
    std::vector<at::Tensor> batches;
    for (size_t s = 0; s < streams; ++s) {
      std::vector<at::Tensor> inputs;
      for (size_t i = begin; i < end; ++i) inputs.push_back(std::move(ok[i]->inputs[s]));
      batches.push_back(at::stack(inputs));  // [B, C, H, W]
    }
    std::vector<int64_t> indices;
    for (size_t i = begin; i < end; ++i) indices.push_back(ok[i]->index);
    calls.batch(batches, indices);
  }
}

}  // namespace

void stream_images(const std::vector<ScanImage>& list, const std::vector<int64_t>& picks,
                   const std::vector<PreprocessOptions>& preprocess, int64_t batch,
                   const ImageStreamCalls& calls) {
  const auto size = static_cast<size_t>(batch > 0 ? batch : 1);
  const auto batch_of = [&](size_t b) {
    const size_t begin = b * size;
    const size_t end = std::min(picks.size(), begin + size);
    return std::vector<int64_t>(picks.begin() + static_cast<std::ptrdiff_t>(begin),
                                picks.begin() + static_cast<std::ptrdiff_t>(end));
  };
  const size_t batches = (picks.size() + size - 1) / size;
  std::future<std::vector<Decoded>> next;
  if (batches > 0)
    next =
        std::async(std::launch::async, decode, std::cref(list), batch_of(0), std::cref(preprocess));
  for (size_t b = 0; b < batches; ++b) {
    std::vector<Decoded> decoded = next.get();
    if (b + 1 < batches)
      next = std::async(std::launch::async, decode, std::cref(list), batch_of(b + 1),
                        std::cref(preprocess));
    for (const Decoded& d : decoded) {
      if (d.inputs.empty() && calls.skipped) calls.skipped(d.index, d.error);
      if (calls.step) calls.step(list[static_cast<size_t>(d.index)].path);
    }
    hand_on(decoded, calls, preprocess.size());
  }
}

}  // namespace cnnscope::app
