// Internals shared by the model families: the tap probe, a module base that runs with it, a
// Sequential that names its children "0", "1", ... like PyTorch's, and the family registry entry.
// Not a public header: other stages use models/network.h.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "checkpoint/state_dict.h"
#include "models/layout.h"
#include "models/network.h"

namespace cnnscope::models::detail {

// The capture set of one forward pass: modules call probe(name, output) after they run and
// continue with what it returns. Only names asked for are captured; the rest cost a lookup.
// Without gradients a capture is a clone (a later in-place op cannot change it). With gradients
// (RunOptions::gradients) the capture is the module's output itself, in the autograd graph, and
// the forward continues with a clone of it, so autograd::grad(logit, capture) is the gradient
// with respect to that output and later in-place ops touch only the copy. A hook
// (RunOptions::hook) sees every module's output first and returns the tensor the forward uses.
class Probe {
 public:
  using Hook = std::function<at::Tensor(const std::string& name, const at::Tensor& output)>;

  Probe() = default;
  Probe(const std::unordered_map<std::string, size_t>* wanted, std::vector<at::Tensor>* out,
        bool gradients = false, const Hook* hook = nullptr)
      : wanted_(wanted), out_(out), gradients_(gradients), hook_(hook) {}

  // A layout's names (layout.h): module names are translated to the file's before anything sees
  // them; a module missing from `names` is not shown (its output passes unseen). Null: as named.
  void show_as(const std::unordered_map<std::string, std::string>* names) { names_ = names; }

  // The tensor the forward continues with after module `name` gave `output`.
  at::Tensor operator()(const std::string& name, const at::Tensor& output);

 private:
  const std::unordered_map<std::string, size_t>* wanted_ = nullptr;
  std::vector<at::Tensor>* out_ = nullptr;
  bool gradients_ = false;
  const Hook* hook_ = nullptr;
  const std::unordered_map<std::string, std::string>* names_ = nullptr;
};

// A module whose forward reports its own output and its children's to the probe. `path` is its
// qualified name in the network ("" for the root, "layer2.0" for a block).
class Layer : public torch::nn::Module {
 public:
  Layer(const std::string& type, std::string path)
      : torch::nn::Module(type), path_(std::move(path)) {}
  virtual at::Tensor forward(at::Tensor x, Probe& probe) = 0;
  const std::string& path() const { return path_; }
  // print(model)'s line for it when it is a leaf ("Hardswish()"); containers print their type.
  virtual std::string repr() const { return name(); }
  // Python's class _version, recorded in state_dict()._metadata (MNASNet's is 2).
  virtual int64_t version() const { return 1; }

  // "prefix.child" or "child" at the root.
  std::string child_path(const std::string& child) const;

 private:
  std::string path_;
};

// PyTorch's nn.Sequential: children named "0", "1", ...; each output reported to the probe.
class Sequential : public Layer {
 public:
  explicit Sequential(std::string path) : Layer("Sequential", std::move(path)) {}
  // A subclass of nn.Sequential: Python's class name `type` ("Conv2dNormActivation").
  Sequential(const std::string& type, std::string path) : Layer(type, std::move(path)) {}

  // Appends a LibTorch module holder (Conv2d, ReLU, ...) or a Layer.
  template <typename Holder>
  void push_back(Holder module) {
    push_back(std::to_string(steps_.size()), std::move(module));
  }
  // Appends it under a name of its own (an OrderedDict's key: "a", "block1-0").
  template <typename Holder>
  void push_back(const std::string& name, Holder module) {
    auto registered = register_module(name, module);
    steps_.push_back({child_path(name), [registered](at::Tensor x, Probe& probe) {
                        return call(registered, std::move(x), probe);
                      }});
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override;

  size_t size() const { return steps_.size(); }
  // "Sequential()" when empty, as print(model) shows it; else the type.
  std::string repr() const override;

 private:
  struct Step {
    std::string path;
    std::function<at::Tensor(at::Tensor, Probe&)> run;
  };

  template <typename Holder>
  static at::Tensor call(const Holder& m, at::Tensor x, Probe& probe) {
    if constexpr (std::is_base_of_v<Layer, std::decay_t<decltype(*m)>>) {
      return m->forward(std::move(x), probe);
    } else {
      return m->forward(x);
    }
  }

  std::vector<Step> steps_;
};

// Factories for the leaves, with PyTorch's defaults where the families use them.
torch::nn::Conv2d conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                         bool bias, int64_t groups = 1);
torch::nn::BatchNorm2d batch_norm(int64_t channels);
torch::nn::ReLU relu(bool inplace);
torch::nn::MaxPool2d max_pool(int64_t kernel, int64_t stride, int64_t padding = 0,
                              bool ceil_mode = false);
torch::nn::Linear linear(int64_t in, int64_t out);
torch::nn::Dropout dropout();
torch::nn::AdaptiveAvgPool2d adaptive_avg_pool(int64_t size);

// A rebuilt network, before loading.
struct Built {
  std::shared_ptr<Layer> root;  // nullptr: the keys did not fit (see the family's `why_not`)
  ArchInfo info;
};

// The taps of a network (named_modules() order) -> `features` layer names.
using LayerPick = std::function<std::vector<std::string>(const std::vector<TapInfo>& taps)>;
// The taps of a network -> the name of one of them.
using TapPick = std::function<std::string(const std::vector<TapInfo>& taps)>;

// One family: everything cnnscope knows about it. Registering a new family is one line in
// registry.cpp's families() list (its accessor is declared below); nothing else names families.
struct Family {
  std::string name;                // "alexnet" | "vgg" | "resnet" | "densenet" | ...
  std::vector<std::string> archs;  // names `--arch` accepts: torchvision's builder names
  std::string classes_key;         // the last Linear's weight (or conv): its rows are the classes
  // Reads the configuration from keys and shapes; on a misfit returns root == nullptr and says
  // why in `why_not` ("no key conv1.weight").
  std::function<Built(const StateDict& sd, std::string& why_not)> detect;
  // The canonical network `arch` (one of `archs`) with `num_classes` outputs.
  std::function<Built(const std::string& arch, int64_t num_classes)> make;
  // Default `features` layers (the first conv stage, an early and a middle block) and
  // `--layers all`, both picked from the taps.
  LayerPick default_layers{};
  LayerPick all_layers{};
  // The default CAM target layer, picked as pytorch-grad-cam's examples pick it for the family
  // (ResNet's layer4[-1], VGG's features[-1]); null: explain::default_cam_layer's fallback.
  TapPick cam_layer{};
  // The input preset (a name image/input.h's preset() knows) of an arch of this family, as
  // torchvision's IMAGENET1K_V1 weights define it; null: "imagenet". See presets_for().
  std::function<std::string(const std::string& arch)> preset{};
  // torchvision's initialization of the family, run after torch::manual_seed(seed) on a freshly
  // made network; null: the seed's (kaiming normal fan_out convs, normal(0, 0.01) linears, zero
  // biases, BN 1/0), which AlexNet, VGG and ResNet keep.
  std::function<void(torch::nn::Module& root)> init{};
  // Applies what the keys cannot tell (Inception's transform_input) from BuildOptions to a built
  // network (detected or made); null: nothing to apply.
  std::function<void(Built& built, const BuildOptions& options)> configure{};
  // Archs of the family only a layout names (timm's resnet50d, the seed series' GoogLeNet):
  // detect may give them and make builds them; they are known under the layout's names only.
  std::vector<std::string> variants{};
  // The family's networks under other libraries' names (layout.h): timm's, the seed series'.
  std::vector<Layout> layouts{};
};

// A Family::preset that gives `arch` itself for the archs listed (each a preset name of its own)
// and "imagenet" for the rest.
std::function<std::string(const std::string& arch)> presets_for(std::vector<std::string> own);

// Names of the taps whose type is one of `types`, in named_modules() order.
std::vector<std::string> taps_of_type(const std::vector<TapInfo>& taps,
                                      const std::vector<std::string>& types);

// The first `n` of `names` (all when fewer).
std::vector<std::string> first_of(std::vector<std::string> names, size_t n);

// A Family::cam_layer: the last direct child of top-level module `parent` (Python's
// model.parent[-1]); "" when it has none.
TapPick last_child_of(std::string parent);
// A Family::cam_layer: the module `name` (GoogLeNet's inception5b).
TapPick module_named(std::string name);
// The CAM layer of a network whose family declares none (network.h, default_cam_layer()); "" when
// it has no convolution.
std::string fallback_cam_layer(const std::vector<TapInfo>& taps);

// AlexNet's and VGG's layers: the ReLU after each convolution of `features`, the first `limit`.
LayerPick features_relus(size_t limit = SIZE_MAX);

// The families, each defined in src/models/<family>.cpp.
const Family& alexnet_family();
const Family& vgg_family();
const Family& resnet_family();  // ResNet, ResNeXt, Wide ResNet
const Family& densenet_family();
const Family& squeezenet_family();
const Family& googlenet_family();
const Family& inception_family();
const Family& mobilenet_v2_family();
const Family& mobilenet_v3_family();
const Family& mnasnet_family();
const Family& shufflenet_family();
const Family& efficientnet_family();
const Family& regnet_family();
const Family& convnext_family();
// The tutorial nets: src/models/cifar_resnet.cpp, lenet.cpp, mnist_net.cpp.
const Family& cifar_resnet_family();  // akamaster's CIFAR ResNet-20 ... 1202
const Family& lenet_family();         // the 60-minute blitz CNN and the seed's LeNet
const Family& mnist_net_family();     // pytorch/examples' MNIST Net
// PyTorch's default initialization of every Conv2d and Linear (reset_parameters), for families
// whose authors keep it (lenet.cpp).
void init_pytorch_default(torch::nn::Module& root);
// nn.Sequential rebuilt from a whole-model pickle's module tree (src/models/sequential.cpp); last
// in detection order, after every family that knows its network from the keys.
const Family& sequential_family();

// Why `sd`, a whole-model pickle that no family fits, cannot run ("a whole model of class
// __main__.Net: its forward is Python code ..."); "" when it is not a whole-model pickle.
std::string unknown_forward(const StateDict& sd);

// The shape of `key` in `sd`, or an empty vector when it is absent.
std::vector<int64_t> shape_of(const StateDict& sd, const std::string& key);

// "48-128-192" for {48, 128, 192}.
std::string join_widths(const std::vector<int64_t>& widths);

}  // namespace cnnscope::models::detail
