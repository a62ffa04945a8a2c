// default_limits / set_default_limits (limits.h): one process-wide value, guarded by a mutex;
// check_elements.
#include "graph/limits.h"

#include <mutex>

#include "common/text.h"

namespace cnnscope::graph {
namespace {

std::mutex mutex;
Limits defaults;

}  // namespace

Limits default_limits() {
  std::lock_guard<std::mutex> lock(mutex);
  return defaults;
}

void check_elements(int64_t numel, const Limits& limits) {
  if (numel > limits.max_bytes)
    throw LimitError("its memory budget of " + human_bytes(limits.max_bytes) + " (a value of " +
                     thousands(numel) + " elements, which an op would read even as a view)");
}

void set_default_limits(const Limits& limits) {
  std::lock_guard<std::mutex> lock(mutex);
  defaults = limits;
}

}  // namespace cnnscope::graph
