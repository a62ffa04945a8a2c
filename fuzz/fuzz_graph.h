// What the flat-graph fuzz targets (fuzz_onnx, fuzz_pt2) share: a lowered Dataflow checked and run
// on a small input (its example shape, each dim clamped to 1..16) inside small limits; the
// refusals a hostile file may end in are swallowed, anything else (a crash, a hang, a leak) is
// libFuzzer's to find.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "common/error.h"
#include "graph/dataflow.h"
#include "graph/interpreter.h"

namespace cnnscope::fuzz {

// Runs `lower()` (reading the fuzzed file into a Dataflow), then checks and runs the result.
inline void run_lowered(const std::function<graph::Dataflow()>& lower) {
  constexpr int64_t kSteps = 10000;
  constexpr int64_t kBytes = int64_t{64} << 20;
  constexpr int64_t kMaxDim = 16;  // so that a declared 224x224 stays small
  try {
    const graph::Dataflow flow = lower();
    graph::check(flow);
    std::vector<int64_t> dims = flow.input_shape;
    for (int64_t& d : dims) d = std::clamp<int64_t>(d, 1, kMaxDim);
    std::vector<c10::IValue> inputs;
    if (!flow.inputs.empty()) inputs.emplace_back(at::rand(dims));  // [dims]
    graph::Limits limits;
    limits.max_steps = kSteps;
    limits.max_bytes = kBytes;
    graph::run(flow, std::move(inputs), limits, {}, {});
  } catch (const Error&) {
  } catch (const graph::Refused&) {
  } catch (const graph::OpFailed&) {
  } catch (const graph::LimitError&) {
  }
}

}  // namespace cnnscope::fuzz
