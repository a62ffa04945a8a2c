// The steps graph backends (torchscript_net.cpp, graph_net.cpp) share: what a failed run says
// and the default layers. Leaves out: everything specific to one file format.
#include "models/backend.h"

#include "common/error.h"
#include "common/escape.h"
#include "common/text.h"
#include "graph/interpreter.h"

namespace cnnscope::models::detail {

void run_failed(const std::string& file, const std::string& arch, const at::Tensor& input,
                const std::exception& e) {
  if (dynamic_cast<const graph::LimitError*>(&e))
    fail(file, arch + "'s forward passed " + escape_control(e.what()),
         "raise the limit only for a network you trust");
  if (dynamic_cast<const graph::Refused*>(&e))
    fail(file, "refused while running " + arch + ": " + escape_control(e.what()),
         "cnnscope runs only graphs whose values have the types they declare");
  const auto* op = dynamic_cast<const graph::OpFailed*>(&e);
  fail(file,
       "input " + shape_text(input.sizes()) + " does not fit " + arch + ": " +
           escape_control((op ? op->where + ": " : std::string()) + e.what()),
       "made for another input size?", {{"resize", "N"}, {"crop", "N"}});
}

std::vector<std::string> first_layers(std::vector<std::string> all) {
  constexpr size_t kDefaultLayers = 3;
  if (all.size() > kDefaultLayers) all.resize(kDefaultLayers);
  return all;
}

}  // namespace cnnscope::models::detail
