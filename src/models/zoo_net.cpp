// A zoo network (a detail::Layer tree that a Family built: torchvision's and the tutorials'
// CNNs, a rebuilt nn.Sequential) behind the Backend interface: its taps (Python's named_modules()
// with print(model)'s reprs), the probed forward in eval mode, state_dict() and the family's
// layer picks. Leaves out detection and loading (registry.cpp) and any training mode.
#include <torch/version.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/text.h"
#include "models/backend.h"
#include "models/network_impl.h"

namespace cnnscope::models::detail {
namespace {

constexpr int64_t kUsualSize = 224;  // ImageNet's crop: most networks' input

std::string pair(at::IntArrayRef v) {
  std::string out = "(";  // appended, not chained: GCC 12 warns falsely on the chain
  out += std::to_string(v[0]);
  out += ", ";
  out += std::to_string(v[1]);
  return out + ")";
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

// The taps of `root`: named_modules() order, the root excluded.
std::vector<TapInfo> taps_of(const torch::nn::Module& root) {
  std::vector<TapInfo> taps;
  for (const auto& item : root.named_modules("", /*include_self=*/false)) {
    const torch::nn::Module& m = *item.value();
    TapInfo tap;
    tap.name = item.key();
    std::tie(tap.type, tap.repr) = describe(m);
    tap.depth = static_cast<int>(std::count(tap.name.begin(), tap.name.end(), '.')) + 1;
    for (const at::Tensor& p : m.parameters()) tap.params += p.numel();
    tap.leaf = m.children().empty();
    taps.push_back(std::move(tap));
  }
  return taps;
}

// `taps` (ours) in `names`' file names, those with none dropped; `shown` gets ours -> file's.
std::vector<TapInfo> renamed(const std::vector<TapInfo>& taps, const Names& names,
                             std::unordered_map<std::string, std::string>& shown) {
  std::vector<TapInfo> out;
  std::unordered_set<std::string> used;
  for (const TapInfo& t : taps) {
    const std::optional<std::string> file = names.tap_to_file(t.name);
    if (!file || !used.insert(*file).second) continue;
    shown.emplace(t.name, *file);
    TapInfo tap = t;
    tap.name = *file;
    tap.depth = static_cast<int>(std::count(file->begin(), file->end(), '.')) + 1;
    out.push_back(std::move(tap));
  }
  return out;
}

class ZooBackend : public Backend {
 public:
  ZooBackend(std::shared_ptr<Layer> root, const Family& family, ArchInfo info, const Names* names)
      : root_(std::move(root)), family_(family), info_(std::move(info)), names_(names) {
    root_->eval();
    our_taps_ = taps_of(*root_);
    taps_ = names_ ? renamed(our_taps_, *names_, shown_) : our_taps_;
  }

  const std::vector<TapInfo>& taps() const { return taps_; }

  // options.deadline is not checked: a zoo network's forward has no steps to stop between.
  at::Tensor forward(const at::Tensor& input, const RunOptions& /*options*/,
                     Probe& probe) const override {
    if (names_) probe.show_as(&shown_);
    try {
      return root_->forward(input, probe);  // [N, classes]
    } catch (const c10::Error& e) {
      const std::string what = e.what_without_backtrace();
      const bool usual = input.size(2) == kUsualSize && input.size(3) == kUsualSize;
      const int64_t size = info_.arch == "alexnet_seed" ? kUsualSize
                           : info_.input_size > 0       ? info_.input_size
                           : usual                      ? 0  // unknown: the user picks it
                                                        : kUsualSize;
      const std::string side = size > 0 ? std::to_string(size) : "";
      fail("",
           "input " + shape_text(input.sizes()) + " does not fit " + info_.arch + ": " +
               what.substr(0, what.find('\n')),
           size > 0 ? "the network takes " + side + "x" + side + " images"
                    : "made for another input size?",
           {{"resize", side.empty() ? "N" : side}, {"crop", side.empty() ? "N" : side}});
    }
  }

  StateDict state_dict() const override {
    StateDict sd;
    constexpr int64_t kModuleVersion = 1, kBatchNormVersion = 2;  // nn.Module's, _BatchNorm's
    for (const auto& item : root_->named_modules("", /*include_self=*/true)) {
      const std::string prefix = item.key().empty() ? "" : item.key() + ".";
      const auto* layer = dynamic_cast<const Layer*>(item.value().get());
      sd.versions.push_back({item.key(), layer ? layer->version()
                                         : item.value()->as<torch::nn::BatchNorm2d>()
                                             ? kBatchNormVersion
                                             : kModuleVersion});
      for (const auto& p : item.value()->named_parameters(/*recurse=*/false))
        sd.tensors.push_back({prefix + p.key(), p.value()});
      for (const auto& b : item.value()->named_buffers(/*recurse=*/false))
        sd.tensors.push_back({prefix + b.key(), b.value()});
    }
    return names_ ? names_->to_file(sd) : sd;
  }

  int64_t num_parameters() const override {
    int64_t total = 0;
    for (const at::Tensor& p : root_->parameters()) total += p.numel();
    return total;
  }

  std::vector<std::string> default_layers() const override {
    return shown(family_.default_layers(our_taps_));
  }
  std::vector<std::string> all_layers() const override {
    return shown(family_.all_layers(our_taps_));
  }
  std::string default_cam_layer() const override {
    if (!family_.cam_layer) return "";
    const std::vector<std::string> layer = shown({family_.cam_layer(our_taps_)});
    return layer.empty() ? "" : layer.front();
  }
  torch::nn::Module& module() const override { return *root_; }

 private:
  // `names` (ours) as the file names them. A container of ours the file has no name for (a
  // stage Sequential) is shown as its last child that has one (the same output); the rest are
  // left out.
  std::vector<std::string> shown(const std::vector<std::string>& names) const {
    if (!names_) return names;
    std::vector<std::string> out;
    for (std::string name : names) {
      for (auto it = shown_.find(name); !name.empty(); it = shown_.find(name)) {
        if (it != shown_.end()) {
          out.push_back(it->second);
          break;
        }
        name = last_child(name);
      }
    }
    return out;
  }

  // The last direct child of our module `name`; "" when it has none.
  std::string last_child(const std::string& name) const {
    const std::string prefix = name + ".";
    std::string last;
    for (const TapInfo& t : our_taps_)
      if (starts_with(t.name, prefix) && t.name.find('.', prefix.size()) == std::string::npos)
        last = t.name;
    return last;
  }

  std::shared_ptr<Layer> root_;    // in eval mode
  const Family& family_;           // the family it was built by
  ArchInfo info_;                  // its arch and input size, for what a failed forward says
  std::vector<TapInfo> our_taps_;  // named_modules() order, root excluded, our names
  const Names* names_;             // the file's layout (layout.h); null: our names
  std::unordered_map<std::string, std::string> shown_;  // ours -> the file's, for the probe
  std::vector<TapInfo> taps_;                           // our_taps_ as the file names them
};

}  // namespace

Network zoo_network(Built built, const Family& family, const Names* names) {
  auto backend = std::make_shared<ZooBackend>(std::move(built.root), family, built.info, names);
  std::vector<TapInfo> taps = backend->taps();
  return Network(
      std::make_shared<Network::Impl>(std::move(built.info), std::move(taps), std::move(backend)));
}

}  // namespace cnnscope::models::detail
