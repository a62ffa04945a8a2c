// EfficientNet b0-b7 (MBConv) and v2 s/m/l (FusedMBConv then MBConv) with torchvision's module
// names: `features` (stem Conv2dNormActivation, one Sequential per stage, the last 1x1 conv),
// avgpool, `classifier`; the variant read from the stem width, blocks per stage and head width.
// Follows torchvision/models/efficientnet.py: width/depth multipliers, BN eps/momentum and dropout
// per builder, stochastic depth 0.2 * block / blocks (the identity in eval mode).
#include <array>
#include <cmath>

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
         const Norm& norm)
      : Layer(s.fused ? "FusedMBConv" : "MBConv", path), residual_(stride == 1 && in == s.out) {
    block_ = std::make_shared<Sequential>(child_path("block"));
    auto next = [this] { return block_->path() + "." + std::to_string(block_->size()); };
    const int64_t expanded = make_divisible(static_cast<double>(in) * s.expand, kDivisor);
    if (s.fused) {
      if (expanded != in) {
        block_->push_back(conv_norm_act(next(), {in, expanded, s.kernel, stride, 1, -1, false},
                                        norm, Act::kSiLU));
        block_->push_back(
            conv_norm_act(next(), {expanded, s.out, 1, 1, 1, -1, false}, norm, Act::kNone));
      } else {
        block_->push_back(
            conv_norm_act(next(), {in, s.out, s.kernel, stride, 1, -1, false}, norm, Act::kSiLU));
      }
    } else {
      if (expanded != in)
        block_->push_back(
            conv_norm_act(next(), {in, expanded, 1, 1, 1, -1, false}, norm, Act::kSiLU));
      block_->push_back(conv_norm_act(
          next(), {expanded, expanded, s.kernel, stride, expanded, -1, false}, norm, Act::kSiLU));
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
      conv_norm_act("features.0", {3, stem, 3, 2, 1, -1, false}, c.norm, Act::kSiLU));
  int64_t total = 0, id = 0;
  for (const StageSetting& s : c.stages) total += s.layers;
  for (const StageSetting& s : c.stages) {
    const std::string path = "features." + std::to_string(features->size());
    auto stage = std::make_shared<Sequential>(path);
    for (int64_t i = 0; i < s.layers; ++i, ++id) {
      const double p = kStochasticDepth * static_cast<double>(id) / static_cast<double>(total);
      stage->push_back(std::make_shared<MBConv>(path + "." + std::to_string(i), s,
                                                i == 0 ? s.in : s.out, i == 0 ? s.stride : 1, p,
                                                c.norm));
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
  return described(efficientnet(c, num_classes), "efficientnet", arch,
                   "blocks " + join_widths(blocks), num_classes);
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
                        nullptr};
  return f;
}

}  // namespace cnnscope::models::detail
