// libFuzzer target over torch.export archives (.pt2): the zip, the bounded JSON, the weights'
// views (checkpoint/pt2.cpp), the lowering to a Dataflow (graph/export_program.cpp: allowlist,
// schema matching, literal types) and a run of the interpreter on a small input inside small
// limits (fuzz_graph.h). Any input must load and run, or throw Error or a graph error; never
// crash, hang or grow past the limits. Seeds: a tiny export that fuzz/make_corpus_graph.py writes
// at run time (scripts/fuzz.sh). Leaves out: taps.
#include <cstdint>
#include <string>

#include "checkpoint/pt2.h"
#include "common/mapped_file.h"
#include "fuzz_graph.h"
#include "fuzz_input.h"
#include "graph/export_program.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cnnscope::fuzz::write_input(data, size, ".pt2");
  if (!path.empty())
    cnnscope::fuzz::run_lowered([&] {
      return cnnscope::graph::lower_export_program(
          cnnscope::read_pt2(cnnscope::MappedFile::open(path)));
    });
  return 0;
}
