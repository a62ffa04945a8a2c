// The optimizer of the `train` job (app/train_optimizer.h), in torch.optim's layout (torch 2.15:
// Adam's state {i: {"step": float32 scalar, "exp_avg", "exp_avg_sq"}}, SGD's {"momentum_buffer"};
// the param_groups keys of torch.optim.Adam / SGD defaults). Leaves out: amsgrad, nesterov,
// dampening.
#include "app/train_optimizer.h"

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include <sstream>
#include <type_traits>

#include "checkpoint/pickle.h"
#include "checkpoint/pth.h"
#include "common/error.h"
#include "common/mapped_file.h"

namespace cnnscope::app {
namespace {

constexpr double kAdamBeta1 = 0.9, kAdamBeta2 = 0.999, kAdamEps = 1e-8;

double number(const pickle::Value* v, const std::string& file, const std::string& key) {
  if (v && v->kind == pickle::Kind::Float) return v->f;
  if (v && (v->kind == pickle::Kind::Int || v->kind == pickle::Kind::Bool))
    return static_cast<double>(v->i);
  fail(file, "'" + key + "' is missing or not a number",
       "resume from the last.pth of a cnnscope or PyTorch training run");
}

// The key of a parameter's entry in Optimizer::state(): the address of its TensorImpl, as a
// void* in LibTorch 2.x and as that address printed to a string in 1.x (Debian's 1.13).
using StateKey = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;
template <typename Key = StateKey>  // a template: only the branch for this LibTorch is compiled
Key state_key(const at::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << p.unsafeGetTensorImpl();
    return text.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

}  // namespace

// model.parameters(): the state_dict's tensors that require grad, in its order.
std::vector<at::Tensor> parameters(const models::Network& net) {
  std::vector<at::Tensor> params;
  for (const NamedTensor& t : net.state_dict().tensors)
    if (t.tensor.requires_grad()) params.push_back(t.tensor);
  return params;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& o,
                                                        const std::vector<at::Tensor>& params) {
  if (o.optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(o.lr)
                                                            .betas({kAdamBeta1, kAdamBeta2})
                                                            .eps(kAdamEps)
                                                            .weight_decay(o.weight_decay));
  if (o.optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  fail("", "unknown optimizer '" + o.optimizer + "'", "adam or sgd");
}

// optimizer.state_dict() as torch 2.15 writes it.
PyValue optimizer_state(const TrainOptions& o, torch::optim::Optimizer& opt,
                        const std::vector<at::Tensor>& params) {
  PyValue state = PyValue::dict();
  for (size_t i = 0; i < params.size(); ++i) {
    auto it = opt.state().find(state_key(params[i]));
    if (it == opt.state().end()) continue;
    PyValue entry = PyValue::dict();
    if (o.optimizer == "adam") {
      auto& s = static_cast<torch::optim::AdamParamState&>(*it->second);
      entry.set("step", PyValue::of(at::scalar_tensor(static_cast<double>(s.step()), at::kFloat)));
      entry.set("exp_avg", PyValue::of(s.exp_avg()));
      entry.set("exp_avg_sq", PyValue::of(s.exp_avg_sq()));
    } else {
      auto& s = static_cast<torch::optim::SGDParamState&>(*it->second);
      if (!s.momentum_buffer().defined()) continue;
      entry.set("momentum_buffer", PyValue::of(s.momentum_buffer()));
    }
    state.set(PyValue::integer(static_cast<int64_t>(i)), std::move(entry));
  }
  PyValue group = PyValue::dict();
  group.set("lr", PyValue::real(o.lr));
  if (o.optimizer == "adam") {
    group.set("betas", PyValue::tuple({PyValue::real(kAdamBeta1), PyValue::real(kAdamBeta2)}));
    group.set("eps", PyValue::real(kAdamEps));
    group.set("weight_decay", PyValue::real(o.weight_decay));
    group.set("amsgrad", PyValue::boolean(false));
    group.set("maximize", PyValue::boolean(false));
    group.set("foreach", PyValue::none());
    group.set("capturable", PyValue::boolean(false));
    group.set("differentiable", PyValue::boolean(false));
    group.set("fused", PyValue::none());
    group.set("decoupled_weight_decay", PyValue::boolean(false));
  } else {
    group.set("momentum", PyValue::real(o.momentum));
    group.set("dampening", PyValue::integer(0));
    group.set("weight_decay", PyValue::real(o.weight_decay));
    group.set("nesterov", PyValue::boolean(false));
    group.set("maximize", PyValue::boolean(false));
    group.set("foreach", PyValue::none());
    group.set("differentiable", PyValue::boolean(false));
    group.set("fused", PyValue::none());
  }
  std::vector<PyValue> ids;
  for (size_t i = 0; i < params.size(); ++i) ids.push_back(PyValue::integer(int64_t(i)));
  group.set("params", PyValue::list(std::move(ids)));
  PyValue out = PyValue::dict();
  out.set("state", std::move(state));
  out.set("param_groups", PyValue::list({std::move(group)}));
  return out;
}

// Reads epoch, best_val_acc and the optimizer state of `path` into `opt` (the model was loaded
// by the caller).
Resumed resume_optimizer(const std::string& path, const TrainOptions& o,
                         torch::optim::Optimizer& opt, const std::vector<at::Tensor>& params) {
  auto pth = read_zip(MappedFile::open(path));
  const pickle::Value& root = *pth->root;
  if (root.kind != pickle::Kind::Dict)
    fail(path, "not a training checkpoint (a dict with epoch, model_state_dict, ...)");
  Resumed r;
  r.epoch = static_cast<int64_t>(number(pickle::dict_get(root, "epoch"), path, "epoch"));
  r.best_val_acc = number(pickle::dict_get(root, "best_val_acc"), path, "best_val_acc");
  const pickle::Value* os = pickle::dict_get(root, "optimizer_state_dict");
  const pickle::Value* state =
      os && os->kind == pickle::Kind::Dict ? pickle::dict_get(*os, "state") : nullptr;
  if (!state || state->kind != pickle::Kind::Dict) fail(path, "no optimizer_state_dict['state']");
  const auto tensor = [&](const pickle::Value& entry, const std::string& key) {
    const pickle::Value* v = pickle::dict_get(entry, key);
    if (!v || v->kind != pickle::Kind::Tensor)
      fail(path, "optimizer state entry without tensor '" + key + "'",
           "was it saved by another optimizer than " + o.optimizer + "?");
    return pth->tensor(*v->tensor).clone();
  };
  for (const auto& [key, entry] : state->entries) {
    if (key->kind != pickle::Kind::Int || key->i < 0 ||
        key->i >= static_cast<int64_t>(params.size()) || entry->kind != pickle::Kind::Dict)
      fail(path,
           "optimizer state for parameter " + pickle::repr(*key) + " of " +
               std::to_string(params.size()),
           "resume with the arch of the run that wrote it");
    const at::Tensor& p = params[key->i];
    if (o.optimizer == "adam") {
      auto s = std::make_unique<torch::optim::AdamParamState>();
      s->step(tensor(*entry, "step").item<double>());
      s->exp_avg(tensor(*entry, "exp_avg"));
      s->exp_avg_sq(tensor(*entry, "exp_avg_sq"));
      if (!s->exp_avg().sizes().equals(p.sizes()))
        fail(path, "optimizer state of parameter " + std::to_string(key->i) + " is " +
                       "shaped differently from the model's");
      opt.state()[state_key(p)] = std::move(s);
    } else {
      auto s = std::make_unique<torch::optim::SGDParamState>();
      s->momentum_buffer(tensor(*entry, "momentum_buffer"));
      if (!s->momentum_buffer().sizes().equals(p.sizes()))
        fail(path, "optimizer state of parameter " + std::to_string(key->i) + " is " +
                       "shaped differently from the model's");
      opt.state()[state_key(p)] = std::move(s);
    }
  }
  return r;
}

}  // namespace cnnscope::app
