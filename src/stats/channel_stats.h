// Streaming per-channel statistics of feature maps over a whole data set: count, mean, M2 (sum of
// squared deviations), min, max and positive count in double, combined batch by batch and across
// shards with Chan et al.'s parallel variance update; and each channel's top-k images by spatial
// maximum with the position of that maximum. Leaves out: reading images and networks (app/scan),
// histograms (stats/histogram). Spec: Chan, Golub, LeVeque, "Updating formulae and a pairwise
// algorithm for computing sample variances" (1979); std with ddof=1 as torch.std.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace cnnscope {

// One channel's moments. Empty (count 0) merges as the identity.
struct ChannelMoments {
  int64_t count = 0;
  double mean = 0;
  double m2 = 0;  // sum of (x - mean)^2
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  int64_t positive = 0;  // values > 0

  double std() const;  // ddof=1; 0 for fewer than 2 values
  double positive_fraction() const;
  bool dead() const { return count > 0 && (max <= 0 || m2 == 0); }  // never fires, or constant
  bool always_on() const { return count > 0 && min > 0; }
};

// Chan et al.: `into` becomes the moments of both sets.
void merge_moments(ChannelMoments& into, const ChannelMoments& other);

// Moments of each channel (dimension 1) of `maps` [N, C, ...] (any floating dtype), over images
// and positions, computed in float64. One entry per channel.
std::vector<ChannelMoments> channel_moments(const at::Tensor& maps);

// One of a channel's top images: its spatial maximum and where it is (first in row-major order).
struct TopHit {
  double value = 0;
  int64_t image = 0;  // index in the scan's sorted image list
  int64_t y = 0, x = 0;
};

// Ordered by value, largest first; ties: lower image index first.
bool hit_before(const TopHit& a, const TopHit& b);

// A channel's k best hits, kept sorted by hit_before.
class TopK {
 public:
  explicit TopK(int64_t k = 0) : k_(k) {}
  void offer(const TopHit& hit);
  void merge(const TopK& other);
  const std::vector<TopHit>& hits() const { return hits_; }
  int64_t k() const { return k_; }

 private:
  int64_t k_;
  std::vector<TopHit> hits_;
};

// Offers every image of `maps` [B, C, H, W] to `top` (one TopK per channel): per image and channel
// the spatial maximum (NaN ignored) and its first position. `images[b]` is image b's index.
void offer_spatial_maxima(const at::Tensor& maps, const std::vector<int64_t>& images,
                          std::vector<TopK>& top);

}  // namespace cnnscope
