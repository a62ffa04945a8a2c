// Network: what every kind of network shares (layer selection with closest-name suggestions, the
// input check, the probe and the taps of a forward pass), each call handed to its Backend
// (backend.h) for the rest. Leaves out the taps' making (each backend's file) and any training
// mode.
#include "models/network.h"

#include <algorithm>
#include <sstream>
#include <unordered_map>

#include "common/error.h"
#include "common/suggest.h"
#include "common/text.h"
#include "models/network_impl.h"

namespace cnnscope::models {
namespace {

constexpr int64_t kInputDims = 4;

std::string trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

}  // namespace

Network::Network(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

const ArchInfo& Network::info() const {
  return impl_->info;
}
const std::vector<TapInfo>& Network::taps() const {
  return impl_->taps;
}
torch::nn::Module& Network::module() const {
  return impl_->backend->module();
}

int64_t Network::num_parameters() const {
  return impl_->backend->num_parameters();
}

const at::Tensor* ForwardResult::find(const std::string& name) const {
  for (const NamedTensor& t : taps)
    if (t.name == name) return &t.tensor;
  return nullptr;
}

std::vector<std::string> Network::default_layers() const {
  return impl_->backend->default_layers();
}

std::vector<std::string> Network::all_layers() const {
  return impl_->backend->all_layers();
}

std::string Network::default_cam_layer() const {
  const std::string declared = impl_->backend->default_cam_layer();
  return declared.empty() ? detail::fallback_cam_layer(impl_->taps) : declared;
}

void Network::check_tap(const std::string& name) const {
  if (impl_->backend->extra_tap(name)) return;
  std::vector<std::string> names;
  for (const TapInfo& t : impl_->taps) {
    if (t.name == name) return;
    names.push_back(t.name);
  }
  fail("", "no layer '" + name + "' in " + impl_->info.arch,
       suggestion_hint(name, names, "see cnnscope summary CKPT"));
}

std::vector<std::string> Network::select_layers(const std::string& spec) const {
  const std::string trimmed = trim(spec);
  if (trimmed.empty()) return default_layers();
  if (trimmed == "all") return all_layers();
  std::vector<std::string> out;
  std::stringstream in(trimmed);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    check_tap(item);
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  if (out.empty()) fail("", "the layer list '" + spec + "' names no layer", "e.g. all");
  return out;
}

ForwardResult Network::run(const at::Tensor& input, const std::vector<std::string>& taps) const {
  RunOptions options;
  options.taps = taps;
  return run(input, options);
}

ForwardResult Network::run(const at::Tensor& input, const RunOptions& options) const {
  const std::vector<std::string>& taps = options.taps;
  for (const std::string& name : taps) check_tap(name);
  const int64_t channels = impl_->info.input_channels;
  if (input.dim() != kInputDims || input.size(1) != channels)
    fail("",
         "the network input must be [N, " + std::to_string(channels) + ", H, W], got " +
             shape_text(input.sizes()),
         channels == 1 ? "it takes one-channel (grayscale) images"
                       : "it takes " + std::to_string(channels) + "-channel images, not grayscale");
  std::unordered_map<std::string, size_t> wanted;
  for (size_t i = 0; i < taps.size(); ++i) wanted.emplace(taps[i], i);
  std::vector<at::Tensor> captured(taps.size());
  const detail::Probe::Hook* hook = options.hook ? &options.hook : nullptr;
  detail::Probe probe(&wanted, &captured, options.gradients, hook);
  ForwardResult result;
  torch::AutoGradMode grad_mode(options.gradients);
  result.logits =
      impl_->backend->forward(input.to(at::kFloat).contiguous(), options, probe);  // [N, classes]
  for (size_t i = 0; i < taps.size(); ++i)  // a name asked twice: the capture of its first ask
    result.taps.push_back({taps[i], captured[wanted.at(taps[i])]});
  return result;
}

StateDict Network::state_dict() const {
  return impl_->backend->state_dict();
}

}  // namespace cnnscope::models
