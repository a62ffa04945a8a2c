// load_state_dict / load_checkpoint: detects the format from the first bytes, then finds the
// state_dict (top level, or the first of state_dict/model_state_dict/model/net/module/ema holding
// tensors or a whole model, or --key), reads a whole model's or TorchScript module's state_dict
// from its module tree, names a lone tensor or a list of tensors 0, 1, ..., and strips a
// DataParallel `module.` prefix. Quantized Linear's `_packed_params` tuples of tensors become
// `<key>.0`, `<key>.1`. Leaves out: the pre-1.0 tar format.
#include <unordered_map>

#include "checkpoint/module_tree.h"
#include "checkpoint/onnx_file.h"
#include "checkpoint/pt2.h"
#include "checkpoint/pth.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/text.h"

namespace cnnscope {
namespace {

using pickle::Kind;
using pickle::Value;

constexpr const char* kStateDictKeys[] = {"state_dict", "model_state_dict", "model",
                                          "net",        "module",           "ema"};
constexpr const char* kModulePrefix = "module.";
constexpr int kMaxDepth = 64;

std::string key_text(const Value& k) {
  if (k.kind == Kind::Str) return k.s;
  if (k.kind == Kind::Int) return std::to_string(k.i);
  return pickle::repr(k);
}

bool holds_tensors(const PthFile& pth, const Value& v) {
  if (is_module(pth, v)) return true;
  if (v.kind != Kind::Dict) return false;
  for (const auto& [k, val] : v.entries)
    if (val->kind == Kind::Tensor) return true;
  return false;
}

// A tuple of tensors (and Nones) under a key ending in `_packed_params`: what the state_dict of a
// quantized Linear holds, (weight, bias).
bool is_packed_params(const std::string& key, const Value& v) {
  if (!ends_with(key, "_packed_params") || (v.kind != Kind::Tuple && v.kind != Kind::List) ||
      v.items.empty())
    return false;
  for (const Value* item : v.items)
    if (item->kind != Kind::Tensor && item->kind != Kind::None) return false;
  return true;
}

bool is_tensor_list(const Value& v) {
  if ((v.kind != Kind::List && v.kind != Kind::Tuple) || v.items.empty()) return false;
  for (const Value* item : v.items)
    if (item->kind != Kind::Tensor) return false;
  return true;
}

const Value* child(const Value& dict, const std::string& key) {
  if (dict.kind != Kind::Dict) return nullptr;
  for (const auto& [k, v] : dict.entries)
    if (key_text(*k) == key) return v;
  return nullptr;
}

std::string top_keys(const Value& root) {
  std::string out;
  if (root.kind != Kind::Dict) return "the top level is not a dict";
  for (const auto& [k, v] : root.entries) {
    if (out.size() > 200) return "top-level keys: " + out + ", ...";
    out += (out.empty() ? "" : ", ") + key_text(*k);
  }
  return "top-level keys: " + (out.empty() ? std::string("none") : out);
}

bool is_scalar(const Value& v) {
  return v.kind != Kind::Tensor && v.kind != Kind::Dict && v.kind != Kind::List &&
         v.kind != Kind::Tuple && v.kind != Kind::Set && v.kind != Kind::Object;
}

// Every tensor and plain value under `v`, depth-first in file order. Each container, object and
// module is expanded once: met again (shared through the pickle's memo, or a cycle), it is one
// entry "<same as 'first.path'>". A module's tensors come by their state_dict names; another
// object shows its state's entries. Every path built and entry made is charged to `budget`.
struct Flattener {
  PthFile& pth;
  OutputBudget& budget;
  std::vector<CheckpointEntry>& out;
  std::unordered_map<const Value*, std::string> seen;  // node -> the path it was first met at

  void add(const std::string& path, std::string text) {
    budget.charge(1, path.size() + text.size());
    out.push_back({path, at::Tensor(), std::move(text)});
  }

  void flatten(const Value& v, const std::string& path, int depth) {
    budget.charge(0, path.size());
    if (v.kind == Kind::Tensor) {
      budget.charge(1, path.size());
      out.push_back({path, pth.tensor(*v.tensor), "", pth.quantization(*v.tensor)});
      return;
    }
    const bool container = v.kind == Kind::Dict || v.kind == Kind::List || v.kind == Kind::Tuple;
    if ((container || v.kind == Kind::Object) && !seen.emplace(&v, path).second)
      return add(path, "<same as '" + seen[&v] + "'>");
    if (is_module(pth, v)) {
      std::vector<NamedTensor> tensors;
      module_state_dict(pth, v, path.empty() ? "" : path + ".", tensors, nullptr, budget);
      for (NamedTensor& t : tensors)
        out.push_back({t.name, std::move(t.tensor), "", std::move(t.quantized)});
      return;
    }
    if (v.kind == Kind::Object && v.state && v.state->kind == Kind::Dict &&
        !v.state->entries.empty())
      return flatten(*v.state, path, depth + 1);
    bool plain = !container;
    if (v.kind == Kind::List || v.kind == Kind::Tuple) {
      plain = true;
      for (const Value* item : v.items) plain = plain && is_scalar(*item);
    }
    if (plain || (v.kind == Kind::Dict && v.entries.empty()) || depth >= kMaxDepth)
      return add(path, pickle::repr(v));
    const std::string prefix = path.empty() ? "" : path + ".";
    if (v.kind == Kind::Dict) {
      for (const auto& [k, item] : v.entries) flatten(*item, prefix + key_text(*k), depth + 1);
    } else {
      for (size_t i = 0; i < v.items.size(); ++i)
        flatten(*v.items[i], prefix + std::to_string(i), depth + 1);
    }
  }
};

// The tensors of one dict: a key set twice keeps its first position and its last value.
std::vector<NamedTensor> tensors_of(PthFile& pth, const Value& dict) {
  std::vector<NamedTensor> out;
  std::unordered_map<std::string, size_t> index;
  auto add = [&](const std::string& name, const pickle::TensorRef& ref) {
    NamedTensor t{name, pth.tensor(ref), pth.quantization(ref)};
    auto it = index.find(name);
    if (it != index.end()) {
      out[it->second] = std::move(t);
    } else {
      index.emplace(name, out.size());
      out.push_back(std::move(t));
    }
  };
  for (const auto& [k, v] : dict.entries) {
    const std::string name = key_text(*k);
    if (v->kind == Kind::Tensor) add(name, *v->tensor);
    if (is_packed_params(name, *v))
      for (size_t i = 0; i < v->items.size(); ++i)
        if (v->items[i]->kind == Kind::Tensor)
          add(name + "." + std::to_string(i), *v->items[i]->tensor);
  }
  return out;
}

// The state_dict of `v` (a dict of tensors, a module, a tensor or a list of tensors) and what it
// is, into `out`.
void read_state_dict(PthFile& pth, const Value& v, Checkpoint& out) {
  std::vector<NamedTensor>& tensors = out.state_dict.tensors;
  if (is_module(pth, v)) {
    out.content = pth.format == "torchscript" ? "torchscript" : "model";
    OutputBudget budget(pth.file->path());
    module_state_dict(pth, v, "", tensors, &out.modules, budget);
  } else if (v.kind == Kind::Tensor) {
    out.content = "tensor";
    tensors.push_back({"0", pth.tensor(*v.tensor), pth.quantization(*v.tensor)});
  } else if (is_tensor_list(v)) {
    out.content = "tensors";
    for (size_t i = 0; i < v.items.size(); ++i)
      tensors.push_back({std::to_string(i), pth.tensor(*v.items[i]->tensor),
                         pth.quantization(*v.items[i]->tensor)});
  } else {
    tensors = tensors_of(pth, v);
  }
}

bool strip_module_prefix(std::vector<NamedTensor>& tensors) {
  const std::string prefix = kModulePrefix;
  if (tensors.empty()) return false;
  for (const NamedTensor& t : tensors)
    if (t.name.compare(0, prefix.size(), prefix) != 0) return false;
  for (NamedTensor& t : tensors) t.name.erase(0, prefix.size());
  return true;
}

Checkpoint from_pth(PthFile& pth, const LoadOptions& options) {
  const std::string& path = pth.file->path();
  const Value& root = *pth.root;
  Checkpoint out;
  OutputBudget budget(path);
  Flattener{pth, budget, out.entries, {}}.flatten(root, "", 0);

  const Value* chosen = nullptr;
  if (!options.key.empty()) {
    chosen = child(root, options.key);
    if (!chosen) {  // a dotted key walks nested dicts: --key ema.module
      const Value* node = &root;
      size_t start = 0;
      for (size_t cut; node && (cut = options.key.find('.', start)) != std::string::npos;
           start = cut + 1)
        node = child(*node, options.key.substr(start, cut - start));
      if (node && start > 0) chosen = child(*node, options.key.substr(start));
    }
    if (!chosen) fail(path, "no key '" + options.key + "' in the checkpoint", top_keys(root));
    if (!holds_tensors(pth, *chosen))
      fail(path, "key '" + options.key + "' holds no tensors",
           "choose the dict of parameters; " + top_keys(root));
    out.state_dict_key = options.key;
  } else {
    for (const char* key : kStateDictKeys) {
      const Value* v = child(root, key);
      if (v && holds_tensors(pth, *v)) {
        chosen = v;
        out.state_dict_key = key;
        break;
      }
    }
    if (!chosen && (holds_tensors(pth, root) || root.kind == Kind::Tensor || is_tensor_list(root)))
      chosen = &root;
    if (!chosen && pth.format == "torchscript")  // nothing of it is loaded, let alone run
      fail(path,
           "refused: no tensors in the TorchScript module's attributes (a parameter-free module, "
           "or a custom __getstate__/__setstate__, which loading would run)",
           "save the model without __getstate__/__setstate__");
    if (!chosen)
      fail(path, "no state_dict found (no dict of tensors, model, tensor or list of tensors)",
           top_keys(root), {{"key", "NAME"}});
  }
  out.state_dict.file = path;
  out.state_dict.format = pth.format;
  read_state_dict(pth, *chosen, out);
  out.stripped_module_prefix = strip_module_prefix(out.state_dict.tensors);
  return out;
}

}  // namespace

// The weights of a graph file (a torch.export program's parameters and buffers by their
// state_dict names, an ONNX model's initializers) as a checkpoint of `format`.
Checkpoint from_graph_weights(StateDict weights, const std::string& format) {
  Checkpoint out;
  out.content = "program";
  out.state_dict = std::move(weights);
  out.state_dict.format = format;
  for (const NamedTensor& t : out.state_dict.tensors) out.entries.push_back({t.name, t.tensor, ""});
  return out;
}

Checkpoint load_checkpoint(const std::string& path, const LoadOptions& options) {
  auto file = MappedFile::open(path);
  register_input(path);
  if (file->size() == 0)
    fail(path, "file is empty", "expected a PyTorch checkpoint or safetensors");
  if (looks_like_zip(*file) && is_pt2(file)) {
    Pt2File pt2 = read_pt2(file);
    StateDict weights;
    weights.file = path;
    weights.tensors = std::move(pt2.weights);
    return from_graph_weights(std::move(weights), "pt2");
  }
  if (looks_like_zip(*file)) {
    auto pth = read_zip(file);
    return from_pth(*pth, options);
  }
  if (looks_like_legacy(*file)) {
    auto pth = read_legacy(file);
    return from_pth(*pth, options);
  }
  if (looks_like_safetensors(*file)) {
    Checkpoint out;
    out.state_dict = read_safetensors(file);
    if (!options.key.empty())
      fail(path, "a nested key does not apply to safetensors",
           "a safetensors file is one flat dict");
    for (const NamedTensor& t : out.state_dict.tensors)
      out.entries.push_back({t.name, t.tensor, ""});
    out.stripped_module_prefix = strip_module_prefix(out.state_dict.tensors);
    return out;
  }
  if (looks_like_onnx(*file)) return from_graph_weights(onnx_state_dict(path), "onnx");
  if (looks_like_tar(*file))
    fail(path, "tar-based checkpoint (PyTorch before 1.0) is not supported",
         "load and re-save it with a current torch.save");
  fail(path, "not a recognized checkpoint format",
       "expected torch.save output (.pth/.pt) or safetensors");
}

StateDict load_state_dict(const std::string& path, const LoadOptions& options) {
  return load_checkpoint(path, options).state_dict;
}

}  // namespace cnnscope
