// libFuzzer target over detection and building (models/registry.cpp, the families' detect and
// make, the key layouts of models/layout.h): the input is lines "NAME\tD0,D1,..." (a key and its
// shape; no tab: a scalar), made into a state_dict of expanded zeros (no memory per tensor), and
// build_network must build a network or throw Error. Leaves out the checkpoint readers
// (fuzz_load) and the forward. Run it with `make fuzz FUZZ_TARGET=fuzz_detect` (scripts/fuzz.sh).
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "models/network.h"

namespace {

constexpr size_t kMaxKeys = 4096;
constexpr size_t kMaxDims = 5;
constexpr int64_t kMaxDim = 2048;                // a size: widths and classes stay small
constexpr int64_t kMaxNumel = int64_t{1} << 22;  // of one tensor
constexpr int64_t kMaxTotal = int64_t{1} << 25;  // of all: what a network of them would hold

// "3,64,7,7" as sizes; false when a size is not a number in 0..kMaxDim or there are too many.
bool parse_shape(const std::string& text, std::vector<int64_t>& shape) {
  if (text.empty()) return true;
  int64_t size = -1;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ',') {
      if (size < 0 || shape.size() == kMaxDims) return false;
      shape.push_back(size);
      size = -1;
    } else if (text[i] >= '0' && text[i] <= '9') {
      size = (size < 0 ? 0 : size * 10) + (text[i] - '0');
      if (size > kMaxDim) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cnnscope::StateDict sd;
  sd.file = "fuzz.pth";
  sd.format = "zip";
  const std::string input(reinterpret_cast<const char*>(data), size);
  const at::Tensor zero = at::zeros({});  // []
  int64_t total = 0;
  std::unordered_set<std::string> names;  // a file's keys are a dict's
  for (size_t start = 0; start < input.size() && sd.tensors.size() < kMaxKeys;) {
    const size_t end = std::min(input.find('\n', start), input.size());
    const std::string line = input.substr(start, end - start);
    start = end + 1;
    const size_t tab = line.rfind('\t');
    std::vector<int64_t> shape;
    if (tab != std::string::npos && !parse_shape(line.substr(tab + 1), shape)) return 0;
    int64_t numel = 1;
    for (int64_t s : shape) numel *= s;  // <= 2048^5: no overflow
    total += numel;
    if (numel > kMaxNumel || total > kMaxTotal) return 0;
    if (!names.insert(line.substr(0, tab)).second) return 0;
    sd.tensors.push_back({line.substr(0, tab), zero.expand(shape)});
  }
  try {
    cnnscope::models::Network net = cnnscope::models::build_network(sd, {});
    (void)net.state_dict();  // back in the file's names
  } catch (const cnnscope::Error&) {
  }
  return 0;
}
