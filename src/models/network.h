// The models stage's public face: rebuild a torchvision classification CNN (AlexNet, VGG, ResNet,
// ResNeXt, Wide ResNet, DenseNet, SqueezeNet, GoogLeNet, Inception v3, ... see known_archs()) from
// a state_dict (family and configuration read from keys and shapes), run it in eval mode and
// capture any module's output.
#pragma once

#include <ATen/ATen.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/state_dict.h"
#include "graph/limits.h"

namespace torch::nn {
class Module;
}

namespace cnnscope::models {

// What was detected (or chosen with --arch).
struct ArchInfo {
  std::string family;       // "alexnet" | "vgg" | "resnet" | "densenet" | ... (Family::name)
  std::string arch;         // "alexnet", "alexnet_seed", "vgg16_bn", "resnext50_32x4d", ...,
                            // "timm/efficientnet_b0" (a layout's name: "layout/arch")
  std::string layout;       // whose key names the file has: "" torchvision's (or the family's
                            // own), "timm", "seed" (the seed series' model.py files)
  std::string description;  // "alexnet, widths 48-128-192-192-128, 5 classes: the seed's AlexNet"
  int64_t num_classes = 0;  // width of the last Linear
  std::string default_preset;  // a preset() name: "alexnet" for the AlexNet family, else
                               // torchvision's IMAGENET1K_V1 one ("imagenet", "inception_v3")
  int64_t input_channels = 3;  // C of the [N, C, H, W] input: 1 for MNIST's Net, else 3
  int64_t input_size = 0;  // H = W the network needs (LeNet 32, MNIST's Net 28; a training run's
                           // size); 0: any size, the preset's resize applies
  std::vector<std::string> class_names;  // a training run's (its run.json); empty: none known
};

// One module of the network, as Python's `model.named_modules()` yields it (the root excluded),
// in that order.
struct TapInfo {
  std::string name;  // qualified name: "features.3", "layer2.0.downsample.0", "fc"
  std::string type;  // Python class name: "Conv2d", "ReLU", "Sequential", "BasicBlock", ...
  std::string repr;  // print(model)'s line for it: "Conv2d(3, 48, kernel_size=(11, 11), stride=(4,
                     // 4), padding=(2, 2))"; containers just their type, "Sequential"
  int depth = 1;     // 1 for the model's direct children, 2 for theirs, ...
  int64_t params = 0;  // parameters (not buffers) of this module and everything under it
  bool leaf = true;    // has no children
};

// A forward pass: the logits and the outputs of the modules asked for.
struct ForwardResult {
  at::Tensor logits;              // [N, num_classes] float32
  std::vector<NamedTensor> taps;  // in the order asked; each its own storage (a clone)

  // The captured output of `name`, or nullptr when it was not asked for.
  const at::Tensor* find(const std::string& name) const;
};

// How Network::run runs. The defaults: eval-mode inference without autograd, taps cloned.
struct RunOptions {
  std::vector<std::string> taps;  // module names to capture (checked first)
  // Record the autograd graph: the logits and the captured taps are differentiable, each tap the
  // module's output itself (the forward continues with a copy), so torch::autograd::grad(logit,
  // tap) is the gradient w.r.t. that output; an input with requires_grad gets its gradient too.
  bool gradients = false;
  // Called with every module's output (qualified name, output) as the forward runs; what it
  // returns is what the forward continues with (e.g. guided backprop's gradient clamp after each
  // ReLU). Null: nothing.
  std::function<at::Tensor(const std::string& name, const at::Tensor& output)> hook{};
  // A graph network (TorchScript) stops with an Error past this time (serve's request deadline);
  // zoo networks ignore it.
  std::optional<std::chrono::steady_clock::time_point> deadline{};
};

struct BuildOptions {
  std::string arch;  // empty: detect from the keys; else one of known_archs() ("--arch")
  // GoogLeNet / Inception v3's transform_input (not in the keys): unset = True, as torchvision's
  // pretrained weights set it ("--transform-input on|off"); other families ignore it.
  std::optional<bool> transform_input{};
  // The step and memory budgets of each forward of a graph network (a TorchScript archive);
  // unset: graph::default_limits().
  std::optional<graph::Limits> limits{};
};

struct InitOptions {
  std::string arch;  // one of known_archs()
  int64_t num_classes = 1000;
  uint64_t seed = 0;
};

class Network {
 public:
  struct Impl;
  explicit Network(std::shared_ptr<Impl> impl);

  const ArchInfo& info() const;
  const std::vector<TapInfo>& taps() const;
  int64_t num_parameters() const;  // parameters, not buffers (as summary's "params")

  // Default `features` layers, per family (docs/commands/features.md lists them): e.g. AlexNet
  // features.1,features.4,features.7; VGG the ReLUs after its first three convolutions; ResNet
  // conv1,layer1.
  std::vector<std::string> default_layers() const;
  // `--layers all`, per family: e.g. AlexNet/VGG the ReLU after every convolution of `features`;
  // ResNet conv1 and every block (layer1.0, layer1.1, ...).
  std::vector<std::string> all_layers() const;
  // The layer a CAM looks at unless told: the one its family declares (pytorch-grad-cam's usual
  // choice: ResNet layer4[-1], VGG features[-1], GoogLeNet inception5b, ...); for a network of no
  // such family (a graph network, a rebuilt nn.Sequential) the last child of `features` or
  // `layers`, else of the last `layerN`, else the last top-level module with a Conv2d in it
  // (auxiliary heads left out). "" when there is none.
  std::string default_cam_layer() const;
  // A `--layers` value: "" = default_layers(), "all" = all_layers(), else a comma-separated list
  // of tap names, each checked (check_tap), duplicates dropped, order kept.
  std::vector<std::string> select_layers(const std::string& spec) const;
  // Throws Error for a name that is not a tap, suggesting the closest tap names.
  void check_tap(const std::string& name) const;

  // Runs `input` [N,3,H,W] (float32 or convertible) in eval mode, under NoGradGuard, and captures
  // the outputs of `taps` (names checked first). A tap holds the module's output as returned: a
  // later in-place op does not change it. A module called more than once per forward (a block's
  // `relu`) keeps its last output. Unasked-for modules cost nothing. Throws Error when the input
  // shape does not fit the network (e.g. too small, or not 224x224 for the seed's AlexNet).
  ForwardResult run(const at::Tensor& input, const std::vector<std::string>& taps = {}) const;
  // The same with RunOptions (gradients, a hook). The module's training mode is left as it is
  // (eval after build; `module().train()` for training).
  ForwardResult run(const at::Tensor& input, const RunOptions& options) const;

  // The state_dict as Python's `model.state_dict()` gives it (parameters and buffers, in module
  // order), sharing storage with the network; `file`/`format` empty.
  StateDict state_dict() const;

  // The root module, for callers that need more than the above (e.g. a layer's weight by name).
  torch::nn::Module& module() const;

 private:
  std::shared_ptr<Impl> impl_;
};

// Rebuilds the network of a state_dict and loads it strictly: a missing key, an unexpected key or
// a shape mismatch throws Error naming sd.file, listing the first few of each with counts and a
// hint ("looks like resnet50; pass --arch resnet50", "keys start with 'backbone.'"). A state_dict
// that matches no family throws Error saying which families were tried and why each failed.
Network build_network(const StateDict& sd, const BuildOptions& options = {});

// A fresh network of any known arch, initialized as torchvision initializes that family (AlexNet,
// VGG and ResNet: as the seed does: conv kaiming normal, fan_out, relu; linear normal(0, 0.01);
// biases 0; BN weight 1, bias 0), deterministic for a seed.
Network init_network(const InitOptions& options);

// "alexnet", "alexnet_seed", "vgg11", ..., "resnet152", "resnext50_32x4d", ..., "densenet121", ...:
// every family's archs, in registry order.
std::vector<std::string> known_archs();

}  // namespace cnnscope::models
