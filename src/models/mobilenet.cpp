// MobileNet v2 and v3 (small, large) with torchvision's module names: `features` (a stem
// Conv2dNormActivation, InvertedResidual blocks, a last 1x1 Conv2dNormActivation) and
// `classifier`. The variant is read from the keys (stem width, block count, head widths).
// Follows torchvision/models/mobilenetv2.py and mobilenetv3.py (width_mult 1.0, no dilation,
// full tail: the builders' defaults); leaves out other width multipliers.
#include <array>

#include "common/error.h"
#include "common/text.h"
#include "models/blocks.h"

namespace cnnscope::models::detail {
namespace {

constexpr int64_t kV2Stem = 32;
constexpr int64_t kV2Last = 1280;
constexpr double kDropout = 0.2;
constexpr Norm kV2Norm{Norm::kBatch, 1e-5, 0.1};
constexpr Norm kV3Norm{Norm::kBatch, 1e-3, 0.01};

// ---- MobileNet v2 ----

struct V2Setting {
  int64_t t, c, n, s;  // expand ratio, width, repeats, first stride
};
constexpr std::array<V2Setting, 7> kV2Settings{{{1, 16, 1, 1},
                                                {6, 24, 2, 2},
                                                {6, 32, 3, 2},
                                                {6, 64, 4, 2},
                                                {6, 96, 3, 1},
                                                {6, 160, 3, 2},
                                                {6, 320, 1, 1}}};

class V2Block : public ResidualBlock {
 public:
  V2Block(const std::string& path, int64_t in, int64_t out, int64_t stride, int64_t expand)
      : ResidualBlock("InvertedResidual", path, "conv", stride == 1 && in == out) {
    const int64_t hidden = in * expand;
    const std::string p = body_->path() + ".";
    if (expand != 1)
      body_->push_back(
          conv_norm_act(p + "0", {in, hidden, 1, 1, 1, -1, false}, kV2Norm, Act::kReLU6));
    body_->push_back(conv_norm_act(p + std::to_string(body_->size()),
                                   {hidden, hidden, 3, stride, hidden, -1, false}, kV2Norm,
                                   Act::kReLU6));
    body_->push_back(conv({hidden, out, 1, 1, 1, 0, false}));
    body_->push_back(batch_norm(out, kV2Norm));
    finish();
  }
};

std::shared_ptr<Layer> mobilenet_v2(int64_t num_classes) {
  auto features = std::make_shared<Sequential>("features");
  features->push_back(
      conv_norm_act("features.0", {3, kV2Stem, 3, 2, 1, -1, false}, kV2Norm, Act::kReLU6));
  int64_t in = kV2Stem;
  for (const V2Setting& s : kV2Settings) {
    for (int64_t i = 0; i < s.n; ++i) {
      const std::string path = "features." + std::to_string(features->size());
      features->push_back(std::make_shared<V2Block>(path, in, s.c, i == 0 ? s.s : 1, s.t));
      in = s.c;
    }
  }
  features->push_back(conv_norm_act("features." + std::to_string(features->size()),
                                    {in, kV2Last, 1, 1, 1, -1, false}, kV2Norm, Act::kReLU6));
  auto classifier = std::make_shared<Sequential>("classifier");
  classifier->push_back(dropout(kDropout, false));
  classifier->push_back(linear(kV2Last, num_classes));
  return std::make_shared<FeaturesClassifier>("MobileNetV2", features, nullptr, classifier, true);
}

// ---- MobileNet v3 ----

struct V3Setting {
  int64_t in, kernel, expanded, out;
  bool se, hardswish;
  int64_t stride;
};

struct V3Config {
  std::vector<V3Setting> blocks;
  int64_t last_channel;
};

const V3Config& v3_config(const std::string& arch) {
  static const V3Config large{{{16, 3, 16, 16, false, false, 1},
                               {16, 3, 64, 24, false, false, 2},
                               {24, 3, 72, 24, false, false, 1},
                               {24, 5, 72, 40, true, false, 2},
                               {40, 5, 120, 40, true, false, 1},
                               {40, 5, 120, 40, true, false, 1},
                               {40, 3, 240, 80, false, true, 2},
                               {80, 3, 200, 80, false, true, 1},
                               {80, 3, 184, 80, false, true, 1},
                               {80, 3, 184, 80, false, true, 1},
                               {80, 3, 480, 112, true, true, 1},
                               {112, 3, 672, 112, true, true, 1},
                               {112, 5, 672, 160, true, true, 2},
                               {160, 5, 960, 160, true, true, 1},
                               {160, 5, 960, 160, true, true, 1}},
                              1280};
  static const V3Config small{{{16, 3, 16, 16, true, false, 2},
                               {16, 3, 72, 24, false, false, 2},
                               {24, 3, 88, 24, false, false, 1},
                               {24, 5, 96, 40, true, true, 2},
                               {40, 5, 240, 40, true, true, 1},
                               {40, 5, 240, 40, true, true, 1},
                               {40, 5, 120, 48, true, true, 1},
                               {48, 5, 144, 48, true, true, 1},
                               {48, 5, 288, 96, true, true, 2},
                               {96, 5, 576, 96, true, true, 1},
                               {96, 5, 576, 96, true, true, 1}},
                              1024};
  return arch == "mobilenet_v3_large" ? large : small;
}

class V3Block : public ResidualBlock {
 public:
  V3Block(const std::string& path, const V3Setting& c)
      : ResidualBlock("InvertedResidual", path, "block", c.stride == 1 && c.in == c.out) {
    const Act act = c.hardswish ? Act::kHardswish : Act::kReLU;
    auto next = [this] { return body_->path() + "." + std::to_string(body_->size()); };
    if (c.expanded != c.in)
      body_->push_back(conv_norm_act(next(), {c.in, c.expanded, 1, 1, 1, -1, false}, kV3Norm, act));
    body_->push_back(conv_norm_act(
        next(), {c.expanded, c.expanded, c.kernel, c.stride, c.expanded, -1, false}, kV3Norm, act));
    if (c.se) {
      constexpr int64_t kSqueeze = 4, kDivisor = 8;
      body_->push_back(std::make_shared<SqueezeExcitation>(
          next(), c.expanded, make_divisible(static_cast<double>(c.expanded / kSqueeze), kDivisor),
          Act::kReLU, Act::kHardsigmoid));
    }
    body_->push_back(
        conv_norm_act(next(), {c.expanded, c.out, 1, 1, 1, -1, false}, kV3Norm, Act::kNone));
    finish();
  }
};

std::shared_ptr<Layer> mobilenet_v3(const V3Config& c, int64_t num_classes) {
  auto features = std::make_shared<Sequential>("features");
  const int64_t stem = c.blocks.front().in;
  features->push_back(
      conv_norm_act("features.0", {3, stem, 3, 2, 1, -1, false}, kV3Norm, Act::kHardswish));
  for (const V3Setting& s : c.blocks)
    features->push_back(
        std::make_shared<V3Block>("features." + std::to_string(features->size()), s));
  constexpr int64_t kLastExpand = 6;
  const int64_t last_in = c.blocks.back().out, last_out = kLastExpand * last_in;
  features->push_back(conv_norm_act("features." + std::to_string(features->size()),
                                    {last_in, last_out, 1, 1, 1, -1, false}, kV3Norm,
                                    Act::kHardswish));
  auto classifier = std::make_shared<Sequential>("classifier");
  classifier->push_back(linear(last_out, c.last_channel));
  classifier->push_back(activation(Act::kHardswish, true));
  classifier->push_back(dropout(kDropout, true));
  classifier->push_back(linear(c.last_channel, num_classes));
  return std::make_shared<FeaturesClassifier>("MobileNetV3", features, global_avg_pool(),
                                              classifier, true);
}

// ---- detection and construction ----

Built make_v2(const std::string& arch, int64_t num_classes) {
  return described(mobilenet_v2(num_classes), "mobilenet_v2", arch, "", num_classes);
}

Built make_v3(const std::string& arch, int64_t num_classes) {
  return described(mobilenet_v3(v3_config(arch), num_classes), "mobilenet_v3", arch, "",
                   num_classes);
}

Built detect_v2(const StateDict& sd, std::string& why_not) {
  if (!has_keys(sd, {"features.0.0.weight", "features.1.conv.0.0.weight", "classifier.1.weight"},
                why_not))
    return {};
  return make_v2("mobilenet_v2", shape_of(sd, "classifier.1.weight")[0]);
}

Built detect_v3(const StateDict& sd, std::string& why_not) {
  if (!has_keys(sd,
                {"features.0.0.weight", "features.1.block.0.0.weight", "classifier.0.weight",
                 "classifier.3.weight"},
                why_not))
    return {};
  auto signature = [](const V3Config& c) {
    return std::vector<int64_t>{c.blocks.front().in, static_cast<int64_t>(c.blocks.size()),
                                c.last_channel};
  };
  std::vector<Variant> variants;
  for (const char* arch : {"mobilenet_v3_small", "mobilenet_v3_large"})
    variants.push_back({arch, signature(v3_config(arch))});
  const std::vector<int64_t> got{shape_of(sd, "features.0.0.weight")[0],
                                 count_indexed(sd, "features.", ".block.0.0.weight", 1),
                                 shape_of(sd, "classifier.0.weight")[0]};
  return pick_variant(
      sd,
      {std::move(variants), got, "stem width-blocks-head width", "classifier.3.weight", make_v3},
      why_not);
}

// The stem, an early block (1/5 of the way) and a middle one; all: every child of `features`.
std::vector<std::string> all_features(const std::vector<TapInfo>& taps) {
  std::vector<std::string> out;
  for (const TapInfo& t : taps)
    if (t.depth == 2 && starts_with(t.name, "features.")) out.push_back(t.name);
  return out;
}

std::vector<std::string> default_features(const std::vector<TapInfo>& taps) {
  constexpr size_t kEarly = 5, kMiddle = 2;
  const std::vector<std::string> all = all_features(taps);
  if (all.empty()) return {};
  return {all[0], all[all.size() / kEarly], all[all.size() / kMiddle]};
}

// torchvision's MobileNet init: conv kaiming normal (fan_out), BN 1/0, linear normal(0, 0.01),
// biases 0.
void init(torch::nn::Module& root) {
  constexpr double kLinearStd = 0.01;
  init_modules(root, {[](auto& c) { kaiming_fan_out(c.weight); },
                      [](auto& l) { l.weight.normal_(0.0, kLinearStd); }});
}

}  // namespace

const Family& mobilenet_v2_family() {
  static const Family f{
      "mobilenet_v2",   {"mobilenet_v2"}, "classifier.1.weight",     detect_v2, make_v2,
      default_features, all_features,     last_child_of("features"), nullptr,   init,
      nullptr};
  return f;
}

const Family& mobilenet_v3_family() {
  static const Family f{"mobilenet_v3",
                        {"mobilenet_v3_small", "mobilenet_v3_large"},
                        "classifier.3.weight",
                        detect_v3,
                        make_v3,
                        default_features,
                        all_features,
                        last_child_of("features"),
                        nullptr,
                        init,
                        nullptr};
  return f;
}

}  // namespace cnnscope::models::detail
