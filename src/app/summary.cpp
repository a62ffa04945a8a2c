// summarize (see summary.h). Spec: torchinfo's "Mult-Adds": a Conv2d counts its weight once per
// output position, a Linear its weight once per output row.
#include "app/summary.h"

#include <torch/torch.h>

#include <map>
#include <string>

#include "app/network_input.h"
#include "common/error.h"
#include "common/text.h"

namespace cnnscope::app {
namespace {

constexpr int64_t kMaxInputSize = 4096;

int64_t leaf_mult_adds(const torch::nn::Module& m, const at::Tensor& out) {
  if (const auto* conv = m.as<torch::nn::Conv2d>())
    return conv->weight.numel() * out.size(0) * out.size(2) * out.size(3);
  if (const auto* fc = m.as<torch::nn::Linear>()) return fc->weight.numel() * out.size(0);
  return 0;
}

// The same from the class name and the state_dict (networks without torch::nn modules:
// TorchScript): a "Conv2d" or "Linear" with a `.weight`.
int64_t leaf_mult_adds(const models::TapInfo& tap, const StateDict& weights,
                       const at::Tensor& out) {
  const at::Tensor* weight = weights.find(tap.name + ".weight");
  if (weight == nullptr) return 0;
  if (tap.type == "Conv2d" && out.dim() == 4)
    return weight->numel() * out.size(0) * out.size(2) * out.size(3);
  if (tap.type == "Linear") return weight->numel() * out.numel() / out.size(-1);
  return 0;
}

// The weights by tap name where module() cannot be asked by it: a TorchScript network (no
// submodules) or a network in another layout's names (layout.h); else empty.
StateDict modules_weights(const models::Network& net) {
  const bool by_name = net.module().children().empty() || !net.info().layout.empty();
  return by_name ? net.state_dict() : StateDict{};
}

}  // namespace

int64_t input_size_of(const PreprocessOptions& p) {
  if (p.crop_height > 0 && p.crop_height == p.crop_width) return p.crop_height;
  if (p.crop_height == 0 && p.resize_height > 0 && p.resize_height == p.resize_width)
    return p.resize_height;
  if (p.crop_height == 0 && p.resize_short > 0) return p.resize_short;
  return kDefaultSummaryInputSize;
}

int64_t default_input_size(const models::Network& net) {
  return input_size_of(network_preprocess({}, net.info()));
}

Summary summarize(const models::Network& net) {
  return summarize(net, default_input_size(net));
}

Summary summarize(const models::Network& net, int64_t input_size) {
  if (input_size < 1 || input_size > kMaxInputSize)
    fail("", "the input size must be 1.." + std::to_string(kMaxInputSize) + ", got " +
                 std::to_string(input_size));
  const auto& taps = net.taps();
  std::vector<std::string> names;
  for (const models::TapInfo& t : taps) names.push_back(t.name);
  Summary s;
  s.root = net.module().name();
  s.input_shape = {1, net.info().input_channels, input_size, input_size};
  const models::ForwardResult r = net.run(at::zeros(s.input_shape), names);  // [1, C, N, N]
  s.output_shape = r.logits.sizes().vec();
  s.params = net.num_parameters();

  const StateDict weights = modules_weights(net);
  std::map<std::string, std::shared_ptr<torch::nn::Module>> modules;
  if (net.info().layout.empty())
    for (const auto& item : net.module().named_modules("", false))
      modules[item.key()] = item.value();
  for (size_t i = 0; i < taps.size(); ++i) {
    const at::Tensor& out = r.taps[i].tensor;  // undefined: the module never ran
    SummaryRow row{&taps[i], out.defined() ? out.sizes().vec() : std::vector<int64_t>{},
                   out.defined(), 0};
    const auto module = modules.find(taps[i].name);  // none for TorchScript networks
    if (taps[i].leaf && row.ran && module != modules.end())
      row.mult_adds = leaf_mult_adds(*module->second, r.taps[i].tensor);
    else if (taps[i].leaf && row.ran)
      row.mult_adds = leaf_mult_adds(taps[i], weights, r.taps[i].tensor);
    s.rows.push_back(std::move(row));
  }
  // A container's mult-adds: the sum over the leaves under it.
  for (const SummaryRow& leaf : s.rows) {
    if (!leaf.tap->leaf) continue;
    s.mult_adds += leaf.mult_adds;
    for (SummaryRow& container : s.rows)
      if (!container.tap->leaf && starts_with(leaf.tap->name, container.tap->name + "."))
        container.mult_adds += leaf.mult_adds;
  }
  return s;
}

}  // namespace cnnscope::app
