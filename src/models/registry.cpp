// Picks the family and configuration of a state_dict (or the one `--arch` names), loads it
// strictly and initializes fresh networks (the family's own init, else as the seed does). The
// families, in detection order, are the list in families(): one line each. A file no family
// runs is refused with what its keys look like and the way out (torch.export), in three lines.
#include <algorithm>
#include <map>
#include <set>

#include "checkpoint/run_info.h"
#include "common/error.h"
#include "common/escape.h"
#include "common/suggest.h"
#include "common/text.h"
#include "models/backend.h"
#include "models/family.h"

namespace cnnscope::models {
namespace {

using detail::Built;
using detail::Family;

constexpr size_t kListed = 3;  // how many keys an error lists per kind
constexpr double kLinearInitStd = 0.01;

// Every family, in detection order (the first whose detect fits wins).
const std::vector<const Family*>& families() {
  // clang-format off
  static const std::vector<const Family*> all{
      &detail::alexnet_family(),
      &detail::vgg_family(),
      &detail::resnet_family(),
      &detail::densenet_family(),
      &detail::squeezenet_family(),
      &detail::googlenet_family(),
      &detail::inception_family(),
      &detail::mobilenet_v2_family(),
      &detail::mobilenet_v3_family(),
      &detail::mnasnet_family(),
      &detail::shufflenet_family(),
      &detail::efficientnet_family(),
      &detail::regnet_family(),
      &detail::convnext_family(),
      &detail::cifar_resnet_family(),
      &detail::lenet_family(),
      &detail::mnist_net_family(),
      &detail::sequential_family(),  // keep last: the module tree, not the keys
  };
  // clang-format on
  return all;
}

const Family* family_of(const std::string& arch) {
  for (const Family* f : families())
    if (std::find(f->archs.begin(), f->archs.end(), arch) != f->archs.end()) return f;
  return nullptr;
}

// "3 missing keys (a, b, c, ...)".
std::string listed(const std::vector<std::string>& items, const std::string& one,
                   const std::string& many) {
  std::vector<std::string> first(items.begin(), items.begin() + std::min(items.size(), kListed));
  if (items.size() > kListed) first.push_back("...");
  return std::to_string(items.size()) + " " + (items.size() == 1 ? one : many) + " (" +
         join(first, ", ") + ")";
}

// A hint for keys that carry a wrapper's prefix ("backbone.features.0.weight").
std::string prefix_hint(const StateDict& sd) {
  if (sd.tensors.empty()) return "the state_dict holds no tensors";
  const std::string& first = sd.tensors.front().name;
  const size_t dot = first.find('.');
  if (dot == std::string::npos) return "";
  const std::string prefix = first.substr(0, dot + 1);
  for (const NamedTensor& t : sd.tensors)
    if (!starts_with(t.name, prefix)) return "";
  static const std::set<std::string> own{"features.", "classifier.", "conv1.", "bn1."};
  if (own.count(prefix)) return "";
  return "all keys start with '" + prefix +
         "': a wrapped model? cnnscope expects torchvision's "
         "key names";
}

// The first family whose detect fits `sd` (nullptr: none), its network in `built`.
const Family* detect(const StateDict& sd, Built& built) {
  for (const Family* f : families()) {
    std::string why_not;
    built = f->detect(sd, why_not);
    if (built.root) return f;
  }
  return nullptr;
}

// "12 keys like block1.0.weight, block1.0.bias, block1.1.weight": what a state_dict no family
// matches looks like (the keys escaped here, so that a newline in one cannot start a line).
std::string keys_like(const StateDict& sd) {
  std::vector<std::string> first;
  for (size_t i = 0; i < sd.tensors.size() && i < kListed; ++i)
    first.push_back(escape_control(sd.tensors[i].name));
  const size_t n = sd.tensors.size();
  return std::to_string(n) + (n == 1 ? " key: " : " keys like ") + join(first, ", ");
}

// A network cnnscope cannot run: `what` and `hint` on the error's line, then two lines (as many
// as an Error may have below its own; the CLI indents them): what works, how to get a runnable
// file.
[[noreturn]] void fail_not_runnable(const std::string& file, const std::string& what,
                                    const std::string& hint) {
  throw Error(
      ErrorMessage{file, what, hint}.str() +
      "\ncnnscope ls, weights and filters work on it; to run it, export the model with an "
      "example input x (README, \"Your own model\"):"
      "\nep = torch.export.export(model.eval(), (x,)); torch.export.save(ep, \"model.pt2\")");
}

// The input preset of `family`'s `arch`.
std::string preset_of(const Family& family, const std::string& arch) {
  return family.preset ? family.preset(arch) : "imagenet";
}

// The network of `built`, finished as its family says (preset, build options).
// What a training run's run.json says about its checkpoints, when it is this network's.
void apply_run_info(const RunInfo& run, ArchInfo& info) {
  if (run.arch != info.arch || run.num_classes != info.num_classes) return;
  if (run.input_size > 0) info.input_size = run.input_size;
  info.input_channels = run.input_channels;
  info.default_preset = run.preset;
  info.class_names = run.classes;
}

Network finish(Built built, const Family& family, const BuildOptions& options,
               const std::optional<RunInfo>& run = std::nullopt) {
  built.info.default_preset = preset_of(family, built.info.arch);
  if (family.configure) family.configure(built, options);
  if (run) apply_run_info(*run, built.info);
  return detail::zoo_network(std::move(built), family);
}

// Copies `sd` into the module, strictly. BN's num_batches_tracked may be absent (PyTorch < 0.4.1).
void load_strict(torch::nn::Module& root, const StateDict& sd, const std::string& hint,
                 const Settings& settings) {
  std::map<std::string, at::Tensor> expected;
  for (const auto& p : root.named_parameters()) expected.emplace(p.key(), p.value());
  for (const auto& b : root.named_buffers()) expected.emplace(b.key(), b.value());
  std::vector<std::string> missing, unexpected, mismatched;
  std::set<std::string> seen;
  for (const NamedTensor& t : sd.tensors) {
    auto it = expected.find(t.name);
    if (it == expected.end()) {
      unexpected.push_back(t.name);
      continue;
    }
    seen.insert(t.name);
    if (!t.tensor.sizes().equals(it->second.sizes()))
      mismatched.push_back(t.name + ": expected " + shape_text(it->second.sizes()) + ", got " +
                           shape_text(t.tensor.sizes()));
  }
  for (const auto& [name, tensor] : expected) {
    if (!seen.count(name) && !is_batch_counter(name)) missing.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::vector<std::string> parts;
    if (!missing.empty()) parts.push_back(listed(missing, "missing key", "missing keys"));
    if (!unexpected.empty())
      parts.push_back(listed(unexpected, "unexpected key", "unexpected keys"));
    if (!mismatched.empty())
      parts.push_back(listed(mismatched, "shape mismatch", "shape mismatches"));
    fail(sd.file, "does not load: " + join(parts, ", "), hint, settings);
  }
  torch::NoGradGuard no_grad;
  for (const NamedTensor& t : sd.tensors) expected.at(t.name).copy_(t.tensor);
}

void init_like_seed(torch::nn::Module& root) {
  torch::NoGradGuard no_grad;
  for (const auto& m : root.modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* fc = m->as<torch::nn::Linear>()) {
      fc->weight.normal_(0.0, kLinearInitStd);
      fc->bias.zero_();
    } else if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      bn->weight.fill_(1.0);
      bn->bias.zero_();
    }
  }
}

}  // namespace

std::vector<int64_t> detail::shape_of(const StateDict& sd, const std::string& key) {
  const at::Tensor* t = sd.find(key);
  return t ? t->sizes().vec() : std::vector<int64_t>{};
}

std::string detail::join_widths(const std::vector<int64_t>& widths) {
  std::string out;
  for (int64_t w : widths) out += (out.empty() ? "" : "-") + std::to_string(w);
  return out;
}

std::vector<std::string> known_archs() {
  std::vector<std::string> all;
  for (const Family* f : families()) all.insert(all.end(), f->archs.begin(), f->archs.end());
  return all;
}

Network build_network(const StateDict& sd, const BuildOptions& options) {
  // A TorchScript archive runs its own code (checked first); --arch rebuilds a zoo net instead.
  if (sd.format == "torchscript" && options.arch.empty()) {
    Built like;
    const Family* family = detect(sd, like);
    if (family != nullptr) like.info.default_preset = preset_of(*family, like.info.arch);
    return detail::torchscript_network(sd, options.limits.value_or(graph::default_limits()),
                                       family != nullptr ? &like.info : nullptr);
  }
  if ((sd.format == "pt2" || sd.format == "onnx") && options.arch.empty())
    return detail::graph_network(sd, options.limits.value_or(graph::default_limits()));
  Built built;
  const Family* family = nullptr;
  std::string hint;
  Settings settings;  // the arch the keys fit, where another was named
  if (options.arch.empty()) {
    family = detect(sd, built);
    if (!family) {
      if (const std::string why = detail::unknown_forward(sd); !why.empty())
        fail_not_runnable(sd.file, why, "");
      if (sd.tensors.empty()) fail(sd.file, "matches no known network", prefix_hint(sd));
      const std::string prefix = prefix_hint(sd);
      fail_not_runnable(sd.file, "matches no known network: " + keys_like(sd),
                        prefix.empty() ? "a model class of your own?" : prefix);
    }
  } else {
    family = family_of(options.arch);
    if (!family)
      fail(sd.file, "unknown arch '" + options.arch + "'",
           did_you_mean(options.arch, known_archs()));
    std::vector<int64_t> classes = detail::shape_of(sd, family->classes_key);
    constexpr int64_t kImageNetClasses = 1000;
    built = family->make(options.arch, classes.empty() ? kImageNetClasses : classes[0]);
    Built guess;
    if (detect(sd, guess) && guess.info.arch != options.arch) {
      hint = "looks like " + guess.info.arch;
      settings = {{"arch", guess.info.arch}};
    } else {
      hint = prefix_hint(sd);
    }
  }
  if (hint.empty()) hint = "was it saved from a " + built.info.arch + "?";
  load_strict(*built.root, sd, hint, settings);
  return finish(std::move(built), *family, options, run_info_beside(sd.file));
}

Network init_network(const InitOptions& options) {
  const Family* family = family_of(options.arch);
  if (!family)
    fail("", "unknown arch '" + options.arch + "'", did_you_mean(options.arch, known_archs()));
  if (options.num_classes < 1)
    fail("", "a network needs at least 1 class, got " + std::to_string(options.num_classes));
  Built built = family->make(options.arch, options.num_classes);
  torch::manual_seed(options.seed);
  if (family->init)
    family->init(*built.root);
  else
    init_like_seed(*built.root);
  return finish(std::move(built), *family, {});
}

}  // namespace cnnscope::models
