// lower_export_program (export_program.h). Each serialized node names its operator
// ("torch.ops.aten.conv2d.default") and its arguments by schema name; the operator is looked up
// in LibTorch's dispatcher, each schema argument is filled from the node (a literal, a value of
// the graph, a list of them) or the schema's default, and the node's kernel calls the operator
// boxed. Literals are checked against the schema's types here, values against their kinds by the
// interpreter. Leaves out: higher-order ops (cond, map, wrap_with_*), Python operators on
// symbolic sizes other than sym_size, custom objects, tokens; every one refused by name.
#include "graph/export_program.h"

#include <ATen/ScalarOps.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <unordered_map>

#include "common/error.h"
#include "common/escape.h"
#include "common/text.h"
#include "graph/allowlist.h"
#include "graph/interpreter.h"

namespace cnnscope::graph {
namespace {

using nlohmann::json;

// How one schema argument is made at each call.
struct Slot {
  enum class Type { Literal, Value, Tensors, OptionalTensors, Ints } type = Type::Literal;
  c10::IValue literal;
  std::vector<int> items;     // positions in the node's inputs; -1: the literal below / None
  std::vector<int64_t> ints;  // Ints: the literal entries where items[i] == -1
  c10::TypePtr schema_type;   // Value: the schema's type, checked at each call
};

// How one schema return becomes node outputs.
enum class Out { One, Expand, Drop };

std::string class_name(const std::string& qualified) {
  return qualified.substr(qualified.rfind('.') + 1);
}

// "key,path,class;key,path,class" (outermost first) -> scopes below the root.
std::vector<Scope> scopes_of(const json& metadata) {
  std::vector<Scope> out;
  if (!metadata.is_object() || !metadata.contains("nn_module_stack") ||
      !metadata["nn_module_stack"].is_string())
    return out;
  const std::string text = metadata["nn_module_stack"].get<std::string>();
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    const std::string entry = text.substr(start, end - start);
    const size_t first = entry.find(',');
    const size_t last = entry.rfind(',');
    if (first != std::string::npos && last != first) {
      Scope s{entry.substr(0, first), entry.substr(first + 1, last - first - 1),
              class_name(entry.substr(last + 1))};
      if (!s.path.empty()) out.push_back(std::move(s));
    }
    start = end + 1;
  }
  return out;
}

// The root module's class, from any node's nn_module_stack ("__main__.Net" -> "Net").
std::string root_type_of(const json& nodes) {
  for (const json& node : nodes) {
    if (!node.contains("metadata") || !node["metadata"].is_object()) continue;
    const json& m = node["metadata"];
    if (!m.contains("nn_module_stack") || !m["nn_module_stack"].is_string()) continue;
    const std::string text = m["nn_module_stack"].get<std::string>();
    const std::string entry = text.substr(0, text.find(';'));
    const size_t last = entry.rfind(',');
    if (last != std::string::npos) return class_name(entry.substr(last + 1));
  }
  return "ExportedProgram";
}

class Builder {
 public:
  explicit Builder(const Pt2File& file) : file_(file) {}

  Dataflow build() {
    const json& program = file_.program;
    check_version(program);
    const json& module = field(program, "graph_module");
    const json& graph = field(module, "graph");
    const json& signature = field(module, "signature");
    flow_.root_type = root_type_of(field(graph, "nodes"));
    bind_inputs(field(graph, "inputs"), field(signature, "input_specs"), graph);
    for (const json& node : field(graph, "nodes")) add_node(node);
    for (const json& spec : field(signature, "output_specs")) {
      if (!spec.is_object() || !spec.contains("user_output"))
        continue;  // buffer mutations (training) are not kept
      const std::string name = tensor_name(spec.at("user_output").at("arg"));
      if (flow_.outputs.empty()) flow_.output_shape = example_shape(graph, name);
      flow_.outputs.push_back(use(name));
    }
    return std::move(flow_);
  }

 private:
  [[noreturn]] void damaged(const std::string& what) const {
    fail(file_.path, "exported program is malformed: " + what, "the archive is damaged");
  }

  const json& field(const json& j, const char* name) const {
    if (!j.is_object() || !j.contains(name)) damaged(std::string("no '") + name + "'");
    return j[name];
  }

  void check_version(const json& program) const {
    const json& version = field(program, "schema_version");
    constexpr int64_t kMajor = 8;  // torch/_export/serde/schema.py SCHEMA_VERSION (8, x)
    if (!version.contains("major") || !version["major"].is_number_integer() ||
        version["major"].get<int64_t>() != kMajor)
      fail(file_.path,
           "exported program schema version " + escape_control(version.dump()) +
               " is not understood",
           "cnnscope reads schema version 8 (torch 2.6 and later); re-export the model");
  }

  std::string tensor_name(const json& arg) const {
    if (!arg.is_object() || !arg.contains("as_tensor") || !arg["as_tensor"].contains("name") ||
        !arg["as_tensor"]["name"].is_string())
      damaged("an input or output is not a tensor");
    return arg["as_tensor"]["name"].get<std::string>();
  }

  // The index of value `name`, declared on first sight (check() refuses a read before a set).
  int use(const std::string& name) {
    auto it = names_.find(name);
    if (it != names_.end()) return it->second;
    flow_.values.push_back({name, ValueKind::Tensor});
    const int v = static_cast<int>(flow_.values.size()) - 1;
    names_.emplace(name, v);
    return v;
  }

  int define(const std::string& name, ValueKind kind) {
    const int v = use(name);
    flow_.values[static_cast<size_t>(v)].kind = kind;
    return v;
  }

  // Placeholders: weights, buffers and constants by their names in the archive, then the user's
  // inputs (their example shape kept).
  void bind_inputs(const json& inputs, const json& specs, const json& graph) {
    if (!inputs.is_array() || !specs.is_array() || inputs.size() != specs.size())
      damaged("inputs and input specs differ");
    const auto find = [&](const std::vector<NamedTensor>& ts, const std::string& name,
                          bool* is_param, const std::vector<bool>* params) -> at::Tensor {
      for (size_t i = 0; i < ts.size(); ++i)
        if (ts[i].name == name) {
          if (is_param) *is_param = params && i < params->size() && (*params)[i];
          return ts[i].tensor;
        }
      fail(file_.path, "the program reads '" + escape_control(name) + "', which the archive lacks",
           "the archive is damaged");
    };
    for (const json& spec : specs) {
      if (!spec.is_object() || spec.empty()) damaged("an empty input spec");
      const std::string kind = spec.begin().key();
      const json& body = spec.begin().value();
      if (!body.is_object() || !body.contains("arg")) damaged("an input spec without its value");
      if (kind == "user_input") {
        const std::string name = tensor_name(body.at("arg"));
        flow_.inputs.push_back(define(name, ValueKind::Tensor));
        if (flow_.inputs.size() == 1) flow_.input_shape = example_shape(graph, name);
        continue;
      }
      std::string stored;
      const std::vector<NamedTensor>* from = &file_.constants;
      if (kind == "parameter") {
        stored = body.value("parameter_name", "");
        from = &file_.weights;
      } else if (kind == "buffer") {
        stored = body.value("buffer_name", "");
        if (body.value("persistent", true)) from = &file_.weights;
      } else if (kind == "tensor_constant") {
        stored = body.value("tensor_constant_name", "");
      } else {
        throw Refused("an input of kind '" + escape_control(kind) +
                      "' (custom objects, tokens, constants) is not supported");
      }
      const std::string name = body.at("arg").contains("name")
                                   ? body.at("arg").at("name").get<std::string>()
                                   : std::string();
      Weight w;
      w.name = stored;
      w.value = define(name, ValueKind::Tensor);
      w.tensor =
          find(*from, stored, &w.parameter, from == &file_.weights ? &file_.parameter : nullptr);
      flow_.weights.push_back(std::move(w));
    }
  }

  std::vector<int64_t> example_shape(const json& graph, const std::string& name) const {
    std::vector<int64_t> shape;
    if (!graph.contains("tensor_values") || !graph["tensor_values"].contains(name)) return shape;
    const json& meta = graph["tensor_values"][name];
    if (!meta.contains("sizes") || !meta["sizes"].is_array()) return shape;
    for (const json& s : meta["sizes"])
      shape.push_back(s.contains("as_int") && s["as_int"].is_number_integer()
                          ? s["as_int"].get<int64_t>()
                          : -1);
    return shape;
  }

  // "torch.ops.aten.conv2d.default" -> the dispatcher's handle, allowlisted.
  c10::OperatorHandle op_of(const std::string& target, const std::string& node) const {
    const std::string prefix = "torch.ops.";
    const std::string where = " (node " + escape_control(node) + ")";
    if (!starts_with(target, prefix))
      throw Refused("call of " + escape_control(target) + where + " is not an ATen operator");
    const std::string rest = target.substr(prefix.size());
    const size_t dot1 = rest.find('.');
    const size_t dot2 = rest.rfind('.');
    if (dot1 == std::string::npos || dot2 == dot1)
      throw Refused("op " + escape_control(target) + where + " is not an ATen operator");
    const std::string qualified =
        rest.substr(0, dot1) + "::" + rest.substr(dot1 + 1, dot2 - dot1 - 1);
    std::string overload = rest.substr(dot2 + 1);
    if (!allowed_op(qualified) || overload == "out" || ends_with(overload, "_out"))
      throw Refused("op " + escape_control(qualified) + where + " is not pure tensor computation");
    if (overload == "default") overload.clear();
    auto op = c10::Dispatcher::singleton().findSchema({qualified, overload});
    if (!op) throw Refused("op " + qualified + "." + overload + where + " has no implementation");
    return *op;
  }

  int64_t memory_format(int64_t code, const std::string& where) const {
    switch (code) {  // export's MemoryFormat -> c10::MemoryFormat
      case 1:
        return static_cast<int64_t>(c10::MemoryFormat::Contiguous);
      case 2:
        return static_cast<int64_t>(c10::MemoryFormat::ChannelsLast);
      case 3:
        return static_cast<int64_t>(c10::MemoryFormat::ChannelsLast3d);
      case 4:
        return static_cast<int64_t>(c10::MemoryFormat::Preserve);
      default:
        throw Refused(where + " has a memory format cnnscope does not know");
    }
  }

  // A literal or value slot from an Argument ({"as_int": 3}, {"as_tensor": {...}}, ...).
  Slot slot_of(const json& arg, std::vector<int>& inputs, const std::string& where) {
    if (!arg.is_object() || arg.size() != 1) damaged("an argument of " + where);
    const std::string kind = arg.begin().key();
    const json& v = arg.begin().value();
    Slot s;
    const auto input = [&](const std::string& name) {
      inputs.push_back(use(name));
      return static_cast<int>(inputs.size()) - 1;
    };
    const auto name_of = [&](const json& j) {
      if (!j.is_object() || !j.contains("name") || !j["name"].is_string())
        damaged("a value reference of " + where);
      return j["name"].get<std::string>();
    };
    if (kind == "as_none") return s;  // literal None
    if (kind == "as_tensor") {
      s.type = Slot::Type::Value;
      s.items.push_back(input(name_of(v)));
    } else if (kind == "as_tensors" || kind == "as_optional_tensors") {
      s.type = kind == "as_tensors" ? Slot::Type::Tensors : Slot::Type::OptionalTensors;
      for (const json& item : v) {
        if (item.contains("as_none")) {
          s.items.push_back(-1);
        } else {
          s.items.push_back(input(name_of(item.contains("as_tensor") ? item["as_tensor"] : item)));
        }
      }
    } else if (kind == "as_optional_tensor") {
      if (!v.contains("as_tensor")) return s;
      s.type = Slot::Type::Value;
      s.items.push_back(input(name_of(v["as_tensor"])));
    } else if (kind == "as_sym_int") {
      if (v.contains("as_int")) {
        s.literal = v["as_int"].get<int64_t>();
      } else {
        s.type = Slot::Type::Value;
        s.items.push_back(input(v.value("as_name", "")));
      }
    } else if (kind == "as_sym_ints") {
      s.type = Slot::Type::Ints;
      for (const json& item : v) {
        if (item.contains("as_int")) {
          s.items.push_back(-1);
          s.ints.push_back(item["as_int"].get<int64_t>());
        } else {
          s.items.push_back(input(item.value("as_name", "")));
          s.ints.push_back(0);
        }
      }
    } else if (kind == "as_int" && v.is_number_integer()) {
      s.literal = v.get<int64_t>();
    } else if (kind == "as_float" && v.is_number()) {
      s.literal = v.get<double>();
    } else if (kind == "as_bool" && v.is_boolean()) {
      s.literal = v.get<bool>();
    } else if (kind == "as_string" && v.is_string()) {
      s.literal = v.get<std::string>();
    } else if (kind == "as_ints" && v.is_array()) {
      s.literal = v.get<std::vector<int64_t>>();
    } else if (kind == "as_floats" && v.is_array()) {
      s.literal = v.get<std::vector<double>>();
    } else if (kind == "as_bools" && v.is_array()) {
      c10::List<bool> bools;
      for (const json& b : v) bools.push_back(b.is_boolean() && b.get<bool>());
      s.literal = bools;
    } else if (kind == "as_scalar_type" && v.is_number_integer()) {
      s.literal = static_cast<int64_t>(export_scalar_type(file_.path, v.get<int64_t>()));
    } else if (kind == "as_layout" && v.is_number_integer()) {
      constexpr int64_t kStrided = 7;
      if (v.get<int64_t>() != kStrided) throw Refused(where + " asks for a sparse layout");
      s.literal = static_cast<int64_t>(c10::kStrided);
    } else if (kind == "as_memory_format" && v.is_number_integer()) {
      s.literal = memory_format(v.get<int64_t>(), where);
    } else if (kind == "as_device") {
      s.literal = c10::Device(c10::kCPU);  // cnnscope runs every program on the CPU
    } else {
      throw Refused("argument of kind '" + escape_control(kind) + "' in " + where +
                    " is not supported");
    }
    return s;
  }

  // The literal checked against (and fitted to) the schema argument's type.
  void check_literal(Slot& s, const c10::Argument& a, const std::string& where) const {
    if (s.type != Slot::Type::Literal) return;
    c10::TypePtr want = a.type();
    if (s.literal.isInt() && !s.literal.type()->isSubtypeOf(*want)) {
      const c10::TypePtr inner =
          want->kind() == c10::TypeKind::OptionalType ? want->containedTypes()[0] : want;
      if (inner->kind() == c10::TypeKind::FloatType)
        s.literal = static_cast<double>(s.literal.toInt());
      if (inner->kind() == c10::TypeKind::ListType &&
          inner->containedTypes()[0]->kind() == c10::TypeKind::IntType)
        s.literal = std::vector<int64_t>{s.literal.toInt()};
    }
    // A Python number where the schema takes a Tensor (x + 1.0 as aten::add.Tensor): a wrapped
    // number, as PyTorch's argument parser makes, so type promotion treats it as a scalar.
    const c10::TypePtr tensor = c10::TensorType::get();
    if ((s.literal.isInt() || s.literal.isDouble() || s.literal.isBool()) &&
        tensor->isSubtypeOf(*want)) {
      at::Tensor number = c10::scalar_to_tensor(s.literal.toScalar());  // []
      number.unsafeGetTensorImpl()->set_wrapped_number(true);
      s.literal = number;
    }
    if (!s.literal.type()->isSubtypeOf(*want))
      throw Refused("argument '" + a.name() + "' of " + where + " is not of type " + want->str());
  }

  void add_node(const json& node) {
    const std::string target = node.value("target", "");
    const std::string name = node.value("name", "");
    const std::string where = escape_control(target) + " (node " + escape_control(name) + ")";
    const c10::OperatorHandle op = op_of(target, name);
    const c10::FunctionSchema& schema = op.schema();
    Node n;
    n.op = schema.name() + (schema.overload_name().empty() ? "" : "." + schema.overload_name());
    n.name = name;
    n.scopes = scopes_of(node.contains("metadata") ? node["metadata"] : json());
    std::unordered_map<std::string, const json*> given;
    for (const json& named : field(node, "inputs")) {
      if (!named.contains("name") || !named["name"].is_string() || !named.contains("arg"))
        damaged("an input of " + where);
      given[named["name"].get<std::string>()] = &named["arg"];
    }
    std::vector<Slot> slots;
    for (const c10::Argument& a : schema.arguments()) {
      auto it = given.find(a.name());
      Slot s;
      if (it != given.end()) {
        s = slot_of(*it->second, n.inputs, where);
        given.erase(it);
      } else if (a.default_value()) {
        s.literal = *a.default_value();
      } else {
        throw Refused(where + " lacks argument '" + a.name() + "'");
      }
      check_literal(s, a, where);
      if (s.type == Slot::Type::Value) s.schema_type = a.type();
      slots.push_back(std::move(s));
    }
    if (!given.empty())
      throw Refused(where + " passes '" + escape_control(given.begin()->first) +
                    "', which the operator does not take");
    std::vector<Out> outs = outputs_of(node, schema, n, where);
    n.kernel = [op, slots = std::move(slots),
                outs = std::move(outs)](std::vector<c10::IValue>& in) {
      torch::jit::Stack stack;
      stack.reserve(slots.size());
      for (const Slot& s : slots) stack.push_back(fill(s, in));
      op.callBoxed(&stack);
      std::vector<c10::IValue> out;
      for (size_t i = 0; i < outs.size() && i < stack.size(); ++i) {
        if (outs[i] == Out::One) out.push_back(std::move(stack[i]));
        if (outs[i] == Out::Expand)
          for (const at::Tensor& t : stack[i].toTensorList()) out.emplace_back(t);
      }
      return out;
    };
    flow_.nodes.push_back(std::move(n));
  }

  static c10::IValue fill(const Slot& s, const std::vector<c10::IValue>& in) {
    switch (s.type) {
      case Slot::Type::Literal:
        return s.literal;
      case Slot::Type::Value: {
        const c10::IValue& v = in[static_cast<size_t>(s.items[0])];
        if (s.schema_type && !v.type()->isSubtypeOf(*s.schema_type))
          throw Refused("a value of type " + v.type()->str() + " is passed as " +
                        s.schema_type->str());
        return v;
      }
      case Slot::Type::Tensors: {
        c10::List<at::Tensor> list;
        for (int i : s.items) {
          if (!in[static_cast<size_t>(i)].isTensor())
            throw Refused("a list of tensors holds a value that is not a tensor");
          list.push_back(in[static_cast<size_t>(i)].toTensor());
        }
        return list;
      }
      case Slot::Type::OptionalTensors: {
        c10::List<c10::optional<at::Tensor>> list;
        for (int i : s.items) {
          if (i >= 0 && !in[static_cast<size_t>(i)].isTensor())
            throw Refused("a list of tensors holds a value that is not a tensor");
          list.push_back(i < 0 ? c10::optional<at::Tensor>()
                               : c10::optional<at::Tensor>(in[static_cast<size_t>(i)].toTensor()));
        }
        return list;
      }
      case Slot::Type::Ints: {
        std::vector<int64_t> ints = s.ints;
        for (size_t k = 0; k < ints.size(); ++k) {
          if (s.items[k] < 0) continue;
          const c10::IValue& v = in[static_cast<size_t>(s.items[k])];
          if (!v.isInt()) throw Refused("a list of sizes holds a value that is not an int");
          ints[k] = v.toInt();
        }
        return ints;
      }
    }
    return {};
  }

  // The node's outputs as values (a list output expanded), one Out per schema return.
  std::vector<Out> outputs_of(const json& node, const c10::FunctionSchema& schema, Node& n,
                              const std::string& where) {
    const json& outputs = field(node, "outputs");
    if (!outputs.is_array() || outputs.size() != schema.returns().size())
      throw Refused(where + " has " + std::to_string(outputs.size()) + " outputs, its operator " +
                    std::to_string(schema.returns().size()));
    std::vector<Out> outs;
    for (size_t i = 0; i < outputs.size(); ++i) {
      const json& o = outputs[i];
      const c10::TypePtr& type = schema.returns()[i].type();
      if (o.contains("as_none")) {
        outs.push_back(Out::Drop);
      } else if (o.contains("as_tensor") && type->kind() == c10::TypeKind::TensorType) {
        outs.push_back(Out::One);
        n.outputs.push_back(define(tensor_name(o), ValueKind::Tensor));
      } else if (o.contains("as_tensors") && type->kind() == c10::TypeKind::ListType) {
        outs.push_back(Out::Expand);
        for (const json& t : o["as_tensors"])
          n.outputs.push_back(define(t.value("name", ""), ValueKind::Tensor));
      } else if (o.contains("as_sym_int") && type->kind() == c10::TypeKind::IntType) {
        outs.push_back(Out::One);
        n.outputs.push_back(define(o["as_sym_int"].value("as_name", ""), ValueKind::Int));
      } else {
        throw Refused("output " + std::to_string(i) + " of " + where + " is of a kind cnnscope " +
                      "does not run");
      }
    }
    return outs;
  }

  const Pt2File& file_;
  Dataflow flow_;
  std::unordered_map<std::string, int> names_;
};

}  // namespace

Dataflow lower_export_program(const Pt2File& file) {
  Dataflow flow;
  try {
    flow = Builder(file).build();
  } catch (const nlohmann::json::exception& e) {
    fail(file.path, std::string("exported program is malformed: ") + e.what(),
         "the archive is damaged or crafted");
  }
  return flow;
}

}  // namespace cnnscope::graph
