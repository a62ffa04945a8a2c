// The bounds every graph run (a TorchScript forward, a torch.export or ONNX program) stays
// inside: a step budget (nodes executed, loop iterations included), a memory budget (bytes of
// tensor memory live at once that the run allocated on its thread) and an optional deadline.
// Defaults are generous for real CNNs (a scripted DenseNet-121 forward executes about 7,900 nodes).
// Exceeding one throws LimitError, which callers turn into one line naming the limit.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace cnnscope::graph {

struct Limits {
  static constexpr int64_t kDefaultSteps = 1'000'000;
  static constexpr int64_t kDefaultBytes = int64_t{8} << 30;  // 8 GiB
  int64_t max_steps = kDefaultSteps;
  int64_t max_bytes = kDefaultBytes;
  // The run stops at this time (serve's per-request deadline); unset: no deadline.
  std::optional<std::chrono::steady_clock::time_point> deadline{};
};

// The limits a network gets when its builder names none: Limits{} unless the program set others
// (the CLI does, from its flags) before building networks.
Limits default_limits();
void set_default_limits(const Limits& limits);

// A limit was reached: `what` says which ("its step budget of 1000000 nodes").
struct LimitError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws LimitError when a value a node made holds more elements than the memory budget has
// bytes, even as a view of less memory (an expand to [2^22, 2^22] costs nothing to make, but an
// op reading it would run for hours): the bound on what one operator may read.
void check_elements(int64_t numel, const Limits& limits);

}  // namespace cnnscope::graph
