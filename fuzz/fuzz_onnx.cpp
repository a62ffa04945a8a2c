// libFuzzer target over ONNX models: the protobuf parse, the initializers (raw, typed and external
// data refused outside the file's folder), the lowering to a Dataflow (opset, op table, attribute
// checks, topological order, scopes) and a run of the graph interpreter on a small input inside
// small limits (fuzz_graph.h). Any input must load and run, or throw Error or a graph error;
// never crash, hang or grow past the limits. Seeds: small exports that fuzz/make_corpus_graph.py
// writes at run time (scripts/fuzz.sh). Leaves out: taps.
#include <cstdint>
#include <string>

#include "fuzz_graph.h"
#include "fuzz_input.h"
#include "graph/onnx_graph.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cnnscope::fuzz::write_input(data, size, ".onnx");
  if (!path.empty()) cnnscope::fuzz::run_lowered([&] { return cnnscope::graph::load_onnx(path); });
  return 0;
}
