// libFuzzer target over the readers of cnnscope's own job outputs that `report` takes from a
// folder a user names: similarity.json (app/similarity_json.cpp) and evolve's layers.json
// (app/evolve_layers.cpp). Any input must read or throw Error. Seeds: written at run time by fuzz/make_corpus_reports.py. Run it with
// `FUZZ_TARGET=fuzz_reports make fuzz` (scripts/fuzz.sh).
#include <cstdint>
#include <string>

#include "app/evolve.h"
#include "app/similarity.h"
#include "common/error.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cnnscope::fuzz::write_input(data, size, ".json");
  if (path.empty()) return 0;
  try {
    const cnnscope::app::SimilarityResult r = cnnscope::app::read_similarity_json(path);
    if (r.values.size() != r.rows.size()) __builtin_trap();  // the reader's promise
  } catch (const cnnscope::Error&) {
  }
  try {
    const cnnscope::app::EvolveLayers e = cnnscope::app::read_evolve_layers_json(path);
    if (e.steps.size() != e.checkpoints.size()) __builtin_trap();
  } catch (const cnnscope::Error&) {
  }
  return 0;
}
