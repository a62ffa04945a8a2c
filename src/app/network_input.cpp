// network_preprocess (see network_input.h).
#include "app/network_input.h"

namespace cnnscope::app {

PreprocessOptions network_preprocess(const PreprocessSpec& spec, const models::ArchInfo& info) {
  return resolve_preprocess(
      spec, NetworkInput{info.default_preset, info.input_channels, info.input_size});
}

}  // namespace cnnscope::app
