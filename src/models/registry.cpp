// Picks the family and configuration of a state_dict (or the one `--arch` names), loads it
// strictly and initializes fresh networks (the family's own init, else as the seed does). The
// families, in detection order, are the list in families(): one line each. A file no family
// runs is refused with what its keys look like and the way out (torch.export), in three lines.
#include <algorithm>
#include <map>
#include <optional>
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
using detail::Layout;
using detail::LayoutArch;

constexpr size_t kListed = 3;                       // how many keys an error lists per kind
constexpr size_t kMaxLayoutKeys = size_t{1} << 14;  // far above any layout arch's (1,548 at most)
constexpr size_t kKeyChars = 80;                    // of a key an error shows
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

// Where an arch name leads: a family's own arch, or a layout's (LayoutArch).
struct Found {
  const Family* family = nullptr;    // null: no family knows the name (or the keys)
  const Layout* layout = nullptr;    // null: the family's own names
  const LayoutArch* arch = nullptr;  // with a layout: which of its archs
  std::optional<StateDict> ours{};   // with a renaming layout: the file's keys in our names
};

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

Found family_of(const std::string& arch) {
  for (const Family* f : families()) {
    if (contains(f->archs, arch)) return {f};
    for (const Layout& l : f->layouts)
      for (const LayoutArch& a : l.archs)
        if (a.arch == arch) return {f, &l, &a};
  }
  return {};
}

// The archs of `layout` whose keys are those of `detected` (an arch its family's detect gave).
std::vector<const LayoutArch*> fitting(const Layout& layout, const std::string& detected) {
  std::vector<const LayoutArch*> out;
  for (const LayoutArch& a : layout.archs)
    if ((a.like.empty() ? a.ours : a.like) == detected) out.push_back(&a);
  return out;
}

// Two or more archs whose keys are the same and whose computation is not: the user names one.
[[noreturn]] void ambiguous(const std::string& file, const std::vector<const LayoutArch*>& archs) {
  std::vector<std::string> names;
  for (const LayoutArch* a : archs) names.push_back(a->arch);
  fail(file, "the keys fit " + join(names, " and ") + " alike (they differ in computation)",
       "name the arch", {{"arch", names.front()}});
}

// `built` named as `found`'s layout names it ("timm/efficientnet_b0").
void name_in_layout(Built& built, const Found& found) {
  if (found.arch == nullptr) return;
  std::string rest = built.info.description;  // "resnet50d, Bottleneck blocks 3-4-6-3, ..."
  if (starts_with(rest, built.info.arch + ", ")) rest = rest.substr(built.info.arch.size() + 2);
  built.info.description = found.arch->arch + " (" + found.layout->name + "'s key names), " + rest;
  built.info.arch = found.arch->arch;
  built.info.layout = found.layout->name;
}

// A file's key as an error shows it: one line, its first kKeyChars characters.
std::string shown_key(const std::string& key) {
  return escape_control(key.substr(0, kKeyChars)) + (key.size() > kKeyChars ? "..." : "");
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
  return "all keys start with '" + shown_key(prefix) +
         "': a wrapped model? cnnscope expects torchvision's "
         "key names";
}

// The first family whose detect fits `sd` under its own names (nullptr: none), its network in
// `built`; an arch only a layout names (a variant) found there.
Found detect_own(const StateDict& sd, Built& built) {
  for (const Family* f : families()) {
    std::string why_not;
    built = f->detect(sd, why_not);
    if (!built.root) continue;
    if (!contains(f->variants, built.info.arch)) return {f};
    std::vector<const LayoutArch*> archs;
    const Layout* layout = nullptr;
    for (const Layout& l : f->layouts) {
      if (!l.renames.empty()) continue;
      for (const LayoutArch* a : fitting(l, built.info.arch)) {
        archs.push_back(a);
        layout = &l;
      }
    }
    if (archs.size() > 1) ambiguous(sd.file, archs);
    if (archs.size() == 1) return {f, layout, archs.front()};
  }
  return {};
}

// The first layout with names of its own whose table translates every key of `sd` and whose
// family then fits them.
Found detect_renamed(const StateDict& sd, Built& built) {
  if (sd.tensors.size() > kMaxLayoutKeys) return {};  // each key would try every table's rules
  for (const Family* f : families()) {
    for (const Layout& l : f->layouts) {
      const detail::Names* names = detail::names_of(l);
      if (names == nullptr) continue;
      std::string unmatched, why_not;
      std::optional<StateDict> ours = names->to_ours(sd, unmatched);
      if (!ours) continue;
      built = f->detect(*ours, why_not);
      if (!built.root) continue;
      const std::vector<const LayoutArch*> archs = fitting(l, built.info.arch);
      if (archs.size() > 1) ambiguous(sd.file, archs);
      if (archs.size() == 1) return {f, &l, archs.front(), std::move(ours)};
    }
  }
  return {};
}

// The family (and layout) whose detect fits `sd`, its network in `built` (named as the layout
// names it); family null: none.
Found detect(const StateDict& sd, Built& built) {
  Found found = detect_own(sd, built);
  if (found.family == nullptr) found = detect_renamed(sd, built);
  if (found.arch != nullptr && found.arch->ours != built.info.arch)  // a variant (`like`)
    built = found.family->make(found.arch->ours, built.info.num_classes);
  if (found.family != nullptr) name_in_layout(built, found);
  return found;
}

// "12 keys like block1.0.weight, block1.0.bias, block1.1.weight": what a state_dict no family
// matches looks like (the keys escaped here, so that a newline in one cannot start a line).
std::string keys_like(const StateDict& sd) {
  std::vector<std::string> first;
  for (size_t i = 0; i < sd.tensors.size() && i < kListed; ++i)
    first.push_back(shown_key(sd.tensors[i].name));
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

// The input preset of what `found` found, `arch` being the family's own arch it built.
std::string preset_of(const Found& found, const std::string& arch) {
  if (found.arch != nullptr && !found.arch->preset.empty()) return found.arch->preset;
  return found.family->preset ? found.family->preset(arch) : "imagenet";
}

// What a training run's run.json says about its checkpoints, when it is this network's.
void apply_run_info(const RunInfo& run, ArchInfo& info) {
  if (run.arch != info.arch || run.num_classes != info.num_classes) return;
  if (run.input_size > 0) info.input_size = run.input_size;
  info.input_channels = run.input_channels;
  info.default_preset = run.preset;
  info.class_names = run.classes;
}

// The network of `built` (the family's arch `arch`), finished as its family and layout say
// (preset, build options, names).
Network finish(Built built, const Found& found, const std::string& arch,
               const BuildOptions& options, const std::optional<RunInfo>& run = std::nullopt) {
  built.info.default_preset = preset_of(found, arch);
  if (found.family->configure) found.family->configure(built, options);
  if (run) apply_run_info(*run, built.info);
  return detail::zoo_network(std::move(built), *found.family,
                             found.layout != nullptr ? detail::names_of(*found.layout) : nullptr);
}

// Copies `sd` into the module, strictly. BN's num_batches_tracked may be absent (PyTorch < 0.4.1).
// `names`: the file's layout, in whose names an error lists the keys (null: ours).
void load_strict(torch::nn::Module& root, const StateDict& sd, const std::string& hint,
                 const Settings& settings, const detail::Names* names = nullptr) {
  const auto in_file = [names](const std::string& key) {
    const std::optional<std::string> file = names ? names->key_to_file(key) : std::nullopt;
    return file ? *file : key;
  };
  std::map<std::string, at::Tensor> expected;
  for (const auto& p : root.named_parameters()) expected.emplace(p.key(), p.value());
  for (const auto& b : root.named_buffers()) expected.emplace(b.key(), b.value());
  std::vector<std::string> missing, unexpected, mismatched;
  std::set<std::string> seen;
  for (const NamedTensor& t : sd.tensors) {
    auto it = expected.find(t.name);
    if (it == expected.end()) {
      unexpected.push_back(shown_key(in_file(t.name)));
      continue;
    }
    seen.insert(t.name);
    if (!t.tensor.sizes().equals(it->second.sizes()) &&
        !detail::with_dims(t.tensor, it->second.dim()).sizes().equals(it->second.sizes()))
      mismatched.push_back(shown_key(in_file(t.name)) + ": expected " +
                           shape_text(it->second.sizes()) + ", got " +
                           shape_text(t.tensor.sizes()));
  }
  for (const auto& [name, tensor] : expected) {
    if (!seen.count(name) && !is_batch_counter(name)) missing.push_back(shown_key(in_file(name)));
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
  for (const NamedTensor& t : sd.tensors) {
    at::Tensor& into = expected.at(t.name);
    into.copy_(detail::with_dims(t.tensor, into.dim()));
  }
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
  for (int64_t w : widths) {
    if (!out.empty()) out += '-';
    out += std::to_string(w);
  }
  return out;
}

std::vector<std::string> known_archs() {
  std::vector<std::string> all;
  for (const Family* f : families()) all.insert(all.end(), f->archs.begin(), f->archs.end());
  for (const Family* f : families())
    for (const Layout& l : f->layouts)
      for (const LayoutArch& a : l.archs) all.push_back(a.arch);
  return all;
}

namespace {

// The family's own arch that `found` builds.
std::string our_arch(const Found& found, const std::string& arch) {
  return found.arch != nullptr ? found.arch->ours : arch;
}

// A file no family runs: why, in three lines.
[[noreturn]] void fail_unknown(const StateDict& sd) {
  if (const std::string why = detail::unknown_forward(sd); !why.empty())
    fail_not_runnable(sd.file, why, "");
  if (sd.tensors.empty()) fail(sd.file, "matches no known network", prefix_hint(sd));
  const std::string prefix = prefix_hint(sd);
  fail_not_runnable(sd.file, "matches no known network: " + keys_like(sd),
                    prefix.empty() ? "a model class of your own?" : prefix);
}

// The network `arch` names, made for `sd`'s classes, and `sd` in its names; `hint` and
// `settings` say what the keys look like when it is not what they fit.
Built make_named(const StateDict& sd, const std::string& arch, Found& found, std::string& hint,
                 Settings& settings) {
  found = family_of(arch);
  if (found.family == nullptr)
    fail(sd.file, "unknown arch '" + arch + "'", did_you_mean(arch, known_archs()));
  Built guess;
  Found guessed;
  try {
    guessed = detect(sd, guess);
  } catch (const Error&) {  // keys that fit several archs alike: the one named is one of them
  }
  if (guessed.family != nullptr && guess.info.arch == arch) {  // as detected: it fits the keys
    found = std::move(guessed);                                // (the seed GoogLeNet's aux heads)
    return guess;
  }
  if (guessed.family != nullptr) {
    hint = "looks like " + guess.info.arch;
    settings = {{"arch", guess.info.arch}};
  } else {
    hint = prefix_hint(sd);
  }
  if (found.layout != nullptr && !found.layout->renames.empty()) {
    std::string unmatched;
    if (sd.tensors.size() > kMaxLayoutKeys)  // each key would try every rule of the table
      fail(sd.file, std::to_string(sd.tensors.size()) + " keys: more than a " + arch + " has", hint,
           settings);
    found.ours = detail::names_of(*found.layout)->to_ours(sd, unmatched);
    if (!found.ours)
      fail(sd.file, "key '" + shown_key(unmatched) + "' is not in " + arch + "'s names",
           hint.empty() ? "was it saved from a " + arch + "?" : hint, settings);
  }
  const StateDict& keys = found.ours ? *found.ours : sd;
  std::vector<int64_t> classes = detail::shape_of(keys, found.family->classes_key);
  constexpr int64_t kImageNetClasses = 1000;
  Built built =
      found.family->make(our_arch(found, arch), classes.empty() ? kImageNetClasses : classes[0]);
  name_in_layout(built, found);
  return built;
}

}  // namespace

Network build_network(const StateDict& sd, const BuildOptions& options) {
  // A TorchScript archive runs its own code (checked first); --arch rebuilds a zoo net instead.
  if (sd.format == "torchscript" && options.arch.empty()) {
    Built like;
    const Found found = detect(sd, like);
    if (found.family != nullptr)
      like.info.default_preset = preset_of(found, our_arch(found, like.info.arch));
    return detail::torchscript_network(sd, options.limits.value_or(graph::default_limits()),
                                       found.family != nullptr ? &like.info : nullptr);
  }
  if ((sd.format == "pt2" || sd.format == "onnx") && options.arch.empty())
    return detail::graph_network(sd, options.limits.value_or(graph::default_limits()));
  Built built;
  Found found;
  std::string hint;
  Settings settings;  // the arch the keys fit, where another was named
  if (options.arch.empty()) {
    found = detect(sd, built);
    if (found.family == nullptr) fail_unknown(sd);
  } else {
    built = make_named(sd, options.arch, found, hint, settings);
  }
  if (hint.empty()) hint = "was it saved from a " + built.info.arch + "?";
  load_strict(
      *built.root, found.ours ? *found.ours : sd, hint, settings,
      found.ours ? detail::names_of(*found.layout) : nullptr);  // errors in the file's names
  const std::string arch = our_arch(found, built.info.arch);
  return finish(std::move(built), found, arch, options, run_info_beside(sd.file));
}

Network init_network(const InitOptions& options) {
  const Found found = family_of(options.arch);
  if (found.family == nullptr)
    fail("", "unknown arch '" + options.arch + "'", did_you_mean(options.arch, known_archs()));
  if (options.num_classes < 1)
    fail("", "a network needs at least 1 class, got " + std::to_string(options.num_classes));
  const std::string arch = our_arch(found, options.arch);
  Built built = found.family->make(arch, options.num_classes);
  name_in_layout(built, found);
  torch::manual_seed(options.seed);
  if (found.layout != nullptr && found.layout->init)
    found.layout->init(*built.root);
  else if (found.family->init)
    found.family->init(*built.root);
  else
    init_like_seed(*built.root);
  return finish(std::move(built), found, arch, {});
}

}  // namespace cnnscope::models
