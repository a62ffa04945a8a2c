// ShuffleNet v2 x0.5/x1.0/x1.5/x2.0 with torchvision's module names: conv1, maxpool, stage2-4
// (InvertedResidual blocks: two branches, concatenated, channels shuffled in 2 groups), conv5,
// fc; the width read from the keys. Follows torchvision/models/shufflenetv2.py. A stride-1 block
// has an empty `branch1` Sequential, as in Python: it never runs, so it has no output to tap.
// No init of its own in torchvision: `init` draws PyTorch's defaults again (reset_defaults).
#include <array>

#include "common/error.h"
#include "models/blocks.h"

namespace cnnscope::models::detail {
namespace {

constexpr int kStages = 3;
constexpr std::array<int64_t, kStages> kRepeats{4, 8, 4};

struct Width {
  const char* arch;
  std::array<int64_t, 5> channels;
};
constexpr std::array<Width, 4> kWidths{{{"shufflenet_v2_x0_5", {24, 48, 96, 192, 1024}},
                                        {"shufflenet_v2_x1_0", {24, 116, 232, 464, 1024}},
                                        {"shufflenet_v2_x1_5", {24, 176, 352, 704, 1024}},
                                        {"shufflenet_v2_x2_0", {24, 244, 488, 976, 2048}}}};

// [N, C, H, W] with its channels interleaved from `groups` groups (a copy).
at::Tensor shuffle_channels(const at::Tensor& x, int64_t groups) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.view({n, groups, c / groups, h, w}).transpose(1, 2).contiguous().view({n, c, h, w});
}

class InvertedResidual : public Layer {
 public:
  InvertedResidual(const std::string& path, int64_t in, int64_t out, int64_t stride)
      : Layer("InvertedResidual", path), stride_(stride) {
    const int64_t branch = out / 2;
    branch1_ = std::make_shared<Sequential>(child_path("branch1"));
    if (stride > 1) {
      branch1_->push_back(conv({in, in, 3, stride, in, 1, false}));
      branch1_->push_back(batch_norm(in));
      branch1_->push_back(conv({in, branch, 1, 1, 1, 0, false}));
      branch1_->push_back(batch_norm(branch));
      branch1_->push_back(relu(true));
    }
    register_module("branch1", branch1_);
    branch2_ = std::make_shared<Sequential>(child_path("branch2"));
    branch2_->push_back(conv({stride > 1 ? in : branch, branch, 1, 1, 1, 0, false}));
    branch2_->push_back(batch_norm(branch));
    branch2_->push_back(relu(true));
    branch2_->push_back(conv({branch, branch, 3, stride, branch, 1, false}));
    branch2_->push_back(batch_norm(branch));
    branch2_->push_back(conv({branch, branch, 1, 1, 1, 0, false}));
    branch2_->push_back(batch_norm(branch));
    branch2_->push_back(relu(true));
    register_module("branch2", branch2_);
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    at::Tensor out;  // [N, out, H', W']
    if (stride_ == 1) {
      std::vector<at::Tensor> halves = x.chunk(2, 1);
      out = at::cat({halves[0], probe(branch2_->path(), branch2_->forward(halves[1], probe))}, 1);
    } else {
      at::Tensor a = probe(branch1_->path(), branch1_->forward(x, probe));
      out = at::cat({a, probe(branch2_->path(), branch2_->forward(x, probe))}, 1);
    }
    return shuffle_channels(out, 2);
  }

 private:
  int64_t stride_;
  std::shared_ptr<Sequential> branch1_, branch2_;
};

class ShuffleNetV2 : public Layer {
 public:
  ShuffleNetV2(const std::array<int64_t, 5>& widths, int64_t num_classes)
      : Layer("ShuffleNetV2", "") {
    conv1_ = std::make_shared<Sequential>("conv1");
    conv1_->push_back(conv({3, widths[0], 3, 2, 1, 1, false}));
    conv1_->push_back(batch_norm(widths[0]));
    conv1_->push_back(relu(true));
    register_module("conv1", conv1_);
    maxpool_ = register_module("maxpool", max_pool(3, 2, 1));
    int64_t in = widths[0];
    for (int s = 0; s < kStages; ++s) {
      const std::string name = "stage" + std::to_string(s + 2);
      auto stage = std::make_shared<Sequential>(name);
      for (int64_t i = 0; i < kRepeats[s]; ++i) {
        stage->push_back(std::make_shared<InvertedResidual>(name + "." + std::to_string(i),
                                                            i == 0 ? in : widths[s + 1],
                                                            widths[s + 1], i == 0 ? 2 : 1));
      }
      in = widths[s + 1];
      stages_[s] = register_module(name, stage);
    }
    conv5_ = std::make_shared<Sequential>("conv5");
    conv5_->push_back(conv({in, widths[4], 1, 1, 1, 0, false}));
    conv5_->push_back(batch_norm(widths[4]));
    conv5_->push_back(relu(true));
    register_module("conv5", conv5_);
    fc_ = register_module("fc", linear(widths[4], num_classes));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = probe("conv1", conv1_->forward(std::move(x), probe));  // [N, 24, H/2, W/2]
    x = probe("maxpool", maxpool_->forward(x));                // [N, 24, H/4, W/4]
    for (const auto& stage : stages_) x = probe(stage->path(), stage->forward(std::move(x), probe));
    x = probe("conv5", conv5_->forward(std::move(x), probe));  // [N, C, H/32, W/32]
    x = x.mean({2, 3});                                        // [N, C]
    return probe("fc", fc_->forward(x));
  }

 private:
  std::shared_ptr<Sequential> conv1_, conv5_;
  torch::nn::MaxPool2d maxpool_{nullptr};
  std::array<std::shared_ptr<Sequential>, kStages> stages_;
  torch::nn::Linear fc_{nullptr};
};

Built make(const std::string& arch, int64_t num_classes) {
  std::array<int64_t, 5> widths = kWidths[1].channels;
  for (const Width& w : kWidths)
    if (arch == w.arch) widths = w.channels;
  return described(std::make_shared<ShuffleNetV2>(widths, num_classes), "shufflenet", arch,
                   "widths " + join_widths({widths.begin(), widths.end()}), num_classes);
}

Built detect(const StateDict& sd, std::string& why_not) {
  if (!has_keys(sd, {"conv1.0.weight", "stage2.0.branch1.0.weight", "conv5.0.weight", "fc.weight"},
                why_not))
    return {};
  std::vector<Variant> variants;
  for (const Width& w : kWidths)
    variants.push_back({w.arch, {w.channels.begin(), w.channels.end()}});
  std::vector<int64_t> got{shape_of(sd, "conv1.0.weight")[0]};
  for (int s = 0; s < kStages; ++s) {
    // A stage's output: both branches' widths.
    std::vector<int64_t> w = shape_of(sd, "stage" + std::to_string(s + 2) + ".0.branch2.5.weight");
    got.push_back(w.empty() ? 0 : 2 * w[0]);
  }
  got.push_back(shape_of(sd, "conv5.0.weight")[0]);
  return pick_variant(sd, {std::move(variants), got, "widths", "fc.weight", make}, why_not);
}

}  // namespace

// Default layers: conv1, stage2 and stage3; all: conv1, every block and conv5.
const Family& shufflenet_family() {
  static const Family f{
      "shufflenet",
      {"shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"},
      "fc.weight",
      detect,
      make,
      fixed_layers({"conv1", "stage2", "stage3"}),
      blocks_between({"conv1"}, {"InvertedResidual"}, {"conv5"}),
      module_named("conv5"),
      presets_for({"shufflenet_v2_x1_5", "shufflenet_v2_x2_0"}),
      reset_defaults,
      nullptr};
  return f;
}

}  // namespace cnnscope::models::detail
