// module_state_dict and is_module (see module_tree.h): the walk over `_parameters`, `_buffers`
// (less `_non_persistent_buffers_set`) and `_modules` of eager modules, and over the attributes
// of TorchScript objects that their class's `__parameters__`/`__buffers__` name. Class names of
// TorchScript lose "__torch__." and "___torch_mangle_N."; torch.nn classes list their plain
// public attributes as hyper-parameters.
#include "checkpoint/module_tree.h"

#include <algorithm>
#include <unordered_set>

#include "common/error.h"
#include "common/text.h"

namespace cnnscope {
namespace {

using pickle::Kind;
using pickle::Value;

constexpr int kMaxDepth = 64;

bool is_plain(const Value& v, int depth = 0) {
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
        if (!is_plain(*item, depth + 1)) return false;
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
  std::unordered_set<const Value*> open;

  void add_tensor(const std::string& name, const Value& v) {
    tensors.push_back({name, pth.tensor(*v.tensor), pth.quantization(*v.tensor)});
  }

  void walk(const Value& m, const std::string& path, int depth) {
    if (depth > kMaxDepth || !open.insert(&m).second)
      fail(pth.file->path(),
           "module tree at '" + path + "' is deeper than " + std::to_string(kMaxDepth) +
               " or contains itself",
           "the file is damaged or crafted");
    const Value& state = *m.state;
    const std::string prefix = path.empty() ? "" : path + ".";
    auto script = pth.script_classes.find(m.s);
    const bool scripted = script != pth.script_classes.end();
    if (modules) {
      ModuleInfo info{path, plain_class_name(m.s), {}};
      if (is_torch_nn(info.class_name)) {
        for (const auto& [k, v] : state.entries)
          if (k->kind == Kind::Str && !starts_with(k->s, "_") && k->s != "training" &&
              is_plain(*v) && !(scripted && is_tensor_slot(script, k->s)))
            info.hparams.emplace_back(k->s, pickle::repr(*v));
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
  }
};

}  // namespace

bool is_module(const PthFile& pth, const Value& v) {
  if (v.kind != Kind::Object || !v.state || v.state->kind != Kind::Dict) return false;
  if (pth.script_classes.count(v.s)) return true;
  const Value* params = pickle::dict_get(*v.state, "_parameters");
  const Value* children = pickle::dict_get(*v.state, "_modules");
  return params && children && params->kind == Kind::Dict && children->kind == Kind::Dict;
}

void module_state_dict(PthFile& pth, const Value& root, const std::string& prefix,
                       std::vector<NamedTensor>& tensors, std::vector<ModuleInfo>* modules) {
  Walker walker{pth, tensors, modules, {}};
  std::string path = prefix;
  if (!path.empty() && path.back() == '.') path.pop_back();
  walker.walk(root, path, 0);
}

}  // namespace cnnscope
