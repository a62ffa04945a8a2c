// predict_top (see predictions.h). Spec: torch.softmax over the class dimension, then
// torch.topk (ties: the lower index first, as topk on CPU returns them).
#include "app/predictions.h"

#include <torch/torch.h>

#include "app/image_list.h"
#include "common/error.h"

namespace cnnscope::app {
namespace {

std::vector<double> as_doubles(const at::Tensor& t) {
  const at::Tensor d = t.to(at::kDouble).contiguous();  // [classes]
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

}  // namespace

Predictions predict_top(const at::Tensor& logits, int64_t k,
                        const std::vector<std::string>& labels) {
  if (k < 1) fail("", "top classes listed must be at least 1, got " + std::to_string(k));
  const at::Tensor probs = torch::softmax(logits, 0);                           // [classes]
  const auto [top_p, top_i] = probs.topk(std::min<int64_t>(k, probs.size(0)));  // [k], [k]
  Predictions out{as_doubles(logits), as_doubles(probs), {}};
  for (int64_t j = 0; j < top_p.size(0); ++j) {
    const int64_t i = top_i[j].item<int64_t>();
    out.top.push_back({i, labels.empty() ? std::to_string(i) : labels[static_cast<size_t>(i)],
                       top_p[j].item<double>()});
  }
  return out;
}

std::vector<ImagePredictions> predict_images(const models::Network& net,
                                             const std::vector<std::string>& images,
                                             const PreprocessOptions& preprocess, int64_t k,
                                             const std::vector<std::string>& labels) {
  std::vector<ImagePredictions> out;
  const auto load = [&](size_t i) { return load_input(images[i], preprocess); };  // [C, H, W]
  const auto shape = [](const at::Tensor& input) { return input.sizes().vec(); };
  for_each_batch(images.size(), kPredictBatch, load, shape,
                 [&](size_t first, const std::vector<at::Tensor>& batch) {
                   const at::Tensor logits = net.run(at::stack(batch)).logits;  // [B, classes]
                   for (size_t i = 0; i < batch.size(); ++i)
                     out.push_back({images[first + i],
                                    predict_top(logits[static_cast<int64_t>(i)], k, labels)});
                 });
  return out;
}

}  // namespace cnnscope::app
