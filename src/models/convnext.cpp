// ConvNeXt tiny/small/base/large with torchvision's module names: `features` (a 4x4 stride-4
// stem with LayerNorm2d; stages of CNBlock: 7x7 depthwise conv, Permute, LayerNorm, Linear, GELU,
// Linear, Permute, times `layer_scale`; downsampling LayerNorm2d + 2x2 conv between stages),
// avgpool, `classifier` (LayerNorm2d, Flatten, Linear); the variant read from the stem width and
// blocks per stage. Follows torchvision/models/convnext.py (layer scale 1e-6, stochastic depth
// per builder: the identity in eval mode). Two more key layouts of the same network (layout.h):
// timm's (timm/models/convnext.py: stem, stages.{i}.downsample/blocks, head) and the official
// release's (facebookresearch/ConvNeXt models/convnext.py: downsample_layers, stages, norm, head),
// which the seed series' ConvNeXt/model.py keeps, named seed/...; their `gamma` [C] is
// torchvision's `layer_scale` [C, 1, 1], their head LayerNorm over the pooled [N, C] features
// the same as torchvision's LayerNorm2d over [N, C, 1, 1]. xlarge (both layouts, not
// torchvision) is a variant. Leaves out the official and timm's other sizes (atto ... nano use
// timm's conv MLP, isotropic models have no stages).
#include <array>
#include <string>
#include <vector>

#include "common/error.h"
#include "models/blocks.h"

namespace cnnscope::models::detail {
namespace {

constexpr int kStages = 4;
constexpr double kEps = 1e-6;
constexpr double kLayerScale = 1e-6;
constexpr int64_t kMlpRatio = 4;
constexpr double kTruncStd = 0.02;

struct Builder {
  const char* arch;
  std::array<int64_t, kStages> widths, depths;
  double stochastic_depth;
};
constexpr std::array<Builder, 5> kBuilders{
    {{"convnext_tiny", {96, 192, 384, 768}, {3, 3, 9, 3}, 0.1},
     {"convnext_small", {96, 192, 384, 768}, {3, 3, 27, 3}, 0.4},
     {"convnext_base", {128, 256, 512, 1024}, {3, 3, 27, 3}, 0.5},
     {"convnext_large", {192, 384, 768, 1536}, {3, 3, 27, 3}, 0.5},
     // A variant: the official release's and timm's, not torchvision's.
     {"convnext_xlarge", {256, 512, 1024, 2048}, {3, 3, 27, 3}, 0.5}}};

class CNBlock : public Layer {
 public:
  CNBlock(const std::string& path, int64_t dim, double p) : Layer("CNBlock", path) {
    block_ = std::make_shared<Sequential>(child_path("block"));
    block_->push_back(conv({dim, dim, 7, 1, dim, 3, true}));
    block_->push_back(permute({0, 2, 3, 1}));
    block_->push_back(std::make_shared<LayerNorm>(dim, kEps, /*channels_first=*/false));
    block_->push_back(std::make_shared<FusedLinearImpl>(dim, kMlpRatio * dim));
    block_->push_back(activation(Act::kGELU, false));
    block_->push_back(std::make_shared<FusedLinearImpl>(kMlpRatio * dim, dim));
    block_->push_back(permute({0, 3, 1, 2}));
    // Registered before its children, as Python's nn.Parameter in __init__ after `block`: the
    // state_dict puts it first either way (a module's own parameters precede its children's).
    layer_scale_ = register_parameter("layer_scale", at::full({dim, 1, 1}, kLayerScale));
    register_module("block", block_);
    stochastic_depth_ = register_module("stochastic_depth", stochastic_depth(p));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    at::Tensor out = layer_scale_ * probe(block_->path(), block_->forward(x, probe));
    out = probe(child_path("stochastic_depth"), stochastic_depth_->forward(out, probe));
    out += x;
    return out;
  }

 private:
  at::Tensor layer_scale_;  // [C, 1, 1]
  std::shared_ptr<Sequential> block_;
  std::shared_ptr<Leaf> stochastic_depth_;
};

std::shared_ptr<Layer> convnext(const Builder& c, int64_t num_classes) {
  auto features = std::make_shared<Sequential>("features");
  constexpr int64_t kStemPatch = 4;
  features->push_back(conv_norm_act("features.0",
                                    {3, c.widths[0], kStemPatch, kStemPatch, 1, 0, true},
                                    Norm{Norm::kLayer2d, kEps}, Act::kNone));
  int64_t total = 0, id = 0;
  for (int64_t d : c.depths) total += d;
  for (int s = 0; s < kStages; ++s) {
    const std::string path = "features." + std::to_string(features->size());
    auto stage = std::make_shared<Sequential>(path);
    for (int64_t i = 0; i < c.depths[s]; ++i, ++id) {
      const double p =
          c.stochastic_depth * static_cast<double>(id) / (static_cast<double>(total) - 1.0);
      stage->push_back(std::make_shared<CNBlock>(path + "." + std::to_string(i), c.widths[s], p));
    }
    features->push_back(stage);
    if (s + 1 == kStages) break;
    auto down = std::make_shared<Sequential>("features." + std::to_string(features->size()));
    down->push_back(std::make_shared<LayerNorm>(c.widths[s], kEps, /*channels_first=*/true));
    down->push_back(conv({c.widths[s], c.widths[s + 1], 2, 2, 1, 0, true}));
    features->push_back(down);
  }
  const int64_t last = c.widths[kStages - 1];
  auto classifier = std::make_shared<Sequential>("classifier");
  classifier->push_back(std::make_shared<LayerNorm>(last, kEps, /*channels_first=*/true));
  classifier->push_back(flatten());
  classifier->push_back(linear(last, num_classes));
  return std::make_shared<FeaturesClassifier>("ConvNeXt", features, global_avg_pool(), classifier,
                                              false);
}

const Builder& builder_of(const std::string& arch) {
  for (const Builder& b : kBuilders)
    if (arch == b.arch) return b;
  return kBuilders[0];
}

Built make(const std::string& arch, int64_t num_classes) {
  const Builder& c = builder_of(arch);
  return described(convnext(c, num_classes), "convnext", arch,
                   "widths " + join_widths({c.widths.begin(), c.widths.end()}) + ", depths " +
                       join_widths({c.depths.begin(), c.depths.end()}),
                   num_classes);
}

Built detect(const StateDict& sd, std::string& why_not) {
  if (!has_keys(sd, {"features.0.0.weight", "features.1.0.layer_scale", "classifier.2.weight"},
                why_not))
    return {};
  std::vector<int64_t> got{shape_of(sd, "features.0.0.weight")[0]};
  for (int s = 0; s < kStages; ++s)
    got.push_back(count_indexed(sd, "features." + std::to_string(2 * s + 1) + ".", ".layer_scale"));
  std::vector<Variant> variants;
  for (const Builder& b : kBuilders) {
    std::vector<int64_t> sig{b.widths[0]};
    sig.insert(sig.end(), b.depths.begin(), b.depths.end());
    variants.push_back({b.arch, sig});
  }
  return pick_variant(
      sd, {std::move(variants), got, "stem width, blocks per stage", "classifier.2.weight", make},
      why_not);
}

// torchvision's ConvNeXt init: conv and linear weights truncated normal (std 0.02), biases 0;
// LayerNorms 1/0 and layer scales 1e-6 as constructed.
void init(torch::nn::Module& root) {
  init_modules(root, {[](auto& c) { trunc_normal(c.weight, kTruncStd); },
                      [](auto& l) { trunc_normal(l.weight, kTruncStd); }});
}

// The seed series' ConvNeXt/model.py init (_init_weights): conv and linear weights truncated
// normal with std 0.2 (sic: the official release has 0.02), biases 0; LayerNorms 1/0 and gammas
// 1e-6 as constructed.
void seed_init(torch::nn::Module& root) {
  constexpr double kSeedStd = 0.2;
  init_modules(root, {[](auto& c) { trunc_normal(c.weight, kSeedStd); },
                      [](auto& l) { trunc_normal(l.weight, kSeedStd); }});
}

// Our stage s (0-based) and the downsampling before it (s > 0), as named in `features`.
std::string stage_of(int s) {
  return "features." + std::to_string(2 * s + 1);
}
std::string downsample_of(int s) {
  return "features." + std::to_string(2 * s);
}

// The renames of one stage's blocks: `file` ("stages.0.blocks.{b}") is `ours`
// ("features.1.{b}"); `parts` are the file's names of the depthwise conv, LayerNorm, first
// Linear, GELU and second Linear, torchvision's block.0, .2, .3, .4, .5 (its Permutes have no
// counterpart; the file's drop_path gives the scaled branch, as stochastic_depth).
void add_blocks(const std::string& file, const std::string& ours,
                const std::array<const char*, 5>& parts, std::vector<Rename>& out) {
  constexpr std::array<int, 5> kOurs{0, 2, 3, 4, 5};
  out.push_back({file + ".gamma", ours + ".layer_scale", Rename::kKeys, 1});
  out.push_back({file, ours});
  for (size_t i = 0; i < parts.size(); ++i)
    out.push_back({file + "." + parts[i], ours + ".block." + std::to_string(kOurs[i])});
  out.push_back({file + ".drop_path", ours + ".stochastic_depth"});
}

// timm's names: stem; stages.{s} with .downsample (after the first) and .blocks.{b}; head
// (global_pool, norm, flatten, fc; its output the logits).
std::vector<Rename> timm_names() {
  std::vector<Rename> r{{"stem", "features.0"}, {"stem.**", "features.0.**"}};
  for (int s = 0; s < kStages; ++s) {
    const std::string file = "stages." + std::to_string(s);
    r.push_back({file, stage_of(s)});
    if (s > 0) {
      r.push_back({file + ".downsample", downsample_of(s)});
      r.push_back({file + ".downsample.**", downsample_of(s) + ".**"});
    }
    // timm's `mlp` and `.blocks` give what `mlp.fc2` and the stage give, the names shown (one
    // file name per module of ours).
    add_blocks(file + ".blocks.{b}", stage_of(s) + ".{b}",
               {"conv_dw", "norm", "mlp.fc1", "mlp.act", "mlp.fc2"}, r);
  }
  r.insert(r.end(), {{"head.global_pool", "avgpool"},
                     {"head.norm", "classifier.0"},
                     {"head.flatten", "classifier.1"},
                     {"head.fc", "classifier.2"},
                     {"head", "classifier"}});
  return r;
}

// The official release's names (the seed series' too): downsample_layers.{s} (the stem first),
// stages.{s}.{b}; `norm` a LayerNorm over the pooled [N, C] (torchvision's classifier.0 holds its
// parameters, classifier.1 gives its output), `head` the Linear.
std::vector<Rename> official_names() {
  std::vector<Rename> r{{"downsample_layers.0", "features.0"},
                        {"downsample_layers.0.**", "features.0.**"}};
  for (int s = 0; s < kStages; ++s) {
    const std::string file = "stages." + std::to_string(s);
    r.push_back({file, stage_of(s)});
    if (s > 0) {
      const std::string down = "downsample_layers." + std::to_string(s);
      r.push_back({down, downsample_of(s)});
      r.push_back({down + ".**", downsample_of(s) + ".**"});
    }
    add_blocks(file + ".{b}", stage_of(s) + ".{b}", {"dwconv", "norm", "pwconv1", "act", "pwconv2"},
               r);
  }
  r.insert(r.end(), {{"norm", "classifier.0", Rename::kKeys},
                     {"norm", "classifier.1", Rename::kTaps},
                     {"head", "classifier.2"}});
  return r;
}

// Each size under `layout`/NAME, its preset named after it.
std::vector<LayoutArch> layout_archs(const std::string& layout) {
  std::vector<LayoutArch> out;
  for (const Builder& b : kBuilders) {
    const std::string name = layout + "/" + b.arch;
    out.push_back({name, b.arch, name});
  }
  return out;
}

}  // namespace

// Default layers: the stem, the first and second stages; all: the stem and every block.
const Family& convnext_family() {
  static const Family f{
      "convnext",
      {"convnext_tiny", "convnext_small", "convnext_base", "convnext_large"},
      "classifier.2.weight",
      detect,
      make,
      fixed_layers({"features.0", "features.1", "features.3"}),
      blocks_between({"features.0"}, {"CNBlock"}),
      last_child_of("features"),
      presets_for({"convnext_tiny", "convnext_small", "convnext_base", "convnext_large"}),
      init,
      nullptr,
      {"convnext_xlarge"},
      {Layout{"timm", layout_archs("timm"), timm_names()},
       // The seed series' ConvNeXt/model.py, and facebookresearch/ConvNeXt's own files.
       Layout{"seed", layout_archs("seed"), official_names(), seed_init}}};
  return f;
}

}  // namespace cnnscope::models::detail
