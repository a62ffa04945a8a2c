// default_limits / set_default_limits (limits.h): one process-wide value, guarded by a mutex.
#include "graph/limits.h"

#include <mutex>

namespace cnnscope::graph {
namespace {

std::mutex mutex;
Limits defaults;

}  // namespace

Limits default_limits() {
  std::lock_guard<std::mutex> lock(mutex);
  return defaults;
}

void set_default_limits(const Limits& limits) {
  std::lock_guard<std::mutex> lock(mutex);
  defaults = limits;
}

}  // namespace cnnscope::graph
