// What runs a Network, whatever its file: a zoo Layer tree built by a Family (zoo_net.cpp), a
// TorchScript module (torchscript_net.cpp) or a torch.export / ONNX graph (graph_net.cpp); the
// parts Network needs from each, so that Network::run and every caller work the same for all.
// Not a public header: other stages use models/network.h.
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
  // The CAM layer its family declares (Family::cam_layer); "": none.
  virtual std::string default_cam_layer() const { return ""; }
  // A tap name beyond Network::taps() (an ONNX node output's name).
  virtual bool extra_tap(const std::string& /*name*/) const { return false; }
  // Network::module()'s answer.
  virtual torch::nn::Module& module() const = 0;
};

// A Backend whose network is no LibTorch module tree (TorchScript, a graph): module() is an empty
// module named after the root's class, `root_type`.
class InterpretedBackend : public Backend {
 public:
  explicit InterpretedBackend(const std::string& root_type)
      : placeholder_(std::make_shared<torch::nn::Module>(root_type)) {}
  torch::nn::Module& module() const override { return *placeholder_; }

 private:
  std::shared_ptr<torch::nn::Module> placeholder_;
};

// What a graph network's failed run says (a limit passed, a refusal, an op that failed on the
// input): one line naming `file`, `arch` and the node (backend.cpp).
[[noreturn]] void run_failed(const std::string& file, const std::string& arch,
                             const at::Tensor& input, const std::exception& e);

// The default `features` layers of a graph network: the first three of `all`.
std::vector<std::string> first_layers(std::vector<std::string> all);

// A Layer tree that `family` built (and the state_dict loaded) as a network in eval mode, its taps
// Python's named_modules() with print(model)'s reprs (zoo_net.cpp). `names`: the layout whose
// names the file has (taps, layer picks and state_dict() in its names); null: the family's own.
Network zoo_network(Built built, const Family& family, const Names* names = nullptr);

// A TorchScript archive (sd.format == "torchscript") as a network run by cnnscope's interpreter:
// its ops checked against the allowlist before anything of it runs, each run inside `limits`
// (torchscript_net.cpp). `like`: the info of the zoo network whose keys the archive holds (its
// input size and preset), or null.
Network torchscript_network(const StateDict& sd, const graph::Limits& limits, const ArchInfo* like);

// A torch.export program (sd.format == "pt2") or an ONNX model ("onnx") as a network: lowered to
// a graph::Dataflow, its ops checked when read, each run inside `limits` (graph_net.cpp).
Network graph_network(const StateDict& sd, const graph::Limits& limits);

}  // namespace cnnscope::models::detail
