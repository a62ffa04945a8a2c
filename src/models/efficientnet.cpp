// EfficientNet b0-b7 (MBConv) and v2 s/m/l (FusedMBConv then MBConv) with torchvision's module
// names: `features` (stem Conv2dNormActivation, one Sequential per stage, the last 1x1 conv),
// avgpool, `classifier`; the variant read from the stem width, blocks per stage and head width.
// Follows torchvision/models/efficientnet.py: width/depth multipliers, BN eps/momentum and dropout
// per builder, stochastic depth 0.2 * block / blocks (the identity in eval mode).
// The same networks under timm's names (timm 1.0's _efficientnet_blocks.py / efficientnet.py:
// efficientnet_b0-b3, and tf_efficientnet_b0 / tf_efficientnetv2_s, which differ in computation:
// TensorFlow's "SAME" padding and BN eps 1e-3, variants here) and the seed series' model.py files
// (pytorch_classification/Test9_efficientNet: BN eps 1e-3 everywhere, variants for b0-b4;
// Test11_efficientnetV2: torchvision's computation) as layouts (layout.h). Leaves out timm's other
// EfficientNets (lite, condconv, rw variants).
#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <utility>

#include "common/error.h"
#include "common/text.h"
#include "models/blocks.h"

namespace cnnscope::models::detail {
namespace {

constexpr double kStochasticDepth = 0.2;
constexpr int64_t kDivisor = 8;

struct StageSetting {
  bool fused;
  double expand;
  int64_t kernel, stride, in, out, layers;
};

struct Config {
  std::vector<StageSetting> stages;  // channels and layers already scaled
  int64_t last_channel = 0;
  Norm norm;
  double dropout = 0.2;
  bool same = false;  // TensorFlow's "SAME" padding on the strided convs (timm's tf_ variants)
};

struct Builder {
  const char* arch;
  double width, depth, dropout;
  Norm norm;
};

constexpr Norm kDefaultNorm{Norm::kBatch, 1e-5, 0.1};
constexpr Norm kB5Norm{Norm::kBatch, 1e-3, 0.01};
constexpr Norm kV2Norm{Norm::kBatch, 1e-3, 0.1};
constexpr std::array<Builder, 8> kBs{{{"efficientnet_b0", 1.0, 1.0, 0.2, kDefaultNorm},
                                      {"efficientnet_b1", 1.0, 1.1, 0.2, kDefaultNorm},
                                      {"efficientnet_b2", 1.1, 1.2, 0.3, kDefaultNorm},
                                      {"efficientnet_b3", 1.2, 1.4, 0.3, kDefaultNorm},
                                      {"efficientnet_b4", 1.4, 1.8, 0.4, kDefaultNorm},
                                      {"efficientnet_b5", 1.6, 2.2, 0.4, kB5Norm},
                                      {"efficientnet_b6", 1.8, 2.6, 0.5, kB5Norm},
                                      {"efficientnet_b7", 2.0, 3.1, 0.5, kB5Norm}}};

// The archs only a layout names: a torchvision arch computed as another library computes it.
struct VariantSetting {
  const char* arch;
  const char* base;  // the torchvision arch it changes
  bool same;         // TensorFlow's "SAME" padding
};
constexpr Norm kTfNorm{Norm::kBatch, 1e-3, 0.1};  // BN eps 1e-3: every variant's
constexpr std::array<VariantSetting, 7> kVariants{{
    {"tf_efficientnet_b0", "efficientnet_b0", true},     // timm's
    {"tf_efficientnetv2_s", "efficientnet_v2_s", true},  // timm's
    {"efficientnet_b0_seed", "efficientnet_b0", false},  // the seed series' (b5-b7: torchvision's)
    {"efficientnet_b1_seed", "efficientnet_b1", false},
    {"efficientnet_b2_seed", "efficientnet_b2", false},
    {"efficientnet_b3_seed", "efficientnet_b3", false},
    {"efficientnet_b4_seed", "efficientnet_b4", false},
}};

std::vector<std::string> variants() {
  std::vector<std::string> out;
  for (const VariantSetting& v : kVariants) out.emplace_back(v.arch);
  return out;
}

const std::vector<std::string>& archs() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> a;
    for (const Builder& b : kBs) a.emplace_back(b.arch);
    for (const char* v2 : {"efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"})
      a.emplace_back(v2);
    return a;
  }();
  return all;
}

Config config(const std::string& arch) {
  for (const VariantSetting& v : kVariants) {
    if (arch != v.arch) continue;
    Config c = config(v.base);
    c.norm = kTfNorm;
    c.same = v.same;
    return c;
  }
  Config c;
  for (const Builder& b : kBs) {
    if (arch != b.arch) continue;
    auto scaled = [&b](double expand, int64_t kernel, int64_t stride, int64_t in, int64_t out,
                       int64_t layers) {
      return StageSetting{false,
                          expand,
                          kernel,
                          stride,
                          make_divisible(static_cast<double>(in) * b.width, kDivisor),
                          make_divisible(static_cast<double>(out) * b.width, kDivisor),
                          static_cast<int64_t>(std::ceil(static_cast<double>(layers) * b.depth))};
    };
    c.stages = {scaled(1, 3, 1, 32, 16, 1),  scaled(6, 3, 2, 16, 24, 2),
                scaled(6, 5, 2, 24, 40, 2),  scaled(6, 3, 2, 40, 80, 3),
                scaled(6, 5, 1, 80, 112, 3), scaled(6, 5, 2, 112, 192, 4),
                scaled(6, 3, 1, 192, 320, 1)};
    constexpr int64_t kHeadExpand = 4;
    c.last_channel = kHeadExpand * c.stages.back().out;
    c.norm = b.norm;
    c.dropout = b.dropout;
    return c;
  }
  constexpr int64_t kV2Head = 1280;
  c.last_channel = kV2Head;
  c.norm = kV2Norm;
  if (arch == "efficientnet_v2_s") {
    c.stages = {{true, 1, 3, 1, 24, 24, 2},    {true, 4, 3, 2, 24, 48, 4},
                {true, 4, 3, 2, 48, 64, 4},    {false, 4, 3, 2, 64, 128, 6},
                {false, 6, 3, 1, 128, 160, 9}, {false, 6, 3, 2, 160, 256, 15}};
    c.dropout = 0.2;
  } else if (arch == "efficientnet_v2_m") {
    c.stages = {{true, 1, 3, 1, 24, 24, 3},     {true, 4, 3, 2, 24, 48, 5},
                {true, 4, 3, 2, 48, 80, 5},     {false, 4, 3, 2, 80, 160, 7},
                {false, 6, 3, 1, 160, 176, 14}, {false, 6, 3, 2, 176, 304, 18},
                {false, 6, 3, 1, 304, 512, 5}};
    c.dropout = 0.3;
  } else {
    c.stages = {{true, 1, 3, 1, 32, 32, 4},     {true, 4, 3, 2, 32, 64, 7},
                {true, 4, 3, 2, 64, 96, 7},     {false, 4, 3, 2, 96, 192, 10},
                {false, 6, 3, 1, 192, 224, 19}, {false, 6, 3, 2, 224, 384, 25},
                {false, 6, 3, 1, 384, 640, 7}};
    c.dropout = 0.4;
  }
  return c;
}

// MBConv and FusedMBConv: a `block` Sequential, `stochastic_depth`, the residual when the shape
// stays.
class MBConv : public Layer {
 public:
  MBConv(const std::string& path, const StageSetting& s, int64_t in, int64_t stride, double p,
         const Norm& norm, bool same)
      : Layer(s.fused ? "FusedMBConv" : "MBConv", path), residual_(stride == 1 && in == s.out) {
    block_ = std::make_shared<Sequential>(child_path("block"));
    auto next = [this] { return block_->path() + "." + std::to_string(block_->size()); };
    const int64_t expanded = make_divisible(static_cast<double>(in) * s.expand, kDivisor);
    if (s.fused) {
      if (expanded != in) {
        block_->push_back(conv_norm_act(
            next(), {in, expanded, s.kernel, stride, 1, -1, false, same}, norm, Act::kSiLU));
        block_->push_back(
            conv_norm_act(next(), {expanded, s.out, 1, 1, 1, -1, false}, norm, Act::kNone));
      } else {
        block_->push_back(conv_norm_act(next(), {in, s.out, s.kernel, stride, 1, -1, false, same},
                                        norm, Act::kSiLU));
      }
    } else {
      if (expanded != in)
        block_->push_back(
            conv_norm_act(next(), {in, expanded, 1, 1, 1, -1, false}, norm, Act::kSiLU));
      block_->push_back(
          conv_norm_act(next(), {expanded, expanded, s.kernel, stride, expanded, -1, false, same},
                        norm, Act::kSiLU));
      constexpr int64_t kSqueeze = 4;
      block_->push_back(std::make_shared<SqueezeExcitation>(
          next(), expanded, std::max<int64_t>(1, in / kSqueeze), Act::kSiLU, Act::kSigmoid));
      block_->push_back(
          conv_norm_act(next(), {expanded, s.out, 1, 1, 1, -1, false}, norm, Act::kNone));
    }
    register_module("block", block_);
    stochastic_depth_ = register_module("stochastic_depth", stochastic_depth(p));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    at::Tensor out = probe(block_->path(), block_->forward(x, probe));
    if (!residual_) return out;
    out = probe(child_path("stochastic_depth"), stochastic_depth_->forward(out, probe));
    out += x;
    return out;
  }

 private:
  bool residual_;
  std::shared_ptr<Sequential> block_;
  std::shared_ptr<Leaf> stochastic_depth_;
};

std::shared_ptr<Layer> efficientnet(const Config& c, int64_t num_classes) {
  auto features = std::make_shared<Sequential>("features");
  const int64_t stem = c.stages.front().in;
  features->push_back(
      conv_norm_act("features.0", {3, stem, 3, 2, 1, -1, false, c.same}, c.norm, Act::kSiLU));
  int64_t total = 0, id = 0;
  for (const StageSetting& s : c.stages) total += s.layers;
  for (const StageSetting& s : c.stages) {
    const std::string path = "features." + std::to_string(features->size());
    auto stage = std::make_shared<Sequential>(path);
    for (int64_t i = 0; i < s.layers; ++i, ++id) {
      const double p = kStochasticDepth * static_cast<double>(id) / static_cast<double>(total);
      stage->push_back(std::make_shared<MBConv>(path + "." + std::to_string(i), s,
                                                i == 0 ? s.in : s.out, i == 0 ? s.stride : 1, p,
                                                c.norm, c.same));
    }
    features->push_back(stage);
  }
  const int64_t last_in = c.stages.back().out;
  features->push_back(conv_norm_act("features." + std::to_string(features->size()),
                                    {last_in, c.last_channel, 1, 1, 1, -1, false}, c.norm,
                                    Act::kSiLU));
  auto classifier = std::make_shared<Sequential>("classifier");
  classifier->push_back(dropout(c.dropout, true));
  classifier->push_back(linear(c.last_channel, num_classes));
  return std::make_shared<FeaturesClassifier>("EfficientNet", features, global_avg_pool(),
                                              classifier, true);
}

// The stem width, the blocks of each stage and the head width.
std::vector<int64_t> signature(const Config& c) {
  std::vector<int64_t> s{c.stages.front().in};
  for (const StageSetting& st : c.stages) s.push_back(st.layers);
  s.push_back(c.last_channel);
  return s;
}

Built make(const std::string& arch, int64_t num_classes) {
  const Config c = config(arch);
  std::vector<int64_t> blocks;
  for (const StageSetting& s : c.stages) blocks.push_back(s.layers);
  std::string what = "blocks " + join_widths(blocks);
  const std::vector<std::string> own = variants();
  if (std::find(own.begin(), own.end(), arch) != own.end())
    what += std::string(c.same ? ", TensorFlow's SAME padding" : "") + ", BN eps " +
            py_float(c.norm.eps);
  return described(efficientnet(c, num_classes), "efficientnet", arch, what, num_classes);
}

Built detect(const StateDict& sd, std::string& why_not) {
  if (!has_keys(sd, {"features.0.0.weight", "features.1.0.block.0.0.weight", "classifier.1.weight"},
                why_not))
    return {};
  std::vector<int64_t> got{shape_of(sd, "features.0.0.weight")[0]};
  int64_t stage = 1;
  for (;; ++stage) {
    const int64_t n =
        count_indexed(sd, "features." + std::to_string(stage) + ".", ".block.0.0.weight");
    if (n == 0) break;
    got.push_back(n);
  }
  std::vector<int64_t> head = shape_of(sd, "features." + std::to_string(stage) + ".0.weight");
  got.push_back(head.empty() ? 0 : head[0]);
  std::vector<Variant> variants;
  for (const std::string& arch : archs()) variants.push_back({arch, signature(config(arch))});
  return pick_variant(sd,
                      {std::move(variants), got, "stem width, blocks per stage, head width",
                       "classifier.1.weight", make},
                      why_not);
}

// `--layers all`: the stem, every block and the head conv.
std::vector<std::string> all_layers(const std::vector<TapInfo>& taps) {
  std::vector<std::string> out{"features.0"};
  std::string last;
  for (const TapInfo& t : taps) {
    if (t.type == "MBConv" || t.type == "FusedMBConv") out.push_back(t.name);
    if (t.depth == 2 && starts_with(t.name, "features.")) last = t.name;
  }
  out.push_back(last);
  return out;
}

// torchvision's EfficientNet init: conv kaiming normal (fan_out), BN 1/0, linear uniform
// +-1/sqrt(out_features), biases 0.
void init(torch::nn::Module& root) {
  init_modules(root, {[](auto& c) { kaiming_fan_out(c.weight); },
                      [](auto& l) {
                        const double range =
                            1.0 / std::sqrt(static_cast<double>(l.options.out_features()));
                        l.weight.uniform_(-range, range);
                      }});
}

// timm's EfficientNet init (_init_weight_goog): conv normal(0, sqrt(2 / fan_out)) with fan_out
// = kernel area * out / groups, linear uniform +-1/sqrt(out_features), biases 0, BN 1/0.
void timm_init(torch::nn::Module& root) {
  init_modules(
      root, {[](auto& c) {
               const auto& k = *c.options.kernel_size();
               const int64_t fan_out = k[0] * k[1] * c.options.out_channels() / c.options.groups();
               c.weight.normal_(0.0, std::sqrt(2.0 / static_cast<double>(fan_out)));
             },
             [](auto& l) {
               const double range = 1.0 / std::sqrt(static_cast<double>(l.options.out_features()));
               l.weight.uniform_(-range, range);
             }});
}

// The seed series' init (both model.py files): conv kaiming normal (fan_out), linear
// normal(0, 0.01), biases 0, BN 1/0.
void seed_init(torch::nn::Module& root) {
  constexpr double kLinearStd = 0.01;
  init_modules(root, {[](auto& c) { kaiming_fan_out(c.weight); },
                      [](auto& l) { l.weight.normal_(0.0, kLinearStd); }});
}

// One module of a block under a layout's name and ours, both relative to the block ("": the
// block itself).
struct Part {
  std::string file, ours;
  Rename::Use use = Rename::kBoth;
};

std::string under(const std::string& block, const std::string& name) {
  return name.empty() ? block : block + "." + name;
}

// The `parts` of the file's block `file_block` ("blocks.3.{b}"), ours `our_block`.
void add_block(std::vector<Rename>& out, const std::string& file_block,
               const std::string& our_block, const std::vector<Part>& parts) {
  for (const Part& p : parts)
    out.push_back({under(file_block, p.file), under(our_block, p.ours), p.use});
}

// timm's conv and BatchNormAct2d as our Conv2dNormActivation `ours`: the BN's parameters are
// ours.1's, its output (after its activation, when it has one) ours.2's.
void timm_conv_bn(std::vector<Part>& parts, const std::string& conv, const std::string& bn,
                  const std::string& ours, bool act) {
  parts.push_back({conv, ours + ".0"});
  parts.push_back({bn, ours + ".1", Rename::kKeys});
  parts.push_back({bn, ours + (act ? ".2" : ".1"), Rename::kTaps});
}

// timm's SqueezeExcite as our SqueezeExcitation `ours`.
void timm_se(std::vector<Part>& parts, const std::string& ours) {
  for (const auto& [file, our] :
       std::initializer_list<std::pair<const char*, const char*>>{{"", ""},
                                                                  {"conv_reduce", "fc1"},
                                                                  {"act1", "activation"},
                                                                  {"conv_expand", "fc2"},
                                                                  {"gate", "scale_activation"}})
    parts.push_back({under("se", file), under(ours, our)});
}

// timm's blocks: DepthwiseSeparableConv, InvertedResidual, ConvBnAct, EdgeResidual.
enum class TimmBlock { kDs, kIr, kCba, kEr };

std::vector<Part> timm_block(TimmBlock kind) {
  std::vector<Part> p{{"", ""}, {"drop_path", "stochastic_depth"}};
  switch (kind) {
    case TimmBlock::kDs:
      timm_conv_bn(p, "conv_dw", "bn1", "block.0", true);
      timm_se(p, "block.1");
      timm_conv_bn(p, "conv_pw", "bn2", "block.2", false);
      break;
    case TimmBlock::kIr:
      timm_conv_bn(p, "conv_pw", "bn1", "block.0", true);
      timm_conv_bn(p, "conv_dw", "bn2", "block.1", true);
      timm_se(p, "block.2");
      timm_conv_bn(p, "conv_pwl", "bn3", "block.3", false);
      break;
    case TimmBlock::kCba:
      timm_conv_bn(p, "conv", "bn1", "block.0", true);
      break;
    case TimmBlock::kEr:
      timm_conv_bn(p, "conv_exp", "bn1", "block.0", true);
      timm_conv_bn(p, "conv_pwl", "bn2", "block.1", false);
      break;
  }
  return p;
}

// timm's names (blocks.{stage}.{block}), one block kind per stage. Its stem and head BNs'
// outputs are our stem's and head's; its global_pool's flatten and the BNs' drop/act have no
// module of ours (hidden).
std::vector<Rename> timm_renames(const std::vector<TimmBlock>& stages) {
  const std::string head = "features." + std::to_string(stages.size() + 1);
  std::vector<Rename> r{
      {"conv_stem", "features.0.0"},        {"bn1", "features.0.1", Rename::kKeys},
      {"bn1", "features.0", Rename::kTaps}, {"conv_head", head + ".0"},
      {"bn2", head + ".1", Rename::kKeys},  {"bn2", head, Rename::kTaps},
      {"global_pool.pool", "avgpool"},      {"classifier", "classifier.1"}};
  for (size_t a = 0; a < stages.size(); ++a) {
    const std::string file = "blocks." + std::to_string(a);
    const std::string ours = "features." + std::to_string(a + 1);
    r.push_back({file, ours});
    add_block(r, file + ".{b}", ours + ".{b}", timm_block(stages[a]));
  }
  return r;
}

// The seed series' ConvBNActivation (Test9: children 0 conv, 1 bn, 2 act, as ours) `file`
// as ours `ours`.
void seed_sequential(std::vector<Part>& parts, const std::string& file, const std::string& ours) {
  parts.push_back({file, ours});
  parts.push_back({file + ".**", ours + ".**"});
}

// The seed series' SqueezeExcitation / SqueezeExcite as ours `ours`: its children's names.
void seed_se(std::vector<Part>& parts, const std::string& file, const std::string& ours,
             const std::array<const char*, 4>& names) {
  parts.push_back({file, ours});
  const std::array<const char*, 4> our_names{"fc1", "activation", "fc2", "scale_activation"};
  for (size_t i = 0; i < names.size(); ++i)
    parts.push_back({file + "." + names[i], ours + "." + our_names[i]});
}

// Test9_efficientNet's names: one flat `features` (stem_conv, 1a, 2a, 2b, ..., top), a block's
// `block` (expand_conv, dwconv, se, project_conv) and `dropout` (its DropPath: ours where the
// block adds its input, from the second of a stage on; an Identity no module of ours has
// otherwise). As many blocks per stage as b7 has: one table for b0-b7.
std::vector<Rename> seed_b_renames() {
  std::vector<Rename> r{{"features", "features"},
                        {"features.stem_conv", "features.0"},
                        {"features.stem_conv.**", "features.0.**"},
                        {"features.top", "features.8"},
                        {"features.top.**", "features.8.**"},
                        {"avgpool", "avgpool"},
                        {"classifier", "classifier"},
                        {"classifier.**", "classifier.**"}};
  const Config most = config("efficientnet_b7");
  for (size_t st = 0; st < most.stages.size(); ++st) {
    const bool expands = most.stages[st].expand != 1;
    for (int64_t i = 0; i < most.stages[st].layers; ++i) {
      std::vector<Part> p{{"", ""}, {"block", "block"}};
      if (i > 0) p.push_back({"dropout", "stochastic_depth"});
      const int first = expands ? 1 : 0;  // our index of the depthwise conv
      if (expands) seed_sequential(p, "block.expand_conv", "block.0");
      seed_sequential(p, "block.dwconv", "block." + std::to_string(first));
      seed_se(p, "block.se", "block." + std::to_string(first + 1), {"fc1", "ac1", "fc2", "ac2"});
      seed_sequential(p, "block.project_conv", "block." + std::to_string(first + 2));
      const std::string stage = std::to_string(st + 1);
      add_block(r, "features." + stage + static_cast<char>('a' + i),
                "features." + stage + "." + std::to_string(i), p);
    }
  }
  return r;
}

// Test11_efficientnetV2's ConvBNAct (conv, bn, act) `file` as our Conv2dNormActivation `ours`;
// without activation its `act` is an Identity no module of ours has.
void seed_conv_bn_act(std::vector<Part>& parts, const std::string& file, const std::string& ours,
                      bool act) {
  parts.push_back({file, ours});
  parts.push_back({file + ".conv", ours + ".0"});
  parts.push_back({file + ".bn", ours + ".1"});
  if (act) parts.push_back({file + ".act", ours + ".2"});
}

// "{i+K}" (or "{i}"): block i of a stage whose first block is the network's K-th.
std::string numbered(int64_t k) {
  return k == 0 ? "{i}" : "{i+" + std::to_string(k) + "}";
}

// Test11_efficientnetV2's names for torchvision's `arch` (efficientnet_v2_s/m/l): stem, one
// flat `blocks` (FusedMBConv: expand_conv, project_conv; MBConv: expand_conv, dwconv, se,
// project_conv; `dropout` where the block adds its input, from the network's second block on),
// head (project_conv, avgpool, flatten, dropout, classifier). Stages last first: a block number
// belongs to the last stage starting at or before it.
std::vector<Rename> seed_v2_renames(const std::string& arch) {
  const Config c = config(arch);
  const std::string head = "features." + std::to_string(c.stages.size() + 1);
  std::vector<Rename> r{{"blocks", "features." + std::to_string(c.stages.size())},
                        {"head", "classifier", Rename::kTaps},
                        {"head.avgpool", "avgpool"},
                        {"head.dropout", "classifier.0"},
                        {"head.classifier", "classifier.1"}};
  std::vector<Part> ends;
  seed_conv_bn_act(ends, "stem", "features.0", true);
  seed_conv_bn_act(ends, "head.project_conv", head, true);
  for (const Part& p : ends) r.push_back({p.file, p.ours, p.use});
  int64_t first = 0;
  std::vector<int64_t> firsts;
  for (const StageSetting& s : c.stages) {
    firsts.push_back(first);
    first += s.layers;
  }
  for (size_t st = c.stages.size(); st-- > 0;) {
    const StageSetting& s = c.stages[st];
    std::vector<Part> p{{"", ""}};
    if (s.fused && s.expand == 1) {
      seed_conv_bn_act(p, "project_conv", "block.0", true);
    } else if (s.fused) {
      seed_conv_bn_act(p, "expand_conv", "block.0", true);
      seed_conv_bn_act(p, "project_conv", "block.1", false);
    } else {
      seed_conv_bn_act(p, "expand_conv", "block.0", true);
      seed_conv_bn_act(p, "dwconv", "block.1", true);
      seed_se(p, "se", "block.2", {"conv_reduce", "act1", "conv_expand", "act2"});
      seed_conv_bn_act(p, "project_conv", "block.3", false);
    }
    const std::string ours = "features." + std::to_string(st + 1);
    add_block(r, "blocks." + numbered(firsts[st]), ours + ".{i}", p);
    r.push_back(
        {"blocks." + numbered(firsts[st] + 1) + ".dropout", ours + ".{i+1}.stochastic_depth"});
  }
  return r;
}

std::vector<Layout> layouts() {
  std::vector<Layout> out;
  Layout timm{"timm",
              {},
              timm_renames({TimmBlock::kDs, TimmBlock::kIr, TimmBlock::kIr, TimmBlock::kIr,
                            TimmBlock::kIr, TimmBlock::kIr, TimmBlock::kIr}),
              timm_init};
  for (const char* b : {"efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3"})
    timm.archs.push_back({std::string("timm/") + b, b, std::string("timm/") + b});
  // The keys of tf_efficientnet_b0 are efficientnet_b0's: which one, only its user knows.
  timm.archs.push_back({"timm/tf_efficientnet_b0", "tf_efficientnet_b0", "timm/tf_efficientnet_b0",
                        "efficientnet_b0"});
  out.push_back(std::move(timm));
  out.push_back({"timm",
                 {{"timm/tf_efficientnetv2_s", "tf_efficientnetv2_s", "timm/tf_efficientnetv2_s",
                   "efficientnet_v2_s"}},
                 timm_renames({TimmBlock::kCba, TimmBlock::kEr, TimmBlock::kEr, TimmBlock::kIr,
                               TimmBlock::kIr, TimmBlock::kIr}),
                 timm_init});
  Layout seed{"seed", {}, seed_b_renames(), seed_init};
  for (int n = 0; n < 8; ++n) {
    const std::string b = "efficientnet_b" + std::to_string(n);
    const bool own = n <= 4;  // BN eps 1e-3 where torchvision's is 1e-5
    seed.archs.push_back({"seed/" + b, own ? b + "_seed" : b, "seed/" + b, own ? b : ""});
  }
  out.push_back(std::move(seed));
  for (const char* size : {"s", "m", "l"}) {
    const std::string arch = std::string("seed/efficientnetv2_") + size;
    out.push_back({"seed",
                   {{arch, std::string("efficientnet_v2_") + size, arch}},
                   seed_v2_renames(std::string("efficientnet_v2_") + size),
                   seed_init});
  }
  return out;
}

}  // namespace

// Default layers: the stem, the second and fourth stages.
const Family& efficientnet_family() {
  static const Family f{"efficientnet",
                        archs(),
                        "classifier.1.weight",
                        detect,
                        make,
                        fixed_layers({"features.0", "features.2", "features.4"}),
                        all_layers,
                        last_child_of("features"),
                        presets_for(archs()),
                        init,
                        nullptr,
                        variants(),
                        layouts()};
  return f;
}

}  // namespace cnnscope::models::detail
