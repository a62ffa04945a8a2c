// libFuzzer target over torch.export archives (.pt2): the zip, the bounded JSON, the weights'
// views (checkpoint/pt2.cpp), the lowering to a Dataflow (graph/export_program.cpp: allowlist,
// schema matching, literal types) and a run of the interpreter on a small input inside small
// limits. Any input must load and run, or throw Error or a graph error; never crash, hang or grow
// past the limits. Seeds: a tiny export that fuzz/make_corpus_graph.py writes at run time
// (scripts/fuzz.sh). Leaves out: taps.
#include <algorithm>
#include <cstdint>
#include <string>

#include "checkpoint/pt2.h"
#include "common/error.h"
#include "common/mapped_file.h"
#include "fuzz_input.h"
#include "graph/dataflow.h"
#include "graph/export_program.h"
#include "graph/interpreter.h"

namespace {

constexpr int64_t kSteps = 10000;
constexpr int64_t kBytes = int64_t{64} << 20;
constexpr int64_t kMaxDim = 16;  // each input dim, so that a declared 224x224 stays small

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cnnscope::fuzz::write_input(data, size, ".pt2");
  if (path.empty()) return 0;
  try {
    const auto file = cnnscope::MappedFile::open(path);
    const cnnscope::graph::Dataflow flow =
        cnnscope::graph::lower_export_program(cnnscope::read_pt2(file));
    std::vector<int64_t> dims = flow.input_shape;
    for (int64_t& d : dims) d = std::clamp<int64_t>(d, 1, kMaxDim);
    std::vector<c10::IValue> inputs;
    if (!flow.inputs.empty()) inputs.emplace_back(at::rand(dims));  // [dims]
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
