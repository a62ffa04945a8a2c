// Activation statistics with LibTorch reductions in float64 (ddof=1 std, exact-zero fraction).
// Leaves out: streaming over batches. Spec: torch.mean/std/amin/amax semantics.
#include "stats/activation_stats.h"

#include <ATen/core/grad_mode.h>

#include "common/error.h"

#include <algorithm>
#include <numeric>

namespace cnnscope {
namespace {

// Rows of `values` [R, K] float64 -> one ValueStats per row.
std::vector<ValueStats> row_stats(const at::Tensor& values) {
  const int64_t count = values.size(1);
  const at::Tensor mean = values.mean(1);                              // [R]
  const at::Tensor std = count > 1 ? values.std(1, /*unbiased=*/true)  // [R]
                                   : at::zeros_like(mean);
  const at::Tensor min = values.amin(1);  // [R]
  const at::Tensor max = values.amax(1);  // [R]
  const at::Tensor zeros = values.eq(0).sum(1).to(at::kDouble) / static_cast<double>(count);
  const auto m = mean.accessor<double, 1>(), s = std.accessor<double, 1>();
  const auto lo = min.accessor<double, 1>(), hi = max.accessor<double, 1>();
  const auto z = zeros.accessor<double, 1>();
  std::vector<ValueStats> out(static_cast<size_t>(values.size(0)));
  for (int64_t r = 0; r < values.size(0); ++r)
    out[static_cast<size_t>(r)] = ValueStats{m[r], s[r], lo[r], hi[r], z[r]};
  return out;
}

}  // namespace

ActivationStats activation_stats(const at::Tensor& activation) {
  if (activation.dim() == 0 || activation.numel() == 0)
    fail("", "cannot compute statistics of an empty activation",
         "expected a [C, H, W] tensor with at least one element");
  if (!activation.is_floating_point())
    fail("", std::string("activation statistics need a floating tensor, got ") +
                 std::string(c10::toString(activation.scalar_type())));
  at::NoGradGuard no_grad;
  const at::Tensor values = activation.detach().to(at::kCPU, at::kDouble).contiguous();
  ActivationStats out;
  out.shape = activation.sizes().vec();
  out.channels = row_stats(values.reshape({values.size(0), -1}));  // [C, H*W]
  out.layer = row_stats(values.reshape({1, -1})).front();          // [1, C*H*W]
  return out;
}

std::vector<int64_t> top_channels(const ActivationStats& stats, int64_t n) {
  std::vector<int64_t> order(stats.channels.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return stats.channels[static_cast<size_t>(a)].mean >
           stats.channels[static_cast<size_t>(b)].mean;
  });
  order.resize(static_cast<size_t>(std::clamp<int64_t>(n, 0, static_cast<int64_t>(order.size()))));
  return order;
}

}  // namespace cnnscope
