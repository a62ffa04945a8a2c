// The parts family.h declares: the probe, Layer's and Sequential's shared steps, and the helpers a
// Family entry is made of (presets by arch, layer picks from the taps). Leaves out anything
// family-specific (each family's file holds that).
#include "models/family.h"

#include <algorithm>

#include "common/text.h"

namespace cnnscope::models::detail {

at::Tensor Probe::operator()(const std::string& our_name, const at::Tensor& output) {
  const std::string* shown = &our_name;
  if (names_ != nullptr) {
    auto it = names_->find(our_name);
    if (it == names_->end()) return output;
    shown = &it->second;
  }
  const std::string& name = *shown;
  at::Tensor flow = hook_ != nullptr ? (*hook_)(name, output) : output;
  if (wanted_ != nullptr) {
    auto it = wanted_->find(name);
    if (it != wanted_->end()) {
      if (!gradients_) {
        (*out_)[it->second] = flow.clone();
      } else {
        (*out_)[it->second] = flow;
        flow = flow.clone();
      }
    }
  }
  return flow;
}

std::string Layer::child_path(const std::string& child) const {
  return path_.empty() ? child : path_ + "." + child;
}

at::Tensor Sequential::forward(at::Tensor x, Probe& probe) {
  for (const Step& step : steps_) x = probe(step.path, step.run(std::move(x), probe));
  return x;
}

std::string Sequential::repr() const {
  return steps_.empty() ? name() + "()" : name();
}

std::function<std::string(const std::string& arch)> presets_for(std::vector<std::string> own) {
  return [own = std::move(own)](const std::string& arch) -> std::string {
    return std::find(own.begin(), own.end(), arch) != own.end() ? arch : "imagenet";
  };
}

std::vector<std::string> taps_of_type(const std::vector<TapInfo>& taps,
                                      const std::vector<std::string>& types) {
  std::vector<std::string> out;
  for (const TapInfo& t : taps)
    if (std::find(types.begin(), types.end(), t.type) != types.end()) out.push_back(t.name);
  return out;
}

std::vector<std::string> first_of(std::vector<std::string> names, size_t n) {
  names.resize(std::min(names.size(), n));
  return names;
}

TapPick last_child_of(std::string parent) {
  return [parent = std::move(parent)](const std::vector<TapInfo>& taps) {
    std::string found;
    for (const TapInfo& t : taps)
      if (t.depth == 2 && starts_with(t.name, parent + ".")) found = t.name;
    return found;
  };
}

TapPick module_named(std::string name) {
  return [name = std::move(name)](const std::vector<TapInfo>&) { return name; };
}

std::string fallback_cam_layer(const std::vector<TapInfo>& taps) {
  for (const char* container : {"features", "layers"}) {  // layers: MNASNet's
    const std::string last = last_child_of(container)(taps);
    if (!last.empty()) return last;
  }
  std::string last_layer;  // ResNet's layer4 (or the highest layerN)
  for (const TapInfo& t : taps)
    if (t.depth == 1 && starts_with(t.name, "layer") && !last_child_of(t.name)(taps).empty())
      last_layer = t.name;
  if (!last_layer.empty()) return last_child_of(last_layer)(taps);
  // The last top-level module with a convolution in it (auxiliary heads, which eval mode skips,
  // left out).
  std::string found;
  for (const TapInfo& t : taps) {
    if (t.type != "Conv2d") continue;
    const std::string top = t.name.substr(0, t.name.find('.'));
    if (starts_with(top, "aux") || starts_with(top, "Aux")) continue;
    found = top;
  }
  return found;
}

LayerPick features_relus(size_t limit) {
  return [limit](const std::vector<TapInfo>& taps) {
    std::vector<std::string> out;
    bool after_conv = false;
    for (const TapInfo& t : taps) {
      if (!starts_with(t.name, "features.")) continue;
      if (t.type == "Conv2d") after_conv = true;
      if (t.type == "ReLU" && after_conv && out.size() < limit) {
        out.push_back(t.name);
        after_conv = false;
      }
    }
    return out;
  };
}

}  // namespace cnnscope::models::detail
