// feature_maps (see feature_maps.h). Spec: PyTorch's layouts: Linear [N, C], Conv1d [N, C, L],
// Conv2d [N, C, H, W].
#include "app/feature_maps.h"

#include "common/error.h"
#include "common/text.h"

namespace cnnscope::app {

at::Tensor feature_maps(const at::Tensor& output, const std::string& layer, const std::string& arch,
                        const std::string& file) {
  if (!output.defined())
    fail(file,
         "layer " + layer + " gives no tensor in " + arch +
             "'s forward: it never runs or returns no single tensor",
         "pick another layer (cnnscope summary lists them)");
  constexpr int64_t kVector = 2, kLine = 3, kMaps = 4;
  switch (output.dim()) {
    case kVector:
      return output.unsqueeze(2).unsqueeze(3);  // [N, C, 1, 1]
    case kLine:
      return output.unsqueeze(2);  // [N, C, 1, L]
    case kMaps:
      return output;
    default:
      fail(file,
           "layer " + layer + " outputs " + shape_text(output.sizes()) +
               ", not [N, C], [N, C, L] or [N, C, H, W]",
           "pick another layer (cnnscope summary lists them)");
  }
}

}  // namespace cnnscope::app
