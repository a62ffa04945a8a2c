// How a long job reports progress without printing: after each step it calls back with the total
// number of steps and what was just done (an image, a layer). The CLI draws a bar from it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace cnnscope::app {

using StepFn = std::function<void(int64_t total, const std::string& what)>;

}  // namespace cnnscope::app
