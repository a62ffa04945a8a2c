// TorchScript archives (torch.jit.script / torch.jit.trace, then .save) as networks. Safety first:
// an archive whose code/ defines __setstate__ (which torch::jit::load would run) is refused from
// its text; torch::jit::load then compiles the code without running it, and every graph forward
// can reach (prim::CallMethod into submodules, prim::CallFunction) is checked against an allowlist
// of pure tensor computation before anything runs: any other op (aten::save, aten::from_file,
// prim::Print, custom ops, ...) is refused naming the op and the method.
// Taps: each submodule gets a `cnnscope_tap` method (and its qualified name as an attribute), and
// every method graph a call to it after each prim::CallMethod[forward] of a submodule; the method
// calls the op cnnscope::probe, which hands the output to the run's Probe (family.h): taps,
// gradients and hooks as for zoo networks. The model file is never changed. Leaves out: taps of
// modules whose forward returns no single tensor (refused by name), tensors of functional calls
// (F.relu) which are no module's output. Spec: torch/csrc/jit/ir/ir.h (graphs, nodes).
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/script.h>

#include <algorithm>
#include <set>

#include "common/error.h"
#include "common/text.h"
#include "models/backend.h"
#include "models/network_impl.h"

namespace cnnscope::models::detail {
namespace {

using torch::jit::Node;

constexpr const char* kTapMethod = "cnnscope_tap";
constexpr const char* kNameAttr = "cnnscope_name";
constexpr size_t kDefaultLayers = 3;

// After each submodule's forward: its output through the run's Probe (family.h), by the
// module's qualified name, so taps, gradients and hooks behave as for zoo networks.
const char* const kTapSource = R"(
def cnnscope_tap(self, x: Tensor) -> Tensor:
    return cnnscope.probe(self.cnnscope_name, x)
)";

// The Probe of the forward running on this thread (null: none; the op passes its input on).
thread_local Probe* active_probe = nullptr;

at::Tensor probe_op(const std::string& name, const at::Tensor& x) {
  return active_probe != nullptr ? (*active_probe)(name, x) : x;
}

// Resolves `cnnscope.probe` in kTapSource to the op.
struct ProbeResolver : torch::jit::Resolver {
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(
      const std::string& name, torch::jit::GraphFunction& /*m*/,
      const torch::jit::SourceRange& /*loc*/) override {
    if (name == "cnnscope") return std::make_shared<torch::jit::BuiltinModule>("cnnscope");
    return nullptr;
  }
  c10::TypePtr resolveType(const std::string& /*name*/,
                           const torch::jit::SourceRange& /*loc*/) override {
    return nullptr;
  }
};

TORCH_LIBRARY(cnnscope, m) {
  m.def("probe(str name, Tensor x) -> Tensor", &probe_op);
}

// Ops of pure tensor computation (no files, threads, RPC, printing): all a CNN's forward needs.
const std::set<std::string>& allowed_ops() {
  static const std::set<std::string> ops{
      // control flow, constants, attributes, containers
      "prim::Constant",
      "prim::GetAttr",
      "prim::SetAttr",
      "prim::If",
      "prim::Loop",
      "prim::ListConstruct",
      "prim::ListUnpack",
      "prim::TupleConstruct",
      "prim::TupleUnpack",
      "prim::TupleIndex",
      "prim::TupleSlice",
      "prim::DictConstruct",
      "prim::DictIndex",
      "prim::RaiseException",
      "prim::Uninitialized",
      "prim::unchecked_cast",
      "prim::unchecked_unwrap_optional",
      "prim::isinstance",
      "prim::NumToTensor",
      "prim::ImplicitTensorToNum",
      "prim::device",
      "prim::dtype",
      "prim::is_cuda",
      "prim::layout",
      "prim::requires_grad",
      "prim::data",
      "prim::shape",
      "prim::min",
      "prim::max",
      "prim::abs",
      "prim::AutogradAdd",
      "prim::AutogradZero",
      "prim::BailOut",
      "prim::Guard",
      "prim::TypeCheck",
      "prim::profile",
      "prim::grad",
      "prim::dtype",
      "prim::EnumValue",
      "prim::EnumName",
      "prim::StringIndex",
      "prim::ConstantChunk",
      "prim::ListIndex",
      "prim::TensorExprGroup",
      "prim::FusionGroup",
      "prim::DifferentiableGraph",
      // scalars, lists, strings
      "aten::Int",
      "aten::Float",
      "aten::Bool",
      "aten::ScalarImplicit",
      "aten::IntImplicit",
      "aten::FloatImplicit",
      "aten::__getitem__",
      "aten::__setitem__",
      "aten::_set_item",
      "aten::len",
      "aten::__is__",
      "aten::__isnot__",
      "aten::__not__",
      "aten::__and__",
      "aten::__or__",
      "aten::__xor__",
      "aten::__contains__",
      "aten::__range_length",
      "aten::__derive_index",
      "aten::append",
      "aten::list",
      "aten::format",
      "aten::str",
      "aten::keys",
      "aten::values",
      "aten::items",
      "aten::eq",
      "aten::ne",
      "aten::lt",
      "aten::le",
      "aten::gt",
      "aten::ge",
      "aten::neg",
      "aten::floordiv",
      "aten::remainder",
      "aten::item",
      "aten::warn",
      "aten::dim",
      "aten::size",
      "aten::numel",
      "aten::is_floating_point",
      "aten::floor",
      "aten::ceil",
      "aten::round",
      "aten::sqrt",
      "aten::mul",
      "aten::div",
      "aten::add",
      "aten::sub",
      "aten::pow",
      "aten::min",
      "aten::max",
      "aten::abs",
      // tensor arithmetic, reductions, activations
      "aten::add_",
      "aten::sub_",
      "aten::mul_",
      "aten::div_",
      "aten::rsub",
      "aten::exp",
      "aten::log",
      "aten::rsqrt",
      "aten::reciprocal",
      "aten::sign",
      "aten::erf",
      "aten::sum",
      "aten::mean",
      "aten::var",
      "aten::std",
      "aten::norm",
      "aten::amax",
      "aten::amin",
      "aten::argmax",
      "aten::argmin",
      "aten::cumsum",
      "aten::relu",
      "aten::relu_",
      "aten::relu6",
      "aten::hardtanh",
      "aten::hardtanh_",
      "aten::leaky_relu",
      "aten::leaky_relu_",
      "aten::elu",
      "aten::elu_",
      "aten::selu",
      "aten::gelu",
      "aten::silu",
      "aten::silu_",
      "aten::sigmoid",
      "aten::sigmoid_",
      "aten::tanh",
      "aten::tanh_",
      "aten::hardswish",
      "aten::hardswish_",
      "aten::hardsigmoid",
      "aten::hardsigmoid_",
      "aten::mish",
      "aten::softplus",
      "aten::prelu",
      "aten::glu",
      "aten::softmax",
      "aten::log_softmax",
      "aten::clamp",
      "aten::clamp_",
      "aten::clamp_min",
      "aten::clamp_min_",
      "aten::clamp_max",
      "aten::where",
      "aten::masked_fill",
      "aten::threshold",
      "aten::threshold_",
      // convolution, pooling, normalization, linear
      "aten::conv1d",
      "aten::conv2d",
      "aten::conv3d",
      "aten::_convolution",
      "aten::convolution",
      "aten::conv_transpose2d",
      "aten::max_pool1d",
      "aten::max_pool2d",
      "aten::avg_pool2d",
      "aten::max_pool2d_with_indices",
      "aten::adaptive_avg_pool1d",
      "aten::adaptive_avg_pool2d",
      "aten::adaptive_max_pool2d",
      "aten::batch_norm",
      "aten::instance_norm",
      "aten::layer_norm",
      "aten::group_norm",
      "aten::linear",
      "aten::addmm",
      "aten::matmul",
      "aten::mm",
      "aten::bmm",
      "aten::t",
      "aten::dropout",
      "aten::dropout_",
      "aten::feature_dropout",
      "aten::alpha_dropout",
      "aten::upsample_nearest2d",
      "aten::upsample_bilinear2d",
      "aten::pad",
      "aten::constant_pad_nd",
      "aten::embedding",
      // shapes, indexing, creation
      "aten::view",
      "aten::reshape",
      "aten::flatten",
      "aten::squeeze",
      "aten::unsqueeze",
      "aten::permute",
      "aten::transpose",
      "aten::contiguous",
      "aten::chunk",
      "aten::split",
      "aten::unbind",
      "aten::slice",
      "aten::select",
      "aten::index",
      "aten::narrow",
      "aten::expand",
      "aten::expand_as",
      "aten::cat",
      "aten::stack",
      "aten::to",
      "aten::type_as",
      "aten::detach",
      "aten::clone",
      "aten::copy_",
      "aten::zeros",
      "aten::zeros_like",
      "aten::ones",
      "aten::ones_like",
      "aten::full",
      "aten::full_like",
      "aten::empty",
      "aten::new_zeros",
      "aten::arange",
      "aten::tensor",
      "aten::repeat",
      "aten::flip",
      "aten::roll",
      "aten::gather",
      "aten::channel_shuffle",
      "aten::pixel_shuffle",
      "aten::view_as",
      "aten::reshape_as",
      "aten::topk",
  };
  return ops;
}

// The Python class name of a module type:
// "__torch__.torch.nn.modules.conv.___torch_mangle_3.Conv2d"
// -> "Conv2d".
std::string class_name(const c10::ClassTypePtr& type) {
  const std::string q = type->name() ? type->name()->qualifiedName() : std::string("Module");
  return q.substr(q.rfind('.') + 1);
}

using Graph = std::shared_ptr<torch::jit::Graph>;

// "forward", or torch.jit.trace's "forward1", "forward2", ... of a module called more than once.
bool is_forward(const std::string& method) {
  constexpr size_t kLength = 7;  // "forward"
  return method.compare(0, kLength, "forward") == 0 &&
         std::all_of(method.begin() + static_cast<std::ptrdiff_t>(std::min(kLength, method.size())),
                     method.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Every node of `block` and its sub-blocks.
template <typename Fn>
void each_node(torch::jit::Block* block, const Fn& fn) {
  for (Node* node : block->nodes()) {
    fn(node);
    for (torch::jit::Block* sub : node->blocks()) each_node(sub, fn);
  }
}

// Refuses (Error naming the op and the method) any op outside allowed_ops() in a graph reachable
// from `forward`.
void check_ops(const std::string& file, const torch::jit::Module& root) {
  std::vector<std::pair<torch::jit::Function*, std::string>> todo{
      {&root.get_method("forward").function(), class_name(root.type()) + ".forward"}};
  std::set<torch::jit::Function*> seen;
  while (!todo.empty()) {
    auto [function, where] = todo.back();
    todo.pop_back();
    if (!seen.insert(function).second) continue;
    each_node(torch::jit::toGraphFunction(*function).graph()->block(), [&](Node* node) {
      const std::string op = node->kind().toQualString();
      if (node->kind() == c10::prim::CallMethod) {
        const auto type = node->input(0)->type()->cast<c10::ClassType>();
        const std::string method = node->s(c10::attr::name);
        if (!type || !type->findMethod(method))
          fail(file, "refused: " + where + " calls method '" + method + "' of a non-module",
               "cnnscope runs TorchScript modules whose methods it can check");
        todo.emplace_back(type->findMethod(method), class_name(type) + "." + method);
      } else if (node->kind() == c10::prim::CallFunction) {
        const auto type = node->input(0)->type()->cast<c10::FunctionType>();
        if (!type) fail(file, "refused: " + where + " calls an unknown function", "");
        todo.emplace_back(type->function(), type->function()->qualname().name());
      } else if (!allowed_ops().count(op)) {
        fail(file, "refused: op " + op + " in " + where + " is not pure tensor computation",
             "cnnscope runs only TorchScript whose ops compute tensors (no files, printing, "
             "threads or custom ops); docs/DESIGN.md lists them");
      }
    });
  }
}

// Refuses an archive whose code defines __setstate__: torch::jit::load would run it.
void check_no_setstate(const std::string& file) {
  caffe2::serialize::PyTorchStreamReader reader(file);
  for (const std::string& record : reader.getAllRecords()) {
    // Record names are relative to the archive's folder: "code/__torch__.py".
    if (!starts_with(record, "code/") || !ends_with(record, ".py")) continue;
    auto [data, size] = reader.getRecord(record);
    const std::string text(static_cast<const char*>(data.get()), size);
    if (text.find("def __setstate__(") != std::string::npos)
      fail(file, "refused: " + record + " defines __setstate__, which loading would run",
           "save the model without a custom __setstate__");
  }
}

class TorchScriptBackend : public Backend {
 public:
  TorchScriptBackend(torch::jit::Module root, std::string arch) : root_(std::move(root)) {
    arch_ = std::move(arch);
    for (const auto& item : root_.named_modules()) {
      if (item.name.empty()) continue;
      torch::jit::Module m = item.value;
      const auto forward = m.type()->findMethod("forward");
      const bool tensor_out =
          forward && forward->getSchema().returns().size() == 1 &&
          forward->getSchema().returns()[0].type()->isSubtypeOf(*c10::TensorType::get());
      if (!tensor_out) {
        untappable_.insert(item.name);
      } else {
        m.register_attribute(kNameAttr, c10::StringType::get(), item.name);
        if (!m.find_method(kTapMethod)) m.define(kTapSource, std::make_shared<ProbeResolver>());
      }
    }
    // Every method graph of every module type: after a submodule's forward, its tap.
    std::set<c10::ClassType*> types;
    for (const auto& item : root_.named_modules()) {
      if (!types.insert(item.value.type().get()).second) continue;
      for (torch::jit::Function* method : item.value.type()->methods()) {
        if (method->name() == kTapMethod) continue;
        Graph graph = torch::jit::toGraphFunction(*method).graph();
        std::vector<Node*> calls;
        each_node(graph->block(), [&](Node* node) {
          if (node->kind() != c10::prim::CallMethod || !is_forward(node->s(c10::attr::name)))
            return;
          const auto type = node->input(0)->type()->cast<c10::ClassType>();
          if (type && type->findMethod(kTapMethod) && node->outputs().size() == 1)
            calls.push_back(node);
        });
        for (Node* call : calls) {
          torch::jit::WithInsertPoint guard(call->next());
          Node* tap = graph->create(c10::prim::CallMethod, {call->input(0), call->output()}, 1);
          tap->s_(c10::attr::name, kTapMethod);
          tap->output()->setType(c10::TensorType::get());
          graph->insertNode(tap);
          call->output()->replaceAllUsesAfterNodeWith(tap, tap->output());
        }
      }
    }
  }

  at::Tensor forward(const at::Tensor& input, const RunOptions& options,
                     Probe& probe) const override {
    for (const std::string& name : options.taps)
      if (untappable_.count(name))
        fail("", "layer '" + name + "' of " + arch_ + " returns no single tensor",
             "tap one of its submodules");
    c10::IValue out;
    active_probe = &probe;
    try {
      out = root_.forward({input});
    } catch (const c10::Error& e) {
      active_probe = nullptr;
      const std::string what = e.what_without_backtrace();
      fail("",
           "input " + shape_text(input.sizes()) + " does not fit " + arch_ + ": " +
               what.substr(0, what.find('\n')),
           "made for another input size? pass --resize N --crop N");
    }
    active_probe = nullptr;
    if (out.isTuple() && !out.toTupleRef().elements().empty()) out = out.toTupleRef().elements()[0];
    if (!out.isTensor() || out.toTensor().dim() != 2)
      fail("", arch_ + "'s forward returned no [N, classes] tensor",
           "cnnscope runs classifiers: forward(x) -> logits");
    return out.toTensor();  // [N, K]
  }

  StateDict state_dict() const override {
    StateDict sd;
    for (const auto& item : root_.named_modules()) {
      const std::string prefix = item.name.empty() ? "" : item.name + ".";
      for (const auto& p : item.value.named_parameters(/*recurse=*/false))
        sd.tensors.push_back({prefix + p.name, p.value});
      for (const auto& b : item.value.named_buffers(/*recurse=*/false))
        sd.tensors.push_back({prefix + b.name, b.value});
    }
    return sd;
  }

  int64_t num_parameters() const override {
    int64_t total = 0;
    for (const at::Tensor& p : root_.parameters()) total += p.numel();
    return total;
  }

  // The first three convolutions' outputs; all: every convolution (the leaves when none).
  std::vector<std::string> default_layers() const override {
    std::vector<std::string> all = all_layers();
    if (all.size() > kDefaultLayers) all.resize(kDefaultLayers);
    return all;
  }
  std::vector<std::string> all_layers() const override {
    std::vector<std::string> convs, leaves;
    for (const auto& item : root_.named_modules()) {
      if (item.name.empty() || untappable_.count(item.name)) continue;
      if (item.value.children().size() == 0) leaves.push_back(item.name);
      if (class_name(item.value.type()) == "Conv2d") convs.push_back(item.name);
    }
    return convs.empty() ? leaves : convs;
  }

 private:
  mutable torch::jit::Module root_;  // forward is not const
  std::string arch_;
  std::set<std::string> untappable_;  // forward returns no tensor
};

}  // namespace

Network torchscript_network(const StateDict& sd) {
  check_no_setstate(sd.file);
  torch::jit::Module root;
  try {
    root = torch::jit::load(sd.file, at::kCPU);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    fail(sd.file, "TorchScript archive does not load: " + what.substr(0, what.find('\n')),
         "saved by a newer PyTorch? re-save it with torch.jit.save");
  }
  if (!root.find_method("forward"))
    fail(sd.file, "the TorchScript module has no forward", "save the model, not a function");
  check_ops(sd.file, root);
  root.eval();

  std::vector<TapInfo> taps;
  ArchInfo info;
  info.family = "torchscript";
  info.arch = class_name(root.type());
  info.default_preset = "imagenet";
  for (const auto& item : root.named_modules()) {
    if (item.name.empty()) continue;
    TapInfo tap;
    tap.name = item.name;
    tap.type = class_name(item.value.type());
    tap.repr = tap.type;
    tap.depth = static_cast<int>(std::count(tap.name.begin(), tap.name.end(), '.')) + 1;
    for (const at::Tensor& p : item.value.parameters()) tap.params += p.numel();
    tap.leaf = item.value.children().size() == 0;
    taps.push_back(std::move(tap));
  }
  bool first_conv = true;
  for (const auto& p : root.named_parameters()) {
    if (p.value.dim() == 2) info.num_classes = p.value.size(0);  // the last Linear's rows
    constexpr int64_t kConvDims = 4;
    if (p.value.dim() == kConvDims && first_conv) info.input_channels = p.value.size(1);
    if (p.value.dim() == kConvDims) first_conv = false;
  }
  info.description = info.arch + " (TorchScript), " + std::to_string(taps.size()) + " modules, " +
                     std::to_string(info.num_classes) + " classes, no preprocessing in the archive";
  auto backend = std::make_shared<TorchScriptBackend>(root, info.arch);
  const std::string root_type = info.arch;
  return Network(std::make_shared<Network::Impl>(std::move(info), std::move(taps),
                                                 std::move(backend), root_type));
}

}  // namespace cnnscope::models::detail
