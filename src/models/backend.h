// A network that is not a zoo Layer tree (today: a TorchScript module, torchscript_net.cpp): the
// parts Network needs from it, so that Network::run and every caller work unchanged. Zoo networks
// keep Network::Impl::root and their Family. Not a public header: other stages use
// models/network.h.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "checkpoint/state_dict.h"
#include "graph/limits.h"
#include "models/family.h"
#include "models/network.h"

namespace cnnscope::models::detail {

class Backend {
 public:
  virtual ~Backend() = default;
  // The logits [N, K] of `input` [N, C, H, W] (float32), each module's output passed through
  // `probe` (family.h: the taps of options.taps, names checked by the caller, and the hook).
  virtual at::Tensor forward(const at::Tensor& input, const RunOptions& options,
                             Probe& probe) const = 0;
  virtual StateDict state_dict() const = 0;
  virtual int64_t num_parameters() const = 0;
  virtual std::vector<std::string> default_layers() const = 0;
  virtual std::vector<std::string> all_layers() const = 0;
};

// A TorchScript archive (sd.format == "torchscript") as a network run by cnnscope's interpreter:
// its ops checked against the allowlist before anything of it runs, each run inside `limits`
// (torchscript_net.cpp).
Network torchscript_network(const StateDict& sd, const graph::Limits& limits);

}  // namespace cnnscope::models::detail
