// stored_view: the values a tensor view reads, each once, without materialising the view: the
// dimensions of stride 0 (an expanded view, `expand` or a crafted checkpoint's strides) cut to
// size 1, and how many times the view repeats each of them. Internal to src/stats/: statistics
// and histograms of the view are those of `values` with every count times `repeat`.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "common/error.h"

namespace cnnscope::stats_detail {

struct StoredView {
  at::Tensor values;   // at most as many elements as the storage holds
  int64_t repeat = 1;  // view numel = values numel * repeat
};

// Throws Error for a view that, once cut, still reads more elements than its storage holds
// (other overlapping strides): its values would have to be copied out, which no bound limits.
inline StoredView stored_view(const at::Tensor& t) {
  StoredView out{t, 1};
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.stride(d) == 0 && t.size(d) > 1) {
      out.repeat *= t.size(d);
      out.values = out.values.narrow(d, 0, 1);
    }
  const auto stored = static_cast<int64_t>(t.storage().nbytes() / t.element_size());
  if (out.values.numel() > stored)
    fail("",
         "a view of " + std::to_string(t.numel()) + " values over a storage of " +
             std::to_string(stored) + " overlaps itself",
         "statistics of such views are not computed; save the tensor itself");
  return out;
}

}  // namespace cnnscope::stats_detail
