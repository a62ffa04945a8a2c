// libFuzzer target over the whole checkpoint loader (format detection, zip container, legacy
// format, restricted unpickler, safetensors, tensor views): any input must load or throw Error.
// Leaves out: the writers and the CLI. Run it with `make fuzz` (scripts/fuzz.sh).
#include <cstdint>
#include <cstdio>
#include <string>

#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "fuzz_input.h"

namespace {

constexpr int64_t kMaxSummedElements = int64_t{1} << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cnnscope::fuzz::write_input(data, size, ".pth");
  if (path.empty()) return 0;
  try {
    cnnscope::Checkpoint ck = cnnscope::load_checkpoint(path);
    // Touch every tensor's bytes so a view reaching outside its mapping would fault here.
    double sink = 0;
    for (const cnnscope::CheckpointEntry& e : ck.entries) {
      if (!e.tensor.defined() || e.tensor.numel() == 0) continue;
      at::Tensor t = e.tensor.numel() <= kMaxSummedElements ? e.tensor : e.tensor.flatten()[0];
      sink += t.to(at::kDouble).sum().item<double>();
    }
    if (sink == 0.123456789) std::fputs("", stderr);
  } catch (const cnnscope::Error&) {
  }
  return 0;
}
