// load_script_module (script_module.h): PthFile (checkpoint/pth.h) reads data.pkl and
// constants.pkl with the restricted unpickler; torch::jit::SourceImporter compiles the classes of
// code/ on demand (parse + type-check only); Builder turns pickled values into IValues of the
// declared types. Spec: torch/csrc/jit/serialization/import.cpp, import_source.cpp, pickler.cpp.
#include "graph/script_module.h"

#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/serialization/import_source.h>

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include "checkpoint/pth.h"
#include "common/error.h"
#include "common/mapped_file.h"

namespace cnnscope::graph {
namespace {

using c10::IValue;
using pickle::Kind;

constexpr int kMaxDepth = 64;
constexpr int64_t kMaxValues = int64_t{1} << 24;

std::string first_line(const std::string& text) {
  const size_t start = text.find_first_not_of(" \n");
  if (start == std::string::npos) return "no reason given";
  return text.substr(start, text.find('\n', start) - start);
}

constexpr size_t kMaxCodeBytes = size_t{4} << 20;  // one code/ file; real ones are < 100 KB
constexpr size_t kMaxStatementBytes = 64 << 10;    // one logical line (brackets span lines)
constexpr int kMaxNesting = 64;                    // brackets, and indentation levels

constexpr size_t kClassBodyIndent = 2;  // torch.jit.save writes a class's body 2 spaces in

// A class-body line `NAME = value` must be __parameters__ or __buffers__: every other class
// attribute is annotated (`name : T`, `NAME : Final[T] = value`). LibTorch 1.13's compiler (the
// Debian build's) dereferences the missing annotation of any other one (found by fuzzing).
template <typename Refuse>
void check_class_line(const std::string& text, size_t start, const Refuse& refuse) {
  size_t end = start;
  while (end < text.size() &&
         (std::isalnum(static_cast<unsigned char>(text[end])) != 0 || text[end] == '_'))
    ++end;
  size_t next = end;
  while (next < text.size() && text[next] == ' ') ++next;
  const std::string name = text.substr(start, end - start);
  const bool assignment =
      end > start && next + 1 < text.size() && text[next] == '=' && text[next + 1] != '=';
  if (assignment && name != "__parameters__" && name != "__buffers__")
    refuse("has a class attribute '" + name + "' without a type");
}

// Refuses code text that would drive the compiler's recursion past what on_large_stack holds:
// a file over 4 MiB, brackets nested deeper than 64, more than 64 indentation levels, or one
// statement (a logical line) over 64 KiB. String literals are skipped.
void check_code(const std::string& file, const std::string& module, const std::string& text) {
  auto refuse = [&](const std::string& what) {
    fail(file, "code/ of " + module + " " + what, "the archive is damaged or crafted");
  };
  if (text.size() > kMaxCodeBytes) refuse("is larger than 4 MiB");
  int depth = 0;
  size_t statement_start = 0;
  bool line_start = true;
  bool in_class = false;  // the last top-level line began a class (not a function)
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (line_start && c != '\n') {
      const size_t indent = text.find_first_not_of(' ', i) - i;
      if (indent > 2 * static_cast<size_t>(kMaxNesting)) refuse("is indented too deeply");
      if (indent == 0 && depth == 0) in_class = text.compare(i, 6, "class ") == 0;
      if (indent == kClassBodyIndent && depth == 0 && in_class)
        check_class_line(text, i + indent, refuse);
      line_start = false;
    }
    if (c == '\'' || c == '"') {  // a string literal: to its closing quote
      for (++i; i < text.size() && text[i] != c && text[i] != '\n'; ++i)
        if (text[i] == '\\') ++i;
    } else if (c == '(' || c == '[' || c == '{') {
      if (++depth > kMaxNesting) refuse("nests brackets deeper than 64");
    } else if (c == ')' || c == ']' || c == '}') {
      depth = std::max(depth - 1, 0);
    } else if (c == '\n') {
      line_start = true;
      const bool continued = depth > 0 || (i > 0 && text[i - 1] == '\\');
      if (!continued) statement_start = i + 1;
    }
    if (i + 1 - statement_start > kMaxStatementBytes) refuse("has a statement longer than 64 KiB");
  }
}

// Pickled values to IValues of declared types, each pickled container or object built once.
class Builder {
 public:
  Builder(std::string file, PthFile& pth, std::shared_ptr<torch::jit::CompilationUnit> cu,
          torch::jit::SourceImporter& importer)
      : file_(std::move(file)), pth_(pth), cu_(std::move(cu)), importer_(importer) {}

  c10::intrusive_ptr<c10::ivalue::Object> object(const pickle::Value& v,
                                                 const c10::ClassTypePtr& declared, int depth) {
    if (v.kind != Kind::Object) bad("an object", v, declared);
    if (auto it = built_.find(&v); it != built_.end()) {
      if (building_.count(&v)) fail(file_, "data.pkl: object " + v.s + " contains itself");
      if (!it->second.isObject() || (declared && it->second.toObjectRef().type() != declared))
        bad("one type", v, declared);
      return it->second.toObject();
    }
    const c10::ClassTypePtr type = load_class(v.s);
    if (declared && type != declared) bad(declared->str(), v, declared);
    auto obj = c10::ivalue::Object::create(c10::StrongTypePtr(cu_, type), type->numAttributes());
    built_[&v] = obj;
    building_.insert(&v);
    std::unordered_map<std::string, const pickle::Value*> state;  // the BUILD dict, by name
    if (v.state && v.state->kind == Kind::Dict)
      for (const auto& [key, item] : v.state->entries)
        if (key->kind == Kind::Str) state.emplace(key->s, item);
    for (size_t i = 0; i < type->numAttributes(); ++i) {
      const std::string& name = type->getAttributeName(i);
      auto item = state.find(name);
      if (item == state.end())
        fail(file_, "data.pkl: " + v.s + " lacks its attribute '" + name + "'");
      IValue slot = value(*item->second, type->getAttribute(i), depth + 1);
      // Parameters require gradients, as nn.Parameter does (gradient runs build their graph).
      if (type->is_parameter(i) && slot.isTensor() && slot.toTensor().is_floating_point())
        slot.toTensor().requires_grad_(true);
      obj->setSlot(i, std::move(slot));
    }
    building_.erase(&v);
    return obj;
  }

  // A value of constants.pkl (no declared type): tensors, numbers, strings, None, tuples.
  IValue constant(const pickle::Value& v, int depth) {
    enter(depth);
    switch (v.kind) {
      case Kind::Tensor:
        return tensor(v);
      case Kind::Int:
        return v.i;
      case Kind::Float:
        return v.f;
      case Kind::Bool:
        return v.i != 0;
      case Kind::Str:
        return v.s;
      case Kind::None:
        return {};
      case Kind::Tuple: {
        std::vector<IValue> items;
        for (const pickle::Value* item : v.items) items.push_back(constant(*item, depth + 1));
        return c10::ivalue::Tuple::create(std::move(items));
      }
      default:
        fail(file_, "constants.pkl holds a value of an unsupported kind",
             "the archive is damaged or crafted");
    }
  }

 private:
  [[noreturn]] void bad(const std::string& want, const pickle::Value& v,
                        const c10::TypePtr& declared) {
    fail(file_,
         "data.pkl: a value (" + pickle::repr(v) + ") is not " + want +
             (declared ? " as its class declares (" + declared->str() + ")" : ""),
         "the archive is damaged or crafted");
  }

  void enter(int depth) {
    if (depth > kMaxDepth)
      fail(file_, "data.pkl nests values deeper than " + std::to_string(kMaxDepth),
           "the archive is damaged or crafted");
    if (++count_ > kMaxValues)
      fail(file_, "data.pkl holds more than " + std::to_string(kMaxValues) + " values",
           "the archive is damaged or crafted");
  }

  c10::ClassTypePtr load_class(const std::string& name) {
    c10::TypePtr type;
    try {
      type = importer_.loadType(c10::QualifiedName(name));
    } catch (const std::exception& e) {
      fail(file_, "its TorchScript code does not compile: " + first_line(e.what()),
           "saved by a much newer PyTorch, or edited by hand");
    }
    auto cls = type ? type->cast<c10::ClassType>() : nullptr;
    if (!cls)
      fail(file_, "data.pkl: " + name + " is not a class of code/", "the archive is damaged");
    for (const char* method : {"__setstate__", "__getstate__"})
      if (cls->findMethod(method))
        fail(file_, "refused: class " + name + " defines " + method + ", which loading would run",
             "save the model without a custom " + std::string(method));
    return cls;
  }

  at::Tensor tensor(const pickle::Value& v) {
    // The network's own copy: a forward that changes a weight in place changes no file memory.
    return pth_.tensor(*v.tensor).detach().clone();
  }

  IValue value(const pickle::Value& v, const c10::TypePtr& t, int depth) {
    enter(depth);
    if (auto it = built_.find(&v); it != built_.end() && t->kind() != c10::TypeKind::ClassType) {
      if (building_.count(&v)) fail(file_, "data.pkl: object " + v.s + " contains itself");
      if (it->second.type()->isSubtypeOf(*t)) return it->second;
      bad(t->str(), v, t);
    }
    IValue out = convert(v, t, depth);
    if (v.kind == Kind::Tensor || v.kind == Kind::List || v.kind == Kind::Dict ||
        v.kind == Kind::Tuple)
      built_[&v] = out;
    return out;
  }

  // One case per declared type kind.
  IValue convert(const pickle::Value& v, const c10::TypePtr& t, int depth) {
    switch (t->kind()) {
      case c10::TypeKind::TensorType:
        if (v.kind != Kind::Tensor) bad("a tensor", v, t);
        return tensor(v);
      case c10::TypeKind::OptionalType:
        if (v.kind == Kind::None) return {};
        return value(v, t->expectRef<c10::OptionalType>().getElementType(), depth);
      case c10::TypeKind::IntType:
        if (v.kind != Kind::Int) bad("an int", v, t);
        return v.i;
      case c10::TypeKind::FloatType:
        if (v.kind != Kind::Float && v.kind != Kind::Int) bad("a float", v, t);
        return v.kind == Kind::Float ? v.f : static_cast<double>(v.i);
      case c10::TypeKind::NumberType:
        if (v.kind == Kind::Int) return v.i;
        if (v.kind == Kind::Float) return v.f;
        bad("a number", v, t);
      case c10::TypeKind::BoolType:
        if (v.kind != Kind::Bool) bad("a bool", v, t);
        return v.i != 0;
      case c10::TypeKind::StringType:
        if (v.kind != Kind::Str) bad("a string", v, t);
        return v.s;
      case c10::TypeKind::NoneType:
        if (v.kind != Kind::None) bad("None", v, t);
        return {};
      case c10::TypeKind::ListType:
        return list(v, t->expectRef<c10::ListType>().getElementType(), depth);
      case c10::TypeKind::TupleType:
        return tuple(v, t->expectRef<c10::TupleType>(), depth);
      case c10::TypeKind::DictType:
        return dict(v, t->expectRef<c10::DictType>(), depth);
      case c10::TypeKind::ClassType:
        return object(v, t->cast<c10::ClassType>(), depth);
      default:
        fail(file_, "data.pkl: an attribute of type " + t->str() + " is not supported",
             "cnnscope loads modules whose attributes are tensors, numbers, strings, lists, "
             "tuples, dicts and modules");
    }
  }

  IValue list(const pickle::Value& v, const c10::TypePtr& element, int depth) {
    if (v.kind != Kind::List && v.kind != Kind::Tuple) bad("a list", v, nullptr);
    c10::impl::GenericList out(element);
    out.reserve(v.items.size());
    for (const pickle::Value* item : v.items) out.push_back(value(*item, element, depth + 1));
    return out;
  }

  IValue tuple(const pickle::Value& v, const c10::TupleType& type, int depth) {
    if (v.kind != Kind::Tuple || v.items.size() != type.elements().size())
      bad("a tuple of " + std::to_string(type.elements().size()), v, nullptr);
    std::vector<IValue> items;
    for (size_t i = 0; i < v.items.size(); ++i)
      items.push_back(value(*v.items[i], type.elements()[i], depth + 1));
    return c10::ivalue::Tuple::create(std::move(items));
  }

  IValue dict(const pickle::Value& v, const c10::DictType& type, int depth) {
    if (v.kind != Kind::Dict) bad("a dict", v, nullptr);
    c10::impl::GenericDict out(type.getKeyType(), type.getValueType());
    for (const auto& [key, item] : v.entries)
      out.insert_or_assign(value(*key, type.getKeyType(), depth + 1),
                           value(*item, type.getValueType(), depth + 1));
    return out;
  }

  std::string file_;
  PthFile& pth_;
  std::shared_ptr<torch::jit::CompilationUnit> cu_;
  torch::jit::SourceImporter& importer_;
  std::unordered_map<const pickle::Value*, IValue> built_;
  std::unordered_set<const pickle::Value*> building_;  // objects being built: a cycle
  int64_t count_ = 0;
};

// Every module object once, depth first in slot order (named_modules()), each put in eval mode.
void name_modules(ScriptModule& m) {
  std::vector<std::pair<std::string, c10::intrusive_ptr<c10::ivalue::Object>>> todo{{"", m.root}};
  while (!todo.empty()) {
    auto [name, obj] = std::move(todo.back());
    todo.pop_back();
    if (!m.names.emplace(obj.get(), name).second) continue;
    m.modules.emplace_back(name, obj);
    const c10::ClassTypePtr type = obj->type();
    if (auto slot = type->findAttributeSlot("training");
        slot && type->getAttribute(*slot)->kind() == c10::TypeKind::BoolType)
      obj->setSlot(*slot, false);
    for (size_t i = type->numAttributes(); i-- > 0;) {
      const IValue& child = obj->getSlot(i);
      if (child.isObject() && child.toObjectRef().type()->is_module())
        todo.emplace_back((name.empty() ? "" : name + ".") + type->getAttributeName(i),
                          child.toObject());
    }
  }
}

}  // namespace

ScriptModule load_script_module(const std::string& file) {
  const auto mapped = MappedFile::open(file);
  std::unique_ptr<PthFile> data = read_zip(mapped, "data");
  if (data->format != "torchscript")
    fail(file, "not a TorchScript archive (no code/)", "save it with torch.jit.save");
  std::unique_ptr<PthFile> constants = read_zip(mapped, "constants");

  for (const auto& [module, text] : data->script_sources) check_code(file, module, text);

  ScriptModule out;
  out.cu = std::make_shared<torch::jit::CompilationUnit>();
  std::vector<IValue> table;
  auto loader = [&](const std::string& qualifier) -> std::shared_ptr<torch::jit::Source> {
    auto it = data->script_sources.find(qualifier);
    if (it == data->script_sources.end()) return nullptr;
    return std::make_shared<torch::jit::Source>(it->second, "code/" + qualifier + ".py", 1);
  };
  torch::jit::SourceImporter importer(out.cu, &table, loader, data->script_version);

  Builder constant_builder(file, *constants, out.cu, importer);
  if (constants->root->kind != Kind::Tuple)
    fail(file, "constants.pkl is not a tuple", "the archive is damaged or crafted");
  for (const pickle::Value* item : constants->root->items)
    table.push_back(constant_builder.constant(*item, 1));

  Builder builder(file, *data, out.cu, importer);
  out.root = builder.object(*data->root, nullptr, 0);
  if (!out.root->type()->is_module())
    fail(file, "data.pkl holds no module", "save a scripted or traced nn.Module");
  name_modules(out);
  return out;
}

}  // namespace cnnscope::graph
