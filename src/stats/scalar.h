// as_double: every element type the statistics read, widened to double (half and bfloat16 via
// float, as numpy does). Internal to src/stats/.
#pragma once

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

namespace cnnscope::stats_detail {

template <typename T>
double as_double(T v) {
  return static_cast<double>(v);
}
template <>
inline double as_double(at::Half v) {
  return static_cast<double>(static_cast<float>(v));
}
template <>
inline double as_double(at::BFloat16 v) {
  return static_cast<double>(static_cast<float>(v));
}

}  // namespace cnnscope::stats_detail
