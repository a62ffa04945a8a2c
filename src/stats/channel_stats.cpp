// Streaming channel moments (Chan et al.'s pairwise update) and top-k spatial maxima. Batch moments
// come from LibTorch reductions in float64; the maxima from one pass over float32 values, so
// positions are the first maximum in row-major order whatever the reduction kernel. Spec:
// channel_stats.h.
#include "stats/channel_stats.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace cnnscope {

double ChannelMoments::std() const {
  return count > 1 ? std::sqrt(m2 / static_cast<double>(count - 1)) : 0.0;
}

double ChannelMoments::positive_fraction() const {
  return count > 0 ? static_cast<double>(positive) / static_cast<double>(count) : 0.0;
}

void merge_moments(ChannelMoments& into, const ChannelMoments& other) {
  if (other.count == 0) return;
  if (into.count == 0) {
    into = other;
    return;
  }
  const double na = static_cast<double>(into.count), nb = static_cast<double>(other.count);
  const double n = na + nb;
  const double delta = other.mean - into.mean;
  into.mean += delta * nb / n;
  into.m2 += other.m2 + delta * delta * na * nb / n;
  into.count += other.count;
  into.min = std::min(into.min, other.min);
  into.max = std::max(into.max, other.max);
  into.positive += other.positive;
}

std::vector<ChannelMoments> channel_moments(const at::Tensor& maps) {
  if (maps.dim() < 2 || maps.numel() == 0)
    fail("", "channel statistics need a non-empty [N, C, ...] tensor");
  const int64_t channels = maps.size(1);
  // Reduced over every dimension but the channel's, in place: no transposed copy of the batch.
  std::vector<int64_t> dims{0};
  std::vector<int64_t> per_channel(static_cast<size_t>(maps.dim()), 1);  // [1, C, 1, ...]
  per_channel[1] = channels;
  for (int64_t d = 2; d < maps.dim(); ++d) dims.push_back(d);
  const at::Tensor values = maps.to(at::kDouble);  // [N, C, ...]; no copy when already double
  const int64_t count = values.numel() / channels;
  const at::Tensor mean = values.sum(dims) / static_cast<double>(count);       // [C]
  const at::Tensor m2 = (values - mean.view(per_channel)).square().sum(dims);  // [C]
  const at::Tensor lo = values.amin(dims), hi = values.amax(dims);             // [C] each
  const at::Tensor positive = values.gt(0).sum(dims);                          // [C] int64
  const auto m = mean.accessor<double, 1>(), s = m2.accessor<double, 1>();
  const auto mn = lo.accessor<double, 1>(), mx = hi.accessor<double, 1>();
  const auto p = positive.accessor<int64_t, 1>();
  std::vector<ChannelMoments> out(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c)
    out[static_cast<size_t>(c)] = ChannelMoments{count, m[c], s[c], mn[c], mx[c], p[c]};
  return out;
}

bool hit_before(const TopHit& a, const TopHit& b) {
  if (a.value != b.value) return a.value > b.value;
  return a.image < b.image;
}

void TopK::offer(const TopHit& hit) {
  if (k_ <= 0) return;
  if (static_cast<int64_t>(hits_.size()) == k_ && !hit_before(hit, hits_.back())) return;
  hits_.insert(std::upper_bound(hits_.begin(), hits_.end(), hit, hit_before), hit);
  if (static_cast<int64_t>(hits_.size()) > k_) hits_.pop_back();
}

void TopK::merge(const TopK& other) {
  for (const TopHit& hit : other.hits_) offer(hit);
}

void offer_spatial_maxima(const at::Tensor& maps, const std::vector<int64_t>& images,
                          std::vector<TopK>& top) {
  if (maps.dim() != 4 || maps.size(0) != static_cast<int64_t>(images.size()) ||
      maps.size(1) != static_cast<int64_t>(top.size()))
    fail("", "spatial maxima need [B, C, H, W] with one image index per B and a TopK per C");
  const at::Tensor values = maps.to(at::kFloat).contiguous();  // [B, C, H, W]
  const int64_t batch = values.size(0), channels = values.size(1);
  const int64_t width = values.size(3), plane = values.size(2) * width;
  const float* data = values.data_ptr<float>();
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t c = 0; c < channels; ++c) {
      const float* v = data + (b * channels + c) * plane;
      int64_t best = -1;
      for (int64_t i = 0; i < plane; ++i)
        if (!std::isnan(v[i]) && (best < 0 || v[i] > v[best])) best = i;
      if (best < 0) continue;
      top[static_cast<size_t>(c)].offer(
          TopHit{v[best], images[static_cast<size_t>(b)], best / width, best % width});
    }
  }
}

}  // namespace cnnscope
