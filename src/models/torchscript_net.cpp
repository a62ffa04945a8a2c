// TorchScript archives (torch.jit.script / torch.jit.trace, then .save) as networks, run by
// cnnscope's own interpreter (graph/interpreter.h), never by LibTorch's: the archive is loaded by
// graph/script_module.h (code compiled, objects built from data.pkl by the restricted unpickler,
// no __setstate__), every graph forward can reach is checked against the op allowlist before
// anything runs, and each run checks types at every node inside the network's Limits. Taps: the
// interpreter reports each module's forward output (ModuleHook), handed to the run's Probe by
// the module's qualified name: taps, gradients and hooks as for zoo networks. Nothing is added to
// the archive's modules. Leaves out: taps of modules whose forward returns no single tensor (their
// capture stays undefined, as of a module that never runs), tensors of functional calls (F.relu),
// which are no module's output.
#include <torch/csrc/jit/api/module.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/error.h"
#include "common/text.h"
#include "graph/interpreter.h"
#include "graph/large_stack.h"
#include "graph/script_module.h"
#include "models/backend.h"
#include "models/network_impl.h"

namespace cnnscope::models::detail {
namespace {

// The Python class name of a module type:
// "__torch__.torch.nn.modules.conv.___torch_mangle_3.Conv2d" -> "Conv2d".
std::string class_name(const c10::ClassTypePtr& type) {
  const std::string q = type->name() ? type->name()->qualifiedName() : std::string("Module");
  return q.substr(q.rfind('.') + 1);
}

// Whether a module's forward returns one tensor (what a tap can hold).
bool returns_tensor(const c10::ClassTypePtr& type) {
  const auto forward = type->findMethod("forward");
  return forward && forward->getSchema().returns().size() == 1 &&
         forward->getSchema().returns()[0].type()->isSubtypeOf(*c10::TensorType::get());
}

class TorchScriptBackend : public InterpretedBackend {
 public:
  TorchScriptBackend(std::string file, graph::ScriptModule module,
                     std::unique_ptr<graph::Program> program, std::string arch,
                     graph::Limits limits)
      : InterpretedBackend(arch),
        file_(std::move(file)),
        module_(std::move(module)),
        program_(std::move(program)),
        arch_(std::move(arch)),
        limits_(limits) {
    for (const auto& [name, obj] : module_.modules)
      if (!name.empty() && !returns_tensor(obj->type())) untappable_.insert(name);
  }

  at::Tensor forward(const at::Tensor& input, const RunOptions& options,
                     Probe& probe) const override {
    graph::Limits limits = limits_;
    if (options.deadline) limits.deadline = options.deadline;
    // Each module's output through the run's Probe, by the module's qualified name.
    const graph::ModuleHook hook = [&](const c10::ivalue::Object& module, c10::IValue& output) {
      auto it = module_.names.find(&module);
      if (it != module_.names.end() && !it->second.empty() && output.isTensor())
        output = probe(it->second, output.toTensor());
    };
    c10::IValue out;
    try {
      out = program_->run(module_.root, {input}, limits, hook);
    } catch (const Error&) {
      throw;  // a tap or hook's own error
    } catch (const std::exception& e) {
      run_failed(file_, arch_, input, e);
    }
    if (out.isTuple() && !out.toTupleRef().elements().empty()) out = out.toTupleRef().elements()[0];
    if (!out.isTensor() || out.toTensor().dim() != 2)
      fail("", arch_ + "'s forward returned no [N, classes] tensor",
           "cnnscope runs classifiers: forward(x) -> logits");
    return out.toTensor();  // [N, K]
  }

  StateDict state_dict() const override {
    StateDict sd;
    for (const auto& [name, obj] : module_.modules) {
      const std::string prefix = name.empty() ? "" : name + ".";
      const torch::jit::Module m(obj);
      for (const auto& p : m.named_parameters(/*recurse=*/false))
        sd.tensors.push_back({prefix + p.name, p.value});
      for (const auto& b : m.named_buffers(/*recurse=*/false))
        sd.tensors.push_back({prefix + b.name, b.value});
    }
    return sd;
  }

  int64_t num_parameters() const override {
    int64_t total = 0;
    for (const auto& [name, obj] : module_.modules)
      for (const at::Tensor& p : torch::jit::Module(obj).parameters(/*recurse=*/false))
        total += p.numel();
    return total;
  }

  // The first three convolutions' outputs; all: every convolution (the leaves when none).
  std::vector<std::string> default_layers() const override { return first_layers(all_layers()); }
  std::vector<std::string> all_layers() const override {
    std::vector<std::string> convs, leaves;
    for (const auto& [name, obj] : module_.modules) {
      if (name.empty() || untappable_.count(name)) continue;
      if (!has_children(*obj)) leaves.push_back(name);
      if (class_name(obj->type()) == "Conv2d") convs.push_back(name);
    }
    return convs.empty() ? leaves : convs;
  }

  static bool has_children(const c10::ivalue::Object& obj) {
    for (const c10::IValue& slot : obj.slots())
      if (slot.isObject() && slot.toObjectRef().type()->is_module()) return true;
    return false;
  }

 private:
  std::string file_;
  graph::ScriptModule module_;
  std::unique_ptr<graph::Program> program_;  // checked once, run by every forward
  std::string arch_;
  graph::Limits limits_;
  std::set<std::string> untappable_;  // forward returns no tensor
};

}  // namespace

Network torchscript_network(const StateDict& sd, const graph::Limits& limits,
                            const ArchInfo* like) {
  graph::ScriptModule module;
  std::unique_ptr<graph::Program> program;  // compiles and checks every method forward reaches
  try {
    graph::on_large_stack([&] {
      module = graph::load_script_module(sd.file);
      program = std::make_unique<graph::Program>(module.root->type(), "forward");
    });
  } catch (const Error&) {
    throw;
  } catch (const graph::Refused& e) {
    fail(sd.file, std::string("refused: ") + e.what(),
         "cnnscope runs only TorchScript whose ops compute tensors (no files, printing, threads "
         "or custom ops); docs/DESIGN.md lists them");
  } catch (const std::exception& e) {
    const std::string what = e.what();
    const size_t start = std::min(what.find_first_not_of(" \n"), what.size());
    fail(sd.file,
         "its TorchScript code does not compile: " +
             what.substr(start, what.find('\n', start) - start),
         "saved by a much newer PyTorch, or edited by hand");
  }
  const c10::ClassTypePtr root_type = module.root->type();

  std::vector<TapInfo> taps;
  ArchInfo info;
  info.family = "torchscript";
  info.arch = class_name(root_type);
  info.default_preset = "imagenet";
  // Parameters of each module and those under it: modules come parent first, so a reverse pass
  // adds each module's total to its parent's (the name before its last dot).
  std::map<std::string, int64_t> params;
  for (auto it = module.modules.rbegin(); it != module.modules.rend(); ++it) {
    const auto& [name, obj] = *it;
    for (const at::Tensor& p : torch::jit::Module(obj).parameters(/*recurse=*/false))
      params[name] += p.numel();
    const size_t dot = name.rfind('.');
    if (!name.empty()) params[dot == std::string::npos ? "" : name.substr(0, dot)] += params[name];
  }
  for (const auto& [name, obj] : module.modules) {
    if (name.empty()) continue;
    TapInfo tap;
    tap.name = name;
    tap.type = class_name(obj->type());
    tap.repr = tap.type;
    tap.depth = static_cast<int>(std::count(name.begin(), name.end(), '.')) + 1;
    tap.params = params[name];
    tap.leaf = !TorchScriptBackend::has_children(*obj);
    taps.push_back(std::move(tap));
  }
  bool first_conv = true;
  for (const auto& [name, obj] : module.modules)
    for (const at::Tensor& p : torch::jit::Module(obj).parameters(/*recurse=*/false)) {
      if (p.dim() == 2) info.num_classes = p.size(0);  // the last Linear's rows
      constexpr int64_t kConvDims = 4;
      if (p.dim() == kConvDims && first_conv) info.input_channels = p.size(1);
      if (p.dim() == kConvDims) first_conv = false;
    }
  if (like != nullptr) {  // a zoo network's keys: its fixed input size and preset
    info.input_size = like->input_size;
    info.default_preset = like->default_preset;
  }
  info.description = info.arch + " (TorchScript), " + std::to_string(taps.size()) + " modules, " +
                     std::to_string(info.num_classes) + " classes, no preprocessing in the archive";
  auto backend = std::make_shared<TorchScriptBackend>(sd.file, std::move(module),
                                                      std::move(program), info.arch, limits);
  return Network(
      std::make_shared<Network::Impl>(std::move(info), std::move(taps), std::move(backend)));
}

}  // namespace cnnscope::models::detail
