// The checkpoint stage's public face: a state_dict as an ordered list of named tensors, loaded
// from any supported file (zip/legacy torch.save of a state_dict, a training checkpoint, a whole
// model, a tensor or list of tensors; TorchScript archives; safetensors), and the module tree of
// whole-model pickles and TorchScript archives. Later stages include only this.
#pragma once

#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cnnscope {

// How a quantized tensor was stored (torch._utils._rebuild_qtensor). Its tensor holds the
// dequantized float32 values, as Tensor.dequantize() gives them.
struct Quantization {
  std::string dtype;   // "qint8" | "quint8" | "qint32"
  std::string scheme;  // "per_tensor_affine" | "per_channel_affine"
  double scale = 0;    // per tensor
  int64_t zero_point = 0;
  at::Tensor scales;       // per channel: [C] float64
  at::Tensor zero_points;  // per channel: [C] int64
  int64_t axis = 0;
};

struct NamedTensor {
  std::string name;
  at::Tensor tensor;  // CPU; may alias the file read into memory (read-only: clone before writing)
  std::optional<Quantization> quantized = std::nullopt;  // set: `tensor` is dequantized
};

struct StateDict {
  std::string file;    // path it was read from
  std::string format;  // "zip" | "legacy" | "torchscript" | "safetensors" | "pt2" | "onnx"
  std::vector<NamedTensor> tensors;  // in the order of the file
  // torch's state_dict()._metadata versions: each module's prefix ("" for the root, "layers.0")
  // and its class's _version, as Python's state_dict() records them (Network::state_dict fills
  // them); save_pth writes them (torchvision's MNASNet refuses a state_dict without its version
  // 2). Empty: none written. Readers leave it empty.
  std::vector<std::pair<std::string, int64_t>> versions;

  const at::Tensor* find(const std::string& name) const {
    for (const NamedTensor& t : tensors)
      if (t.name == name) return &t.tensor;
    return nullptr;
  }
};

struct LoadOptions {
  std::string key;  // nested dict to take (`--key`); empty: the first that holds tensors
};

// One value anywhere in the file, by its path (`optimizer.state.0.momentum_buffer`, `epoch`).
struct CheckpointEntry {
  std::string path;
  at::Tensor tensor;  // defined for tensors
  std::string value;  // Python-like text of a non-tensor value (`7`, `'sgd'`, `[0, 1]`)
  std::optional<Quantization> quantized = std::nullopt;
};

// One module of a whole-model pickle or a TorchScript archive, in named_modules() order.
struct ModuleInfo {
  std::string path;        // "" for the root, "features.0"
  std::string class_name;  // qualified: "torch.nn.modules.conv.Conv2d", "__main__.Net"
                           // (TorchScript: without "__torch__." and name mangling)
  // torch.nn classes: the public plain attributes (`kernel_size`, `stride`, `in_features`; in
  // TorchScript also its Final constants) as Python reprs, in the file's order.
  std::vector<std::pair<std::string, std::string>> hparams;
};

// Everything `ls --all` shows: the state_dict that load_state_dict() picks, the key it was
// found under ("" for the top level) and every tensor and plain value of the file, in order.
struct Checkpoint {
  StateDict state_dict;
  std::string state_dict_key;
  bool stripped_module_prefix = false;
  std::vector<CheckpointEntry> entries;
  // What the state_dict was read from: "state_dict" (a dict of tensors), "model" (a whole-model
  // pickle: the module tree's parameters and persistent buffers), "torchscript", "tensor" (one
  // tensor, named "0"), "tensors" (a list/tuple of tensors named "0", "1", ...) or "program" (a
  // torch.export program's parameters and buffers, an ONNX model's initializers).
  std::string content = "state_dict";
  std::vector<ModuleInfo> modules;  // "model" and "torchscript": the module tree
};

Checkpoint load_checkpoint(const std::string& path, const LoadOptions& options = {});

// Reads the state_dict of `path`, detecting the format from its first bytes.
// Throws Error naming the file on anything unreadable; executes nothing from the file.
StateDict load_state_dict(const std::string& path, const LoadOptions& options = {});

// Queries over a loaded state_dict, shared by every command (implemented in state_dict.cpp).

// BatchNorm's step counter `*.num_batches_tracked`: listed by `ls`, left out of statistics and
// histograms (as the seed's scripts leave it out), optional when loading into a network.
bool is_batch_counter(const std::string& key);

// A convolution weight: a 4-D floating tensor [C_out, C_in, kH, kW].
bool is_conv_weight(const at::Tensor& t);

// The first convolution weight in file order, or nullptr.
const NamedTensor* first_conv_weight(const StateDict& sd);

// "conv weights: a.weight, b.weight, ..." (at most 12), for hints; says so when there is none.
std::string conv_weights_hint(const StateDict& sd);

// The tensors whose key matches any of `globs` (fnmatch, as the shell), in file order; all when
// `globs` is empty. A glob that matches nothing throws Error naming sd.file and the closest keys.
std::vector<const NamedTensor*> match_keys(const StateDict& sd,
                                           const std::vector<std::string>& globs);

}  // namespace cnnscope
