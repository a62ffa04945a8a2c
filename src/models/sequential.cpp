// Whole-model pickles of nn.Sequential (`torch.save(model)` where model is an nn.Sequential of
// torch.nn layers, nested Sequentials allowed): the network rebuilt from the module tree's
// classes and hyper-parameters (checkpoint/module_tree.h), since a Sequential's forward is known
// from its classes alone: each child in order. Also the refusal for whole models of other
// classes, whose forward is code that the pickle does not hold.
// Leaves out: layers outside the list in add_leaf (a custom class anywhere in the tree makes the
// whole model unknown), Conv2d padding modes other than zeros, pooling with return_indices,
// adaptive pooling with a None size. Spec: torch/nn/modules/{container,conv,batchnorm,pooling,
// activation,linear,flatten,dropout}.py (constructors, forward, extra_repr) of torch 2.x.
#include <map>
#include <sstream>

#include "common/error.h"
#include "common/text.h"
#include "models/blocks.h"
#include "models/family.h"

namespace cnnscope::models::detail {
namespace {

constexpr const char* kTorchNn = "torch.nn.modules.";
constexpr size_t kDefaultLayers = 3;

using Hparams = std::map<std::string, std::string>;

// Thrown inside the rebuild when a module cannot be rebuilt; detect turns it into why_not.
struct Unknown {
  std::string why;
};

// "Conv2d" for "torch.nn.modules.conv.Conv2d"; "" for a class outside torch.nn.
std::string torch_nn_class(const std::string& qualified) {
  if (!starts_with(qualified, kTorchNn)) return "";
  return qualified.substr(qualified.rfind('.') + 1);
}

// torch.ao.quantization's QuantStub / DeQuantStub (also under the older torch.quantization).
bool is_quant_stub(const std::string& qualified) {
  for (const char* package : {"torch.ao.quantization.stubs.", "torch.quantization.stubs."})
    for (const char* stub : {"QuantStub", "DeQuantStub"})
      if (qualified == std::string(package) + stub) return true;
  return false;
}

const std::string& hp(const Hparams& h, const std::string& key, const std::string& path) {
  auto it = h.find(key);
  if (it == h.end()) throw Unknown{"module " + path + " has no hyper-parameter " + key};
  return it->second;
}

// "3", "(3, 3)" or "[3, 3]" -> {3} / {3, 3}; "None" anywhere is refused.
std::vector<int64_t> ints(const std::string& text, const std::string& what) {
  std::vector<int64_t> out;
  std::string item;
  std::stringstream in(text);
  while (std::getline(in, item, ',')) {
    std::string digits;
    for (char c : item)
      if (c == '-' || (c >= '0' && c <= '9')) digits += c;
    if (digits.empty()) {
      if (item.find_first_not_of(" ()[]") == std::string::npos) continue;  // "(3,)"'s tail
      throw Unknown{what + " = " + text + " is not a size"};
    }
    out.push_back(std::stoll(digits));
  }
  if (out.empty()) throw Unknown{what + " = " + text + " is not a size"};
  return out;
}

// Two sizes from "3" or "(3, 5)".
torch::ExpandingArray<2> pair_of(const std::string& text, const std::string& what) {
  const std::vector<int64_t> v = ints(text, what);
  if (v.size() == 1) return torch::ExpandingArray<2>({v[0], v[0]});
  if (v.size() == 2) return torch::ExpandingArray<2>({v[0], v[1]});
  throw Unknown{what + " = " + text + " is not one or two sizes"};
}

double number(const std::string& text, const std::string& what) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw Unknown{what + " = " + text + " is not a number"};
}

bool truth(const std::string& text) {
  return text == "True";
}

// Python's print(model) line of a parameter-free layer: its class and the listed hparams.
std::string repr_of(const std::string& cls, const Hparams& h,
                    const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys)
    if (auto it = h.find(k); it != h.end()) out += (out.empty() ? "" : ", ") + k + "=" + it->second;
  return cls + "(" + out + ")";
}

// Python's repr of an activation with an `inplace` flag: "(inplace=True)" only when set.
std::string inplace_repr(const std::string& cls, const Hparams& h, const std::string& first = "") {
  const bool inplace = h.count("inplace") && truth(h.at("inplace"));
  std::string inner = first;
  if (inplace) inner += inner.empty() ? "inplace=True" : ", inplace=True";
  return cls + "(" + inner + ")";
}

class Rebuild {
 public:
  Rebuild(const std::vector<ModuleInfo>& modules, const StateDict& sd)
      : modules_(modules), sd_(sd) {}

  // The Sequential at `path` with its children, in the file's order.
  std::shared_ptr<Sequential> sequential(const std::string& path) {
    auto seq = std::make_shared<Sequential>(path);
    const std::string prefix = path.empty() ? "" : path + ".";
    for (const ModuleInfo& m : modules_) {
      if (!starts_with(m.path, prefix) || m.path.size() == prefix.size()) continue;
      const std::string name = m.path.substr(prefix.size());
      if (name.find('.') != std::string::npos) continue;  // a grandchild
      add(*seq, name, m);
    }
    return seq;
  }

  int64_t last_linear_width() const { return last_linear_; }

 private:
  void add(Sequential& parent, const std::string& name, const ModuleInfo& m) {
    if (is_quant_stub(m.class_name)) {  // before convert(): the identity
      const std::string cls = m.class_name.substr(m.class_name.rfind('.') + 1);
      parent.push_back(name,
                       std::make_shared<Leaf>(cls, cls + "()", [](at::Tensor x) { return x; }));
      return;
    }
    const std::string cls = torch_nn_class(m.class_name);
    if (cls.empty())
      throw Unknown{"module " + m.path + " is a " + m.class_name +
                    ", whose forward is code the pickle does not hold"};
    const Hparams h(m.hparams.begin(), m.hparams.end());
    if (cls == "Sequential") {
      parent.push_back(name, sequential(m.path));
    } else if (cls == "Conv2d") {
      parent.push_back(name, conv(m, h));
    } else if (cls == "BatchNorm2d") {
      auto o = torch::nn::BatchNorm2dOptions(std::stoll(hp(h, "num_features", m.path)))
                   .eps(number(hp(h, "eps", m.path), "eps"))
                   .affine(truth(hp(h, "affine", m.path)))
                   .track_running_stats(truth(hp(h, "track_running_stats", m.path)));
      const std::string& momentum = hp(h, "momentum", m.path);
      if (momentum == "None")
        o.momentum(c10::nullopt);
      else
        o.momentum(number(momentum, "momentum"));
      parent.push_back(name, torch::nn::BatchNorm2d(o));
    } else if (cls == "Linear") {
      const int64_t in = std::stoll(hp(h, "in_features", m.path));
      last_linear_ = std::stoll(hp(h, "out_features", m.path));
      parent.push_back(name, torch::nn::Linear(torch::nn::LinearOptions(in, last_linear_)
                                                   .bias(sd_.find(m.path + ".bias") != nullptr)));
    } else {
      parent.push_back(name, leaf(cls, m.path, h));
    }
  }

  torch::nn::Conv2d conv(const ModuleInfo& m, const Hparams& h) {
    const std::string& mode = hp(h, "padding_mode", m.path);
    if (mode != "'zeros'")
      throw Unknown{"module " + m.path + " pads with padding_mode=" + mode + " (only 'zeros')"};
    auto o = torch::nn::Conv2dOptions(std::stoll(hp(h, "in_channels", m.path)),
                                      std::stoll(hp(h, "out_channels", m.path)),
                                      pair_of(hp(h, "kernel_size", m.path), "kernel_size"))
                 .stride(pair_of(hp(h, "stride", m.path), "stride"))
                 .dilation(pair_of(hp(h, "dilation", m.path), "dilation"))
                 .groups(std::stoll(hp(h, "groups", m.path)))
                 .bias(sd_.find(m.path + ".bias") != nullptr);
    const std::string& padding = hp(h, "padding", m.path);
    if (padding == "'same'")
      o.padding(torch::kSame);
    else if (padding == "'valid'")
      o.padding(torch::kValid);
    else
      o.padding(pair_of(padding, "padding"));
    return torch::nn::Conv2d(o);
  }

  // Every parameter-free layer: its Python repr and its eval-mode forward.
  std::shared_ptr<Leaf> leaf(const std::string& cls, const std::string& path, const Hparams& h) {
    const bool inplace = h.count("inplace") && truth(h.at("inplace"));
    using T = at::Tensor;
    if (cls == "ReLU")
      return std::make_shared<Leaf>(cls, inplace_repr(cls, h),
                                    [inplace](T x) { return inplace ? x.relu_() : x.relu(); });
    if (cls == "ReLU6")
      return std::make_shared<Leaf>(cls, inplace_repr(cls, h), [inplace](T x) {
        return inplace ? at::hardtanh_(x, 0.0, 6.0) : at::hardtanh(x, 0.0, 6.0);
      });
    if (cls == "LeakyReLU") {
      const std::string& slope = hp(h, "negative_slope", path);
      const double s = number(slope, "negative_slope");
      return std::make_shared<Leaf>(
          cls, inplace_repr(cls, h, "negative_slope=" + slope),
          [inplace, s](T x) { return inplace ? at::leaky_relu_(x, s) : at::leaky_relu(x, s); });
    }
    if (cls == "ELU") {
      const std::string& alpha = hp(h, "alpha", path);
      const double a = number(alpha, "alpha");
      return std::make_shared<Leaf>(cls, inplace_repr(cls, h, "alpha=" + alpha), [inplace, a](T x) {
        return inplace ? at::elu_(x, a) : at::elu(x, a);
      });
    }
    if (cls == "GELU") {
      const std::string& approximate = hp(h, "approximate", path);
      const std::string mode = approximate == "'tanh'" ? "tanh" : "none";
      return std::make_shared<Leaf>(cls, "GELU(approximate=" + approximate + ")",
                                    [mode](T x) { return at::gelu(x, mode); });
    }
    if (cls == "SiLU")
      return std::make_shared<Leaf>(cls, inplace_repr(cls, h), [](T x) { return at::silu(x); });
    if (cls == "Hardswish")
      return std::make_shared<Leaf>(cls, inplace_repr(cls, h),
                                    [](T x) { return at::hardswish(x); });
    if (cls == "Hardsigmoid")
      return std::make_shared<Leaf>(cls, inplace_repr(cls, h),
                                    [](T x) { return at::hardsigmoid(x); });
    if (cls == "Sigmoid")
      return std::make_shared<Leaf>(cls, "Sigmoid()", [](T x) { return x.sigmoid(); });
    if (cls == "Tanh") return std::make_shared<Leaf>(cls, "Tanh()", [](T x) { return x.tanh(); });
    if (cls == "Identity") return std::make_shared<Leaf>(cls, "Identity()", [](T x) { return x; });
    if (cls == "Dropout" || cls == "Dropout2d")  // eval mode: the identity
      return std::make_shared<Leaf>(cls, repr_of(cls, h, {"p", "inplace"}), [](T x) { return x; });
    if (cls == "Softmax" || cls == "LogSoftmax") {
      const std::string& dim_text = hp(h, "dim", path);
      if (dim_text == "None") throw Unknown{"module " + path + " has dim=None"};
      const int64_t dim = std::stoll(dim_text);
      const bool log = cls == "LogSoftmax";
      return std::make_shared<Leaf>(cls, cls + "(dim=" + dim_text + ")", [dim, log](T x) {
        return log ? at::log_softmax(x, dim) : at::softmax(x, dim);
      });
    }
    if (cls == "Flatten") {
      const int64_t start = std::stoll(hp(h, "start_dim", path));
      const int64_t end = std::stoll(hp(h, "end_dim", path));
      return std::make_shared<Leaf>(cls, repr_of(cls, h, {"start_dim", "end_dim"}),
                                    [start, end](T x) { return x.flatten(start, end); });
    }
    if (cls == "MaxPool2d") {
      if (truth(hp(h, "return_indices", path)))
        throw Unknown{"module " + path + " returns indices"};
      const auto k = pair_of(hp(h, "kernel_size", path), "kernel_size");
      const auto s = pair_of(hp(h, "stride", path), "stride");
      const auto p = pair_of(hp(h, "padding", path), "padding");
      const auto d = pair_of(hp(h, "dilation", path), "dilation");
      const bool ceil = truth(hp(h, "ceil_mode", path));
      return std::make_shared<Leaf>(
          cls, repr_of(cls, h, {"kernel_size", "stride", "padding", "dilation", "ceil_mode"}),
          [k, s, p, d, ceil](T x) { return at::max_pool2d(x, *k, *s, *p, *d, ceil); });
    }
    if (cls == "AvgPool2d") {
      const auto k = pair_of(hp(h, "kernel_size", path), "kernel_size");
      const auto s = pair_of(hp(h, "stride", path), "stride");
      const auto p = pair_of(hp(h, "padding", path), "padding");
      const bool ceil = truth(hp(h, "ceil_mode", path));
      const bool include_pad = truth(hp(h, "count_include_pad", path));
      const std::string& divisor = hp(h, "divisor_override", path);
      const std::optional<int64_t> div =
          divisor == "None" ? std::nullopt : std::optional<int64_t>(std::stoll(divisor));
      return std::make_shared<Leaf>(cls, repr_of(cls, h, {"kernel_size", "stride", "padding"}),
                                    [k, s, p, ceil, include_pad, div](T x) {
                                      return at::avg_pool2d(  // c10::optional: LibTorch 1.x
                                          x, *k, *s, *p, ceil, include_pad,
                                          div ? c10::optional<int64_t>(*div) : c10::nullopt);
                                    });
    }
    if (cls == "AdaptiveAvgPool2d" || cls == "AdaptiveMaxPool2d") {
      const auto size = pair_of(hp(h, "output_size", path), "output_size");
      const bool max = cls == "AdaptiveMaxPool2d";
      return std::make_shared<Leaf>(cls, repr_of(cls, h, {"output_size"}), [size, max](T x) {
        return max ? std::get<0>(at::adaptive_max_pool2d(x, *size))
                   : at::adaptive_avg_pool2d(x, *size);
      });
    }
    throw Unknown{"module " + path + " is a torch.nn " + cls + ", which cnnscope does not rebuild"};
  }

  const std::vector<ModuleInfo>& modules_;
  const StateDict& sd_;
  int64_t last_linear_ = 0;
};

// The module tree of `sd`'s file when it is a whole-model pickle (empty otherwise). Re-reads
// the file: a StateDict does not carry the tree. Only state_dicts whose keys could be a
// Sequential's (the first name part a number) are re-read, unless `any`.
std::vector<ModuleInfo> module_tree(const StateDict& sd, bool any) {
  if ((sd.format != "zip" && sd.format != "legacy") || sd.tensors.empty()) return {};
  if (!any) {
    const std::string& first = sd.tensors.front().name;
    if (first.empty() || first[0] < '0' || first[0] > '9') return {};
  }
  Checkpoint ck;
  try {
    ck = load_checkpoint(sd.file);
  } catch (const Error&) {  // not the file it was (a state_dict made in memory, a file changed)
    return {};
  }
  if (ck.content != "model") return {};
  // The tree must be the one sd was read from (same names), not another model in the file.
  if (ck.state_dict.tensors.size() != sd.tensors.size()) return {};
  for (size_t i = 0; i < sd.tensors.size(); ++i)
    if (ck.state_dict.tensors[i].name != sd.tensors[i].name) return {};
  return std::move(ck.modules);
}

bool is_activation(const std::string& type) {
  static const std::vector<std::string> kinds{"ReLU", "ReLU6",  "LeakyReLU", "ELU",
                                              "GELU", "SiLU",   "Hardswish", "Hardsigmoid",
                                              "Tanh", "Sigmoid"};
  return std::find(kinds.begin(), kinds.end(), type) != kinds.end();
}

// Each convolution's output as the network uses it: the activation that follows it (past a
// BatchNorm2d), else the convolution (or its BatchNorm2d) itself; the first `limit`.
LayerPick conv_outputs(size_t limit) {
  return [limit](const std::vector<TapInfo>& taps) {
    std::vector<std::string> out;
    std::string pending;  // a convolution (or its BN) waiting for its activation
    for (const TapInfo& t : taps) {
      if (!t.leaf) continue;
      if (t.type == "Conv2d") {
        if (!pending.empty()) out.push_back(pending);
        pending = t.name;
      } else if (t.type == "BatchNorm2d" && !pending.empty()) {
        pending = t.name;
      } else if (!pending.empty()) {
        out.push_back(is_activation(t.type) ? t.name : pending);
        pending.clear();
      }
    }
    if (!pending.empty()) out.push_back(pending);
    return first_of(out, limit);
  };
}

Built detect_sequential(const StateDict& sd, std::string& why_not) {
  const std::vector<ModuleInfo> modules = module_tree(sd, false);
  if (modules.empty()) {
    why_not = "not a whole-model pickle of an nn.Sequential";
    return {};
  }
  if (modules.front().class_name != "torch.nn.modules.container.Sequential") {
    why_not = "a whole model of class " + modules.front().class_name;
    return {};
  }
  try {
    Rebuild rebuild(modules, sd);
    std::shared_ptr<Sequential> root = rebuild.sequential("");
    Built b = described(root, "sequential", "sequential",
                        std::to_string(modules.size() - 1) +
                            " modules rebuilt from a whole-model "
                            "pickle of nn.Sequential",
                        rebuild.last_linear_width());
    for (const auto& m : root->modules(/*include_self=*/false))  // the first convolution's
      if (const auto* conv = m->as<torch::nn::Conv2d>()) {
        b.info.input_channels = conv->options.in_channels();
        break;
      }
    return b;
  } catch (const Unknown& u) {
    why_not = u.why;
    return {};
  }
}

}  // namespace

std::string unknown_forward(const StateDict& sd) {
  const std::vector<ModuleInfo> modules = module_tree(sd, true);
  if (modules.empty()) return "";
  std::string why_not;
  if (detect_sequential(sd, why_not).root) return "";
  if (modules.front().class_name == "torch.nn.modules.container.Sequential")
    return "an nn.Sequential that cnnscope cannot rebuild: " + why_not;
  return "a whole model of class " + modules.front().class_name +
         ": its forward is Python code, which the pickle does not hold";
}

const Family& sequential_family() {
  static const Family f{
      .name = "sequential",
      .archs = {},
      .classes_key = "",
      .detect = detect_sequential,
      .make = nullptr,
      .default_layers = conv_outputs(kDefaultLayers),
      .all_layers = conv_outputs(SIZE_MAX),
  };
  return f;
}

}  // namespace cnnscope::models::detail
