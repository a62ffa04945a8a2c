// module_state_dict and is_module (see module_tree.h): the walk over `_parameters`, `_buffers`
// (less `_non_persistent_buffers_set`) and `_modules` of eager modules, and over the attributes
// of TorchScript objects that their class's `__parameters__`/`__buffers__` name. Class names of
// TorchScript lose "__torch__." and "___torch_mangle_N."; torch.nn classes list their plain
// public attributes as hyper-parameters. A module met again (shared by two parents) is not walked
// again: the entries of its first walk are copied under the new path.
#include "checkpoint/module_tree.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"
#include "common/text.h"

namespace cnnscope {
namespace {

using pickle::Kind;
using pickle::Value;

constexpr int kMaxDepth = 64;
constexpr size_t kMaxEntries = size_t{1} << 20;
constexpr size_t kMaxBytes = size_t{64} << 20;
constexpr size_t kMaxScanned = size_t{1} << 26;

// A hyper-parameter's value: scalars, and lists/tuples of them 3 levels deep; `left` counts down
// the values looked at (a tuple of shared tuples would otherwise cost its length cubed).
constexpr int kMaxPlainItems = 256;

bool is_plain(const Value& v, int depth, int& left) {
  if (--left < 0) return false;
  switch (v.kind) {
    case Kind::None:
    case Kind::Bool:
    case Kind::Int:
    case Kind::Float:
    case Kind::Str:
      return true;
    case Kind::Tuple:
    case Kind::List:
      if (depth > 2) return false;
      for (const Value* item : v.items)
        if (!is_plain(*item, depth + 1, left)) return false;
      return true;
    default:
      return false;
  }
}

// "__torch__.torch.nn.modules.conv.___torch_mangle_0.Conv2d" -> "torch.nn.modules.conv.Conv2d".
std::string plain_class_name(const std::string& name) {
  std::string out;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    const std::string part = name.substr(start, dot - start);
    if (!(start == 0 && part == "__torch__") && !starts_with(part, "___torch_mangle_"))
      out += (out.empty() ? "" : ".") + part;
    start = dot + 1;
  }
  return out;
}

bool is_torch_nn(const std::string& class_name) {
  return starts_with(class_name, "torch.nn.") || starts_with(class_name, "torch.ao.nn.");
}

// A TorchScript parameter or buffer slot (None where an Optional[Tensor] is unset).
bool is_tensor_slot(std::map<std::string, PthFile::ScriptClass>::const_iterator script,
                    const std::string& name) {
  const std::vector<std::string>& p = script->second.parameters;
  const std::vector<std::string>& b = script->second.buffers;
  return std::find(p.begin(), p.end(), name) != p.end() ||
         std::find(b.begin(), b.end(), name) != b.end();
}

struct Walker {
  PthFile& pth;
  std::vector<NamedTensor>& tensors;
  std::vector<ModuleInfo>* modules;
  OutputBudget& budget;
  std::unordered_set<const Value*> open;
  // Each module walked so far: the path of its first walk and the entries that walk appended.
  struct Done {
    std::string path;
    size_t tensors_begin, tensors_end, modules_begin, modules_end;
  };
  std::unordered_map<const Value*, Done> done;

  void add_tensor(const std::string& name, const Value& v) {
    budget.charge(1, name.size());
    tensors.push_back({name, pth.tensor(*v.tensor), pth.quantization(*v.tensor)});
  }

  // The entries of `first`'s walk again, their names moved from first.path to `path`.
  void repeat(const Done& first, const std::string& path) {
    const auto moved = [&](const std::string& name) {
      std::string out = path + name.substr(first.path.size());
      budget.charge(1, out.size());
      return out;
    };
    for (size_t i = first.tensors_begin; i < first.tensors_end; ++i) {
      NamedTensor t = tensors[i];
      t.name = moved(t.name);
      tensors.push_back(std::move(t));
    }
    if (modules)
      for (size_t i = first.modules_begin; i < first.modules_end; ++i) {
        ModuleInfo m = (*modules)[i];
        m.path = moved(m.path);
        modules->push_back(std::move(m));
      }
  }

  void walk(const Value& m, const std::string& path, int depth) {
    if (depth > kMaxDepth || open.count(&m))
      fail(pth.file->path(),
           "module tree at '" + path + "' is deeper than " + std::to_string(kMaxDepth) +
               " or contains itself",
           "the file is damaged or crafted");
    if (auto it = done.find(&m); it != done.end()) return repeat(it->second, path);
    // This walk scans the state a few times, and each child's state (is_module) once.
    size_t scanned = m.state->entries.size();
    for (const auto& [k, v] : m.state->entries) {
      scanned += v->entries.size();
      for (const auto& [ck, child] : v->entries)
        if (child->state) scanned += child->state->entries.size();
    }
    budget.charge(0, path.size(), scanned);
    open.insert(&m);
    Done record{path, tensors.size(), 0, modules ? modules->size() : 0, 0};
    const Value& state = *m.state;
    const std::string prefix = path.empty() ? "" : path + ".";
    auto script = pth.script_classes.find(m.s);
    const bool scripted = script != pth.script_classes.end();
    if (modules) {
      ModuleInfo info{path, plain_class_name(m.s), {}};
      budget.charge(1, info.class_name.size());
      if (is_torch_nn(info.class_name)) {
        for (const auto& [k, v] : state.entries) {
          if (k->kind != Kind::Str || starts_with(k->s, "_") || k->s == "training") continue;
          int left = kMaxPlainItems;
          const bool plain = is_plain(*v, 0, left);
          budget.charge(0, 0, static_cast<size_t>(kMaxPlainItems - std::max(left, 0)));
          if (!plain || (scripted && is_tensor_slot(script, k->s))) continue;
          info.hparams.emplace_back(k->s, pickle::repr(*v));
          budget.charge(0, k->s.size() + info.hparams.back().second.size());
        }
        if (scripted)
          info.hparams.insert(info.hparams.end(), script->second.constants.begin(),
                              script->second.constants.end());
      }
      modules->push_back(std::move(info));
    }
    if (scripted) {
      // TorchScript: the attributes are the object's state, in the class's slot order.
      for (const std::vector<std::string>* names :
           {&script->second.parameters, &script->second.buffers})
        for (const auto& [k, v] : state.entries)
          if (k->kind == Kind::Str && v->kind == Kind::Tensor &&
              std::find(names->begin(), names->end(), k->s) != names->end())
            add_tensor(prefix + k->s, *v);
      for (const auto& [k, v] : state.entries)
        if (k->kind == Kind::Str && is_module(pth, *v)) walk(*v, prefix + k->s, depth + 1);
    } else {
      std::unordered_set<std::string> non_persistent;
      if (const Value* s = pickle::dict_get(state, "_non_persistent_buffers_set"))
        for (const Value* name : s->items)
          if (name->kind == Kind::Str) non_persistent.insert(name->s);
      if (const Value* params = pickle::dict_get(state, "_parameters"))
        for (const auto& [k, v] : params->entries)
          if (k->kind == Kind::Str && v->kind == Kind::Tensor) add_tensor(prefix + k->s, *v);
      if (const Value* buffers = pickle::dict_get(state, "_buffers"))
        for (const auto& [k, v] : buffers->entries)
          if (k->kind == Kind::Str && v->kind == Kind::Tensor && !non_persistent.count(k->s))
            add_tensor(prefix + k->s, *v);
      for (const auto& [k, v] : pickle::dict_get(state, "_modules")->entries)
        if (k->kind == Kind::Str && is_module(pth, *v)) walk(*v, prefix + k->s, depth + 1);
    }
    open.erase(&m);
    record.tensors_end = tensors.size();
    record.modules_end = modules ? modules->size() : 0;
    done.emplace(&m, std::move(record));
  }
};

}  // namespace

void OutputBudget::charge(size_t entries, size_t bytes, size_t scanned) {
  entries_ += entries;
  bytes_ += bytes;
  scanned_ += scanned;
  if (entries_ > kMaxEntries || bytes_ > kMaxBytes || scanned_ > kMaxScanned)
    fail(file_,
         "the pickle expands to more than " + std::to_string(kMaxEntries) + " entries, " +
             std::to_string(kMaxBytes >> 20) + " MiB of names or " + std::to_string(kMaxScanned) +
             " dict entries to scan",
         "the file is damaged or crafted (values shared many times over)");
}

bool is_module(const PthFile& pth, const Value& v) {
  if (v.kind != Kind::Object || !v.state || v.state->kind != Kind::Dict) return false;
  if (pth.script_classes.count(v.s)) return true;
  const Value* params = pickle::dict_get(*v.state, "_parameters");
  const Value* children = pickle::dict_get(*v.state, "_modules");
  return params && children && params->kind == Kind::Dict && children->kind == Kind::Dict;
}

void module_state_dict(PthFile& pth, const Value& root, const std::string& prefix,
                       std::vector<NamedTensor>& tensors, std::vector<ModuleInfo>* modules,
                       OutputBudget& budget) {
  Walker walker{pth, tensors, modules, budget, {}, {}};
  std::string path = prefix;
  if (!path.empty() && path.back() == '.') path.pop_back();
  walker.walk(root, path, 0);
}

}  // namespace cnnscope
