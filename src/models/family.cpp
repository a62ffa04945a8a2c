// The helpers a Family entry is made of (see family.h): presets by arch and layer picks from the
// taps. Leaves out anything family-specific (each family's file holds that).
#include <algorithm>

#include "models/family.h"

namespace cnnscope::models::detail {

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

LayerPick features_relus(size_t limit) {
  return [limit](const std::vector<TapInfo>& taps) {
    std::vector<std::string> out;
    bool after_conv = false;
    for (const TapInfo& t : taps) {
      if (t.name.rfind("features.", 0) != 0) continue;
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
