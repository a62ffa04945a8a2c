// Program (interpreter.h): the checked walk over a method's reachable graphs, then runs that
// execute one node per case of exec(). Values live in a map per call frame (SSA: each graph value
// is set once per execution of its block). Spec: torch/csrc/jit/ir/ir.h for the node kinds and
// their inputs/outputs/blocks (prim::If: a condition, two blocks; prim::Loop: trip count,
// condition, carried values, a body block whose inputs are (i, carried...) and outputs
// (condition, carried...)), ATen/core/jit_type.h for the types.
#include "graph/interpreter.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>

#include <algorithm>
#include <chrono>

#include "graph/allowlist.h"
#include "graph/memory_budget.h"

namespace cnnscope::graph {

using c10::IValue;
using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;

namespace {

constexpr int kMaxCallDepth = 64;
constexpr size_t kMaxItems = size_t{1} << 20;  // elements of a list or dict a node makes
constexpr size_t kMaxChars = size_t{1} << 24;  // characters of a string a node makes
constexpr int64_t kDeadlineEvery = 1024;       // steps between clock reads

// How a node runs: the structural kinds the interpreter executes itself, or an allowlisted op.
enum class Kind {
  Constant,
  GetAttr,
  SetAttr,
  If,
  Loop,
  ListConstruct,
  ListUnpack,
  TupleConstruct,
  TupleUnpack,
  TupleIndex,
  TupleSlice,
  DictConstruct,
  Raise,
  Uninitialized,
  Cast,
  Unwrap,
  IsInstance,
  CallMethod,
  CallFunction,
  Warn,
  Op,
};

const std::unordered_map<c10::Symbol, Kind>& structural_kinds() {
  static const std::unordered_map<c10::Symbol, Kind> kinds{
      {c10::prim::Constant, Kind::Constant},
      {c10::prim::GetAttr, Kind::GetAttr},
      {c10::prim::SetAttr, Kind::SetAttr},
      {c10::prim::If, Kind::If},
      {c10::prim::Loop, Kind::Loop},
      {c10::prim::ListConstruct, Kind::ListConstruct},
      {c10::prim::ListUnpack, Kind::ListUnpack},
      {c10::prim::TupleConstruct, Kind::TupleConstruct},
      {c10::prim::TupleUnpack, Kind::TupleUnpack},
      {c10::prim::TupleIndex, Kind::TupleIndex},
      {c10::prim::TupleSlice, Kind::TupleSlice},
      {c10::prim::DictConstruct, Kind::DictConstruct},
      {c10::prim::RaiseException, Kind::Raise},
      {c10::prim::Uninitialized, Kind::Uninitialized},
      {c10::prim::unchecked_cast, Kind::Cast},
      {c10::prim::unchecked_unwrap_optional, Kind::Unwrap},
      {c10::prim::isinstance, Kind::IsInstance},
      {c10::prim::CallMethod, Kind::CallMethod},
      {c10::prim::CallFunction, Kind::CallFunction},
      {c10::aten::warn, Kind::Warn},
  };
  return kinds;
}

// "forward", or torch.jit.trace's "forward1", "forward2", ... of a module called more than once.
bool is_forward(const std::string& method) {
  constexpr size_t kLength = 7;  // "forward"
  return method.compare(0, kLength, "forward") == 0 &&
         std::all_of(method.begin() + static_cast<std::ptrdiff_t>(std::min(kLength, method.size())),
                     method.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Whether `v` is a value of type `t` (what the graph declares for it).
bool conforms(const IValue& v, const c10::TypePtr& t) {
  switch (t->kind()) {
    case c10::TypeKind::TensorType:
      return v.isTensor();
    case c10::TypeKind::IntType:
      return v.isInt();
    case c10::TypeKind::FloatType:
      return v.isDouble();
    case c10::TypeKind::BoolType:
      return v.isBool();
    case c10::TypeKind::StringType:
      return v.isString();
    case c10::TypeKind::NoneType:
      return v.isNone();
    case c10::TypeKind::AnyType:
      return true;
    default:
      return v.type()->isSubtypeOf(*t);
  }
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// Whether `t` is or holds Any: the one type through which values could nest without bound.
bool holds_any(const c10::TypePtr& t) {
  if (t->kind() == c10::TypeKind::AnyType) return true;
  for (const c10::TypePtr& inner : t->containedTypes())
    if (holds_any(inner)) return true;
  return false;
}

// A list, dict or string bigger than the interpreter lets a node make.
void check_size(const IValue& v, const std::string& where) {
  const bool big = (v.isList() && v.toListRef().size() > kMaxItems) ||
                   (v.isGenericDict() && v.toGenericDict().size() > kMaxItems) ||
                   (v.isString() && v.toStringRef().size() > kMaxChars);
  if (big)
    throw Refused(where + " makes a list or dict of over " + std::to_string(kMaxItems) +
                  " items, or a string of over " + std::to_string(kMaxChars) + " characters");
}

}  // namespace

struct Program::Compiled {
  Kind kind = Kind::Op;
  std::string where;                           // "aten::conv2d in Net.forward"
  mutable torch::jit::Operation op = nullptr;  // Kind::Op (its call operator is not const)
  std::shared_ptr<torch::jit::Graph> callee;   // Kind::CallMethod / CallFunction
  std::string callee_label;                    // "Block.forward"
  bool forward = false;                        // CallMethod of a forward: the ModuleHook sees it
};

std::string method_label(const c10::ClassTypePtr& type, const std::string& method) {
  const std::string q = type->name() ? type->name()->qualifiedName() : std::string("Module");
  return q.substr(q.rfind('.') + 1) + "." + method;
}

namespace {

// Every node of `block` and its sub-blocks.
template <typename Fn>
void each_node(Block* block, const Fn& fn) {
  for (Node* node : block->nodes()) {
    fn(node);
    for (Block* sub : node->blocks()) each_node(sub, fn);
  }
}

using Nodes = std::unordered_map<const Node*, std::unique_ptr<Program::Compiled>>;
using Env = std::unordered_map<const Value*, IValue>;

// One run of a Program: the step count and call depth, and exec() with one case per Kind.
class Run {
 public:
  Run(const Nodes& nodes, const Limits& limits, const ModuleHook& hook)
      : nodes_(nodes), limits_(limits), hook_(hook) {}

  std::vector<IValue> call(torch::jit::Graph& graph, std::vector<IValue> args,
                           const std::string& label) {
    if (++depth_ > kMaxCallDepth)
      throw Refused("calls nested deeper than " + std::to_string(kMaxCallDepth) + " in " + label);
    if (args.size() != graph.inputs().size())
      throw Refused(label + " takes " + std::to_string(graph.inputs().size()) +
                    " arguments, given " + std::to_string(args.size()));
    Env env;
    for (size_t i = 0; i < args.size(); ++i) {
      if (!conforms(args[i], graph.inputs()[i]->type()))
        throw Refused("argument " + std::to_string(i) + " of " + label + " is not of type " +
                      graph.inputs()[i]->type()->str());
      env[graph.inputs()[i]] = std::move(args[i]);
    }
    run_block(graph.block(), env);
    std::vector<IValue> out;
    for (const Value* v : graph.outputs()) out.push_back(get(env, v));
    --depth_;
    return out;
  }

 private:
  void run_block(Block* block, Env& env) {
    for (Node* node : block->nodes()) {
      step();
      exec(node, *nodes_.at(node), env);
    }
  }

  void step() {
    if (++steps_ > limits_.max_steps)
      throw LimitError("its step budget of " + std::to_string(limits_.max_steps) + " nodes");
    if (limits_.deadline && steps_ % kDeadlineEvery == 0 &&
        std::chrono::steady_clock::now() > *limits_.deadline)
      throw LimitError("its time limit");
  }

  static const IValue& get(const Env& env, const Value* v) {
    auto it = env.find(v);
    if (it == env.end()) throw Refused("a value is used before it is set");
    return it->second;
  }

  // Input i, checked against the type the graph declares for it.
  static IValue input(const Env& env, const Node* node, size_t i, const Program::Compiled& c) {
    const IValue& v = get(env, node->input(i));
    if (!conforms(v, node->input(i)->type()))
      throw Refused("input " + std::to_string(i) + " of " + c.where + " is not of type " +
                    node->input(i)->type()->str());
    return v;
  }

  static void set(Env& env, const Node* node, size_t i, IValue v, const Program::Compiled& c) {
    if (!conforms(v, node->output(i)->type()))
      throw Refused("output " + std::to_string(i) + " of " + c.where + " is not of type " +
                    node->output(i)->type()->str());
    env[node->output(i)] = std::move(v);
  }

  void exec(Node* node, const Program::Compiled& c, Env& env) {
    switch (c.kind) {
      case Kind::Constant: {
        auto value = torch::jit::toIValue(node->output());
        env[node->output()] = value ? std::move(*value) : IValue();
        return;
      }
      case Kind::GetAttr:
        return get_attr(node, c, env);
      case Kind::SetAttr:
        throw Refused(c.where + ": the network sets its attribute '" + node->s(c10::attr::name) +
                      "' while it runs");
      case Kind::If:
        return run_if(node, c, env);
      case Kind::Loop:
        return run_loop(node, c, env);
      case Kind::ListConstruct:
        return list_construct(node, c, env);
      case Kind::ListUnpack:
      case Kind::TupleUnpack:
        return unpack(node, c, env);
      case Kind::TupleConstruct:
        return tuple_construct(node, c, env);
      case Kind::TupleIndex:
        return tuple_index(node, c, env);
      case Kind::TupleSlice:
        return tuple_slice(node, c, env);
      case Kind::DictConstruct:
        return dict_construct(node, c, env);
      case Kind::Raise:
        throw OpFailed("the network raised: " + first_line(input(env, node, 0, c).toStringRef()),
                       c.where);
      case Kind::Uninitialized:
        env[node->output()] = IValue();
        return;
      case Kind::Cast:
        return set(env, node, 0, input(env, node, 0, c), c);
      case Kind::Unwrap: {
        IValue v = input(env, node, 0, c);
        if (v.isNone()) throw OpFailed("an optional value is None", c.where);
        return set(env, node, 0, std::move(v), c);
      }
      case Kind::IsInstance:
        return is_instance(node, c, env);
      case Kind::CallMethod:
      case Kind::CallFunction:
        return call_node(node, c, env);
      case Kind::Warn:
        return;  // a network's warnings are not shown (their text is the file's)
      case Kind::Op:
        return run_op(node, c, env);
    }
  }

  void get_attr(Node* node, const Program::Compiled& c, Env& env) {
    IValue self = input(env, node, 0, c);
    if (!self.isObject()) throw Refused(c.where + " reads an attribute of a non-object");
    const c10::ivalue::Object& object = self.toObjectRef();
    const std::string& name = node->s(c10::attr::name);
    const auto slot = object.type()->findAttributeSlot(name);
    if (!slot || *slot >= object.slots().size())
      throw Refused(c.where + " reads '" + name + "', which the object does not have");
    IValue v = object.getSlot(*slot);
    // Containers are copied so that a run never changes the module another run reads.
    if (v.isList()) v = v.toList().copy();
    if (v.isGenericDict()) v = v.toGenericDict().copy();
    set(env, node, 0, std::move(v), c);
  }

  void run_if(Node* node, const Program::Compiled& c, Env& env) {
    Block* block = node->blocks()[input(env, node, 0, c).toBool() ? 0 : 1];
    run_block(block, env);
    for (size_t i = 0; i < node->outputs().size(); ++i)
      env[node->output(i)] = get(env, block->outputs()[i]);
  }

  void run_loop(Node* node, const Program::Compiled& c, Env& env) {
    const int64_t trips = input(env, node, 0, c).toInt();
    bool go = input(env, node, 1, c).toBool();
    std::vector<IValue> carried;
    for (size_t i = 2; i < node->inputs().size(); ++i) carried.push_back(get(env, node->input(i)));
    Block* body = node->blocks()[0];
    for (int64_t trip = 0; trip < trips && go; ++trip) {
      step();
      env[body->inputs()[0]] = trip;
      for (size_t k = 0; k < carried.size(); ++k) env[body->inputs()[k + 1]] = carried[k];
      run_block(body, env);
      const IValue& cond = get(env, body->outputs()[0]);
      if (!cond.isBool()) throw Refused(c.where + ": the loop condition is not a bool");
      go = cond.toBool();
      for (size_t k = 0; k < carried.size(); ++k) carried[k] = get(env, body->outputs()[k + 1]);
    }
    for (size_t k = 0; k < carried.size(); ++k) env[node->output(k)] = carried[k];
  }

  void list_construct(Node* node, const Program::Compiled& c, Env& env) {
    const auto type = node->output()->type()->cast<c10::ListType>();
    if (!type) throw Refused(c.where + " builds no list");
    c10::impl::GenericList list(type->getElementType());
    list.reserve(node->inputs().size());
    for (size_t i = 0; i < node->inputs().size(); ++i) list.push_back(input(env, node, i, c));
    set(env, node, 0, std::move(list), c);
  }

  void unpack(Node* node, const Program::Compiled& c, Env& env) {
    const IValue v = input(env, node, 0, c);
    std::vector<IValue> items;
    if (v.isList()) {
      for (const IValue& item : v.toListRef()) items.push_back(item);
    } else if (v.isTuple()) {
      for (const IValue& item : v.toTupleRef().elements()) items.push_back(item);
    } else {
      throw Refused(c.where + " unpacks neither a list nor a tuple");
    }
    if (items.size() != node->outputs().size())
      throw OpFailed("expected " + std::to_string(node->outputs().size()) +
                         " values to unpack, got " + std::to_string(items.size()),
                     c.where);
    for (size_t i = 0; i < items.size(); ++i) set(env, node, i, std::move(items[i]), c);
  }

  void tuple_construct(Node* node, const Program::Compiled& c, Env& env) {
    std::vector<IValue> items;
    for (size_t i = 0; i < node->inputs().size(); ++i) items.push_back(input(env, node, i, c));
    const auto type = node->output()->type()->cast<c10::TupleType>();
    if (type && type->schema())
      set(env, node, 0, c10::ivalue::Tuple::createNamed(std::move(items), type), c);
    else
      set(env, node, 0, c10::ivalue::Tuple::create(std::move(items)), c);
  }

  void tuple_index(Node* node, const Program::Compiled& c, Env& env) {
    const IValue tuple = input(env, node, 0, c);
    if (!tuple.isTuple()) throw Refused(c.where + " indexes a non-tuple");
    const auto& items = tuple.toTupleRef().elements();
    int64_t i = input(env, node, 1, c).toInt();
    const auto n = static_cast<int64_t>(items.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) throw OpFailed("tuple index out of range", c.where);
    set(env, node, 0, items[static_cast<size_t>(i)], c);
  }

  void tuple_slice(Node* node, const Program::Compiled& c, Env& env) {
    const IValue tuple = input(env, node, 0, c);
    if (!tuple.isTuple()) throw Refused(c.where + " slices a non-tuple");
    const auto& items = tuple.toTupleRef().elements();
    const int64_t begin = node->i(c10::attr::beg);
    const int64_t end = node->i(c10::attr::end);
    if (begin < 0 || end < begin || end > static_cast<int64_t>(items.size()))
      throw OpFailed("tuple slice out of range", c.where);
    std::vector<IValue> out(items.begin() + begin, items.begin() + end);
    set(env, node, 0, c10::ivalue::Tuple::create(std::move(out)), c);
  }

  void dict_construct(Node* node, const Program::Compiled& c, Env& env) {
    const auto type = node->output()->type()->cast<c10::DictType>();
    if (!type || node->inputs().size() % 2 != 0) throw Refused(c.where + " builds no dict");
    c10::impl::GenericDict dict(type->getKeyType(), type->getValueType());
    for (size_t i = 0; i < node->inputs().size(); i += 2)
      dict.insert_or_assign(input(env, node, i, c), input(env, node, i + 1, c));
    set(env, node, 0, std::move(dict), c);
  }

  void is_instance(Node* node, const Program::Compiled& c, Env& env) {
    const IValue v = get(env, node->input(0));
    bool yes = false;
    for (const c10::TypePtr& t : node->tys(c10::attr::types)) yes = yes || conforms(v, t);
    set(env, node, 0, yes, c);
  }

  void call_node(Node* node, const Program::Compiled& c, Env& env) {
    const size_t first = c.kind == Kind::CallMethod ? 0 : 1;  // CallFunction: input 0 = function
    std::vector<IValue> args;
    for (size_t i = first; i < node->inputs().size(); ++i) args.push_back(input(env, node, i, c));
    std::vector<IValue> out = call(*c.callee, args, c.callee_label);
    if (out.size() != node->outputs().size())
      throw Refused(c.where + " returns " + std::to_string(out.size()) + " values");
    if (c.forward && hook_ && out.size() == 1) hook_(args[0].toObjectRef(), out[0]);
    for (size_t i = 0; i < out.size(); ++i) set(env, node, i, std::move(out[i]), c);
  }

  void run_op(Node* node, const Program::Compiled& c, Env& env) {
    torch::jit::Stack stack;
    stack.reserve(node->inputs().size());
    for (size_t i = 0; i < node->inputs().size(); ++i) stack.push_back(input(env, node, i, c));
    // aten::mul.left_t / right_ ([x] * n) makes its list in one call: checked before it runs.
    if (node->kind() == c10::aten::mul && stack.size() == 2) {
      const IValue& list = stack[0].isList() ? stack[0] : stack[1];
      const IValue& times = stack[0].isList() ? stack[1] : stack[0];
      if (list.isList() && times.isInt() && times.toInt() > 0 &&
          list.toListRef().size() > kMaxItems / static_cast<size_t>(times.toInt()))
        throw Refused(c.where + " would make a list of over " + std::to_string(kMaxItems) +
                      " items");
    }
    try {
      c.op(stack);
    } catch (const LimitError&) {
      throw;
    } catch (const c10::Error& e) {
      throw OpFailed(first_line(e.what_without_backtrace()), c.where);
    } catch (const std::exception& e) {
      throw OpFailed(first_line(e.what()), c.where);
    }
    if (stack.size() != node->outputs().size())
      throw Refused(c.where + " gave " + std::to_string(stack.size()) + " values");
    for (size_t i = 0; i < stack.size(); ++i) {
      check_size(stack[i], c.where);
      if (stack[i].isTensor()) check_elements(stack[i].toTensor().numel(), limits_);
      set(env, node, i, std::move(stack[i]), c);
    }
  }

  const Nodes& nodes_;
  const Limits& limits_;
  const ModuleHook& hook_;
  int64_t steps_ = 0;
  int depth_ = 0;
};

// The checked form of `node` of the graph labelled `where_label`; functions it calls go to `todo`.
std::unique_ptr<Program::Compiled> compile_node(
    Node* node, const std::string& label,
    std::vector<std::pair<torch::jit::Function*, std::string>>& todo) {
  auto c = std::make_unique<Program::Compiled>();
  const std::string op = node->kind().toQualString();
  c->where = op + " in " + label;
  for (const Value* out : node->outputs())
    if (holds_any(out->type()))
      throw Refused(c->where + " makes a value of type " + out->type()->str() +
                    ", which could nest without bound");
  const auto& kinds = structural_kinds();
  if (auto it = kinds.find(node->kind()); it != kinds.end()) c->kind = it->second;
  if (c->kind == Kind::CallMethod) {
    const auto type = node->input(0)->type()->cast<c10::ClassType>();
    const std::string method = node->s(c10::attr::name);
    torch::jit::Function* fn = type ? type->findMethod(method) : nullptr;
    if (!fn) throw Refused(label + " calls method '" + method + "' of something not a module");
    c->callee_label = method_label(type, method);
    c->forward = is_forward(method) && type->is_module();
    todo.emplace_back(fn, c->callee_label);
  } else if (c->kind == Kind::CallFunction) {
    const auto type = node->input(0)->type()->cast<c10::FunctionType>();
    if (!type) throw Refused(label + " calls an unknown function");
    c->callee_label = type->function()->qualname().name();
    todo.emplace_back(type->function(), c->callee_label);
  } else if (c->kind == Kind::Op) {
    if (!allowed_op(op))
      throw Refused("op " + op + " in " + label + " is not pure tensor computation");
    if (!node->maybeOperator())
      throw Refused("op " + op + " in " + label + " has no implementation");
    c->op = node->getOperation();
  }
  return c;
}

}  // namespace

Program::Program(const c10::ClassTypePtr& type, const std::string& method)
    : type_(type), method_(method) {
  torch::jit::Function* entry = type->findMethod(method);
  if (!entry) throw Refused(method_label(type, method) + " does not exist");
  std::vector<std::pair<torch::jit::Function*, std::string>> todo{
      {entry, method_label(type, method)}};
  std::unordered_map<torch::jit::Function*, std::shared_ptr<torch::jit::Graph>> graphs;
  while (!todo.empty()) {
    torch::jit::Function* fn = todo.back().first;
    const std::string label = todo.back().second;
    todo.pop_back();
    if (graphs.count(fn)) continue;
    auto* graph_fn = torch::jit::tryToGraphFunction(*fn);
    if (!graph_fn) throw Refused(label + " is not a graph function");
    auto graph = graph_fn->graph();
    graphs[fn] = graph;
    each_node(graph->block(), [&](Node* node) { nodes_[node] = compile_node(node, label, todo); });
  }
  entry_ = graphs.at(entry);
  // The callees' graphs, now that every function has one.
  for (auto& [node, c] : nodes_) {
    if (c->kind == Kind::CallMethod) {
      const auto type = node->input(0)->type()->cast<c10::ClassType>();
      c->callee = graphs.at(type->findMethod(node->s(c10::attr::name)));
    } else if (c->kind == Kind::CallFunction) {
      c->callee = graphs.at(node->input(0)->type()->cast<c10::FunctionType>()->function());
    }
  }
}

Program::~Program() = default;

c10::IValue Program::run(const c10::intrusive_ptr<c10::ivalue::Object>& self,
                         std::vector<c10::IValue> args, const Limits& limits,
                         const ModuleHook& hook) const {
  if (self->type() != type_) throw Refused("the object is not of the program's class");
  MemoryBudget budget(limits.max_bytes);
  Run run(nodes_, limits, hook);
  args.insert(args.begin(), IValue(self));
  std::vector<IValue> out = run.call(*entry_, std::move(args), method_label(type_, method_));
  if (out.size() != 1) throw Refused(method_label(type_, method_) + " returns no single value");
  return out[0];
}

}  // namespace cnnscope::graph
