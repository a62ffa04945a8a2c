// Network: the tap list (Python's named_modules() with print(model)'s reprs), layer selection
// with closest-name suggestions, and the probed forward pass. Leaves out any training mode.
#include "models/network.h"

#include <torch/version.h>

#include <algorithm>
#include <sstream>
#include <unordered_map>

#include "common/error.h"
#include "common/text.h"
#include "models/network_impl.h"

namespace cnnscope::models {
namespace {

constexpr size_t kSuggestions = 3;
constexpr int64_t kInputDims = 4;
constexpr int64_t kUsualSize = 224;  // ImageNet's crop: most networks' input

std::string pair(at::IntArrayRef v) {
  return "(" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ")";
}

std::string py_bool(bool b) {
  return b ? "True" : "False";
}

// Python's class name and print(model) line for a module.
std::pair<std::string, std::string> describe(const torch::nn::Module& m) {
  if (const auto* layer = dynamic_cast<const detail::Layer*>(&m)) return {m.name(), layer->repr()};
  if (const auto* c = m.as<torch::nn::Conv2d>()) {
    const auto& o = c->options;
    std::string r = "Conv2d(" + std::to_string(o.in_channels()) + ", " +
                    std::to_string(o.out_channels()) + ", kernel_size=" + pair(*o.kernel_size()) +
                    ", stride=" + pair(*o.stride());
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
    const auto* padding = std::get_if<torch::ExpandingArray<2>>(&o.padding());  // std::variant
    const bool same = std::holds_alternative<torch::enumtype::kSame>(o.padding());
#else
    const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());  // LibTorch 1.x
    const bool same = c10::holds_alternative<torch::enumtype::kSame>(o.padding());
#endif
    if (padding && ((**padding)[0] != 0 || (**padding)[1] != 0))
      r += ", padding=" + pair(**padding);
    if (!padding) r += same ? ", padding=same" : ", padding=valid";  // Python: unquoted
    const auto& dilation = *o.dilation();
    if (dilation[0] != 1 || dilation[1] != 1) r += ", dilation=" + pair(dilation);
    if (o.groups() != 1) r += ", groups=" + std::to_string(o.groups());
    if (!o.bias()) r += ", bias=False";
    return {"Conv2d", r + ")"};
  }
  if (const auto* b = m.as<torch::nn::BatchNorm2d>()) {
    const auto& o = b->options;
    return {"BatchNorm2d",
            "BatchNorm2d(" + std::to_string(o.num_features()) + ", eps=" + py_float(o.eps()) +
                ", momentum=" + (o.momentum() ? py_float(*o.momentum()) : std::string("None")) +
                ", affine=" + py_bool(o.affine()) +
                // torch 2.x's repr: a bias exists when affine (cnnscope's BNs)
                ", bias=" + py_bool(o.affine()) +
                ", track_running_stats=" + py_bool(o.track_running_stats()) + ")"};
  }
  if (const auto* r = m.as<torch::nn::ReLU>())
    return {"ReLU", r->options.inplace() ? "ReLU(inplace=True)" : "ReLU()"};
  if (const auto* p = m.as<torch::nn::MaxPool2d>()) {
    const auto& o = p->options;
    return {"MaxPool2d", "MaxPool2d(kernel_size=" + std::to_string((*o.kernel_size())[0]) +
                             ", stride=" + std::to_string((*o.stride())[0]) +
                             ", padding=" + std::to_string((*o.padding())[0]) +
                             ", dilation=" + std::to_string((*o.dilation())[0]) +
                             ", ceil_mode=" + py_bool(o.ceil_mode()) + ")"};
  }
  if (const auto* d = m.as<torch::nn::Dropout>())
    return {"Dropout", "Dropout(p=" + py_float(d->options.p()) +
                           ", inplace=" + py_bool(d->options.inplace()) + ")"};
  if (const auto* l = m.as<torch::nn::Linear>()) {
    const auto& o = l->options;
    return {"Linear", "Linear(in_features=" + std::to_string(o.in_features()) + ", out_features=" +
                          std::to_string(o.out_features()) + ", bias=" + py_bool(o.bias()) + ")"};
  }
  if (const auto* a = m.as<torch::nn::AdaptiveAvgPool2d>()) {
    const auto& size = *a->options.output_size();
    return {"AdaptiveAvgPool2d", "AdaptiveAvgPool2d(output_size=(" +
                                     std::to_string(size[0].value_or(0)) + ", " +
                                     std::to_string(size[1].value_or(0)) + "))"};
  }
  return {m.name(), m.name()};
}

std::string trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

}  // namespace

Network::Impl::Impl(detail::Built built, const detail::Family& family)
    : root(std::move(built.root)), info(std::move(built.info)), family(&family) {
  root->eval();
  for (const auto& item : root->named_modules("", /*include_self=*/false)) {
    const torch::nn::Module& m = *item.value();
    TapInfo tap;
    tap.name = item.key();
    std::tie(tap.type, tap.repr) = describe(m);
    tap.depth = static_cast<int>(std::count(tap.name.begin(), tap.name.end(), '.')) + 1;
    for (const at::Tensor& p : m.parameters()) tap.params += p.numel();
    tap.leaf = m.children().empty();
    taps.push_back(std::move(tap));
  }
}

Network::Impl::Impl(ArchInfo info_, std::vector<TapInfo> taps_,
                    std::shared_ptr<const detail::Backend> backend_, const std::string& root_type)
    : backend(std::move(backend_)),
      placeholder(std::make_shared<torch::nn::Module>(root_type)),
      info(std::move(info_)),
      family(nullptr),
      taps(std::move(taps_)) {}

Network::Network(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

const ArchInfo& Network::info() const {
  return impl_->info;
}
const std::vector<TapInfo>& Network::taps() const {
  return impl_->taps;
}
torch::nn::Module& Network::module() const {
  if (impl_->backend) return *impl_->placeholder;
  return *impl_->root;
}

int64_t Network::num_parameters() const {
  if (impl_->backend) return impl_->backend->num_parameters();
  int64_t total = 0;
  for (const at::Tensor& p : impl_->root->parameters()) total += p.numel();
  return total;
}

const at::Tensor* ForwardResult::find(const std::string& name) const {
  for (const NamedTensor& t : taps)
    if (t.name == name) return &t.tensor;
  return nullptr;
}

std::vector<std::string> Network::default_layers() const {
  if (impl_->backend) return impl_->backend->default_layers();
  return impl_->family->default_layers(impl_->taps);
}

std::vector<std::string> Network::all_layers() const {
  if (impl_->backend) return impl_->backend->all_layers();
  return impl_->family->all_layers(impl_->taps);
}

void Network::check_tap(const std::string& name) const {
  if (impl_->backend && impl_->backend->extra_tap(name)) return;
  std::vector<std::string> names;
  for (const TapInfo& t : impl_->taps) {
    if (t.name == name) return;
    names.push_back(t.name);
  }
  fail("", "no layer '" + name + "' in " + impl_->info.arch,
       "closest: " + join(closest_names(name, names, kSuggestions), ", ") +
           "; `cnnscope summary` lists all");
}

std::vector<std::string> Network::select_layers(const std::string& spec) const {
  const std::string trimmed = trim(spec);
  if (trimmed.empty()) return default_layers();
  if (trimmed == "all") return all_layers();
  std::vector<std::string> out;
  std::stringstream in(trimmed);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    check_tap(item);
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  if (out.empty()) fail("", "--layers '" + spec + "' names no layer", "e.g. --layers all");
  return out;
}

ForwardResult Network::run(const at::Tensor& input, const std::vector<std::string>& taps) const {
  RunOptions options;
  options.taps = taps;
  return run(input, options);
}

ForwardResult Network::run(const at::Tensor& input, const RunOptions& options) const {
  const std::vector<std::string>& taps = options.taps;
  for (const std::string& name : taps) check_tap(name);
  const int64_t channels = impl_->info.input_channels;
  if (input.dim() != kInputDims || input.size(1) != channels)
    fail("",
         "the network input must be [N, " + std::to_string(channels) + ", H, W], got " +
             shape_text(input.sizes()),
         "an image tensor [" + std::to_string(channels) + ", H, W] needs unsqueeze(0)");
  std::unordered_map<std::string, size_t> wanted;
  for (size_t i = 0; i < taps.size(); ++i) wanted.emplace(taps[i], i);
  std::vector<at::Tensor> captured(taps.size());
  const detail::Probe::Hook* hook = options.hook ? &options.hook : nullptr;
  detail::Probe probe(&wanted, &captured, options.gradients, hook);
  ForwardResult result;
  torch::AutoGradMode grad_mode(options.gradients);
  if (impl_->backend) {
    result.logits = impl_->backend->forward(input.to(at::kFloat).contiguous(), options, probe);
    for (size_t i = 0; i < taps.size(); ++i)
      result.taps.push_back({taps[i], captured[wanted.at(taps[i])]});
    return result;
  }
  try {
    result.logits = impl_->root->forward(input.to(at::kFloat).contiguous(), probe);  // [N, classes]
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    fail("",
         "input " + shape_text(input.sizes()) + " does not fit " + impl_->info.arch + ": " +
             what.substr(0, what.find('\n')),
         impl_->info.arch == "alexnet_seed" ? "the seed's AlexNet needs 224x224"
         : input.size(2) == kUsualSize && input.size(3) == kUsualSize
             ? "made for another input size? pass --resize N --crop N"
             : "try a 224x224 input");
  }
  for (size_t i = 0; i < taps.size(); ++i)  // a name asked twice: the capture of its first ask
    result.taps.push_back({taps[i], captured[wanted.at(taps[i])]});
  return result;
}

StateDict Network::state_dict() const {
  if (impl_->backend) return impl_->backend->state_dict();
  StateDict sd;
  constexpr int64_t kModuleVersion = 1, kBatchNormVersion = 2;  // nn.Module's, _BatchNorm's
  for (const auto& item : impl_->root->named_modules("", /*include_self=*/true)) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    const auto* layer = dynamic_cast<const detail::Layer*>(item.value().get());
    sd.versions.push_back({item.key(), layer ? layer->version()
                                       : item.value()->as<torch::nn::BatchNorm2d>()
                                           ? kBatchNormVersion
                                           : kModuleVersion});
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false))
      sd.tensors.push_back({prefix + p.key(), p.value()});
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false))
      sd.tensors.push_back({prefix + b.key(), b.value()});
  }
  return sd;
}

}  // namespace cnnscope::models
