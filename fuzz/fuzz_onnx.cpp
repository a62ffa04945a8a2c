// libFuzzer target over ONNX models: the protobuf parse, the initializers (raw, typed and external
// data refused outside the file's folder), the lowering to a Dataflow (opset, op table, attribute
// checks, topological order, scopes) and a run of the graph interpreter on a small input inside
// small limits. Any input must load and run, or throw Error or a graph error; never crash, hang or
// grow past the limits. Seeds: small exports that fuzz/make_corpus_graph.py writes at run time
// (scripts/fuzz.sh). Leaves out: taps.
#include <algorithm>
#include <cstdint>
#include <string>

#include "checkpoint/onnx_file.h"
#include "common/error.h"
#include "fuzz_input.h"
#include "graph/dataflow.h"
#include "graph/interpreter.h"
#include "graph/onnx_graph.h"

namespace {

constexpr int64_t kSteps = 10000;
constexpr int64_t kBytes = int64_t{64} << 20;
constexpr int64_t kMaxDim = 16;  // each input dim, so that a declared 224x224 stays small

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cnnscope::fuzz::write_input(data, size, ".onnx");
  if (path.empty()) return 0;
  try {
    const cnnscope::OnnxModel model = cnnscope::read_onnx(path);
    const cnnscope::graph::Dataflow flow = cnnscope::graph::lower_onnx(model);
    cnnscope::graph::check(flow);
    std::vector<c10::IValue> inputs;
    for (std::vector<int64_t> dims : cnnscope::graph::onnx_input_shapes(model)) {
      for (int64_t& d : dims) d = std::clamp<int64_t>(d, 1, kMaxDim);
      inputs.emplace_back(at::rand(dims));  // [dims]
    }
    cnnscope::graph::Limits limits;
    limits.max_steps = kSteps;
    limits.max_bytes = kBytes;
    cnnscope::graph::run(flow, std::move(inputs), limits, {}, {});
  } catch (const cnnscope::Error&) {
  } catch (const cnnscope::graph::Refused&) {
  } catch (const cnnscope::graph::OpFailed&) {
  } catch (const cnnscope::graph::LimitError&) {
  }
  return 0;
}
