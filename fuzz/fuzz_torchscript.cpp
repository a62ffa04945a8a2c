// libFuzzer target over TorchScript archives: the loader (zip, restricted unpickler, compiling
// code/, building objects by declared types) and cnnscope's graph interpreter running forward on
// a small input inside small limits. Any input must load and run, or throw Error or a graph error;
// never crash, hang or grow past the limits. Seeds: scripted and traced archives that
// fuzz/make_corpus_torchscript.py writes at run time (scripts/fuzz.sh). Leaves out: taps.
#include <torch/csrc/jit/frontend/error_report.h>

#include <cstdint>
#include <string>

#include "common/error.h"
#include "fuzz_input.h"
#include "graph/interpreter.h"
#include "graph/script_module.h"

namespace {

constexpr int64_t kSteps = 100000;
constexpr int64_t kBytes = int64_t{64} << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cnnscope::fuzz::write_input(data, size, ".pt");
  if (path.empty()) return 0;
  try {
    const cnnscope::graph::ScriptModule module = cnnscope::graph::load_script_module(path);
    const cnnscope::graph::Program program(module.root->type(), "forward");
    cnnscope::graph::Limits limits;
    limits.max_steps = kSteps;
    limits.max_bytes = kBytes;
    program.run(module.root, {at::rand({1, 3, 8, 8})}, limits);
  } catch (const cnnscope::Error&) {
  } catch (const cnnscope::graph::Refused&) {
  } catch (const cnnscope::graph::OpFailed&) {
  } catch (const cnnscope::graph::LimitError&) {
  } catch (const c10::Error&) {
    // The compiler's own errors (code/ that does not parse) reach here only from Program.
  } catch (const torch::jit::ErrorReport&) {
  }
  return 0;
}
