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
  // A tap name beyond Network::taps() (an ONNX node output's name).
  virtual bool extra_tap(const std::string& /*name*/) const { return false; }
};

// What a graph network's failed run says (a limit passed, a refusal, an op that failed on the
// input): one line naming `file`, `arch` and the node (backend.cpp).
[[noreturn]] void run_failed(const std::string& file, const std::string& arch,
                             const at::Tensor& input, const std::exception& e);

// The default `features` layers of a graph network: the first three of `all`.
std::vector<std::string> first_layers(std::vector<std::string> all);

// A TorchScript archive (sd.format == "torchscript") as a network run by cnnscope's interpreter:
// its ops checked against the allowlist before anything of it runs, each run inside `limits`
// (torchscript_net.cpp).
Network torchscript_network(const StateDict& sd, const graph::Limits& limits);

// A torch.export program (sd.format == "pt2") or an ONNX model ("onnx") as a network: lowered to
// a graph::Dataflow, its ops checked when read, each run inside `limits` (graph_net.cpp).
Network graph_network(const StateDict& sd, const graph::Limits& limits);

}  // namespace cnnscope::models::detail
