// Queries over a loaded state_dict (see state_dict.h): the BatchNorm counter rule, convolution
// weights, and key selection by glob. Leaves out: loading (load.cpp). Spec: POSIX fnmatch(3)
// without flags for --keys globs.
#include "checkpoint/state_dict.h"

#include <fnmatch.h>

#include <algorithm>

#include "common/error.h"
#include "common/suggest.h"
#include "common/text.h"

namespace cnnscope {
namespace {

constexpr int kConvRank = 4;
constexpr size_t kListedConvWeights = 12;
constexpr size_t kSimilarKeys = 5;

bool glob_matches(const std::string& glob, const std::string& key) {
  return fnmatch(glob.c_str(), key.c_str(), 0) == 0;
}

}  // namespace

bool is_batch_counter(const std::string& key) {
  return key == "num_batches_tracked" || ends_with(key, ".num_batches_tracked");
}

bool is_conv_weight(const at::Tensor& t) {
  return t.dim() == kConvRank && at::isFloatingType(t.scalar_type());
}

const NamedTensor* first_conv_weight(const StateDict& sd) {
  for (const NamedTensor& t : sd.tensors)
    if (is_conv_weight(t.tensor)) return &t;
  return nullptr;
}

std::string conv_weights_hint(const StateDict& sd) {
  std::vector<std::string> names;
  for (const NamedTensor& t : sd.tensors)
    if (is_conv_weight(t.tensor)) names.push_back(t.name);
  if (names.empty()) return "it holds no 4-D weight";
  const bool more = names.size() > kListedConvWeights;
  names.resize(std::min(names.size(), kListedConvWeights));
  return "conv weights: " + join(names, ", ") + (more ? ", ..." : "");
}

std::vector<const NamedTensor*> match_keys(const StateDict& sd,
                                           const std::vector<std::string>& globs) {
  std::vector<std::string> keys;
  for (const NamedTensor& t : sd.tensors) keys.push_back(t.name);
  for (const std::string& glob : globs) {
    if (std::any_of(keys.begin(), keys.end(), [&](const auto& k) { return glob_matches(glob, k); }))
      continue;
    std::string plain;  // the glob without wildcards, to rank keys by edit distance
    for (char c : glob)
      if (c != '*' && c != '?' && c != '[' && c != ']') plain += c;
    fail(sd.file, "no tensor key matches '" + glob + "'",
         keys.empty() ? "the checkpoint holds no tensors"
                      : "similar keys: " + join(closest_names(plain, keys, kSimilarKeys), ", "));
  }
  std::vector<const NamedTensor*> chosen;
  for (const NamedTensor& t : sd.tensors)
    if (globs.empty() || std::any_of(globs.begin(), globs.end(),
                                     [&](const auto& g) { return glob_matches(g, t.name); }))
      chosen.push_back(&t);
  return chosen;
}

}  // namespace cnnscope
