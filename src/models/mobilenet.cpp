// MobileNet v2 and v3 (small, large) with torchvision's module names: `features` (a stem
// Conv2dNormActivation, InvertedResidual blocks, a last 1x1 Conv2dNormActivation) and
// `classifier`. The variant is read from the keys (stem width, block count, head widths).
// Follows torchvision/models/mobilenetv2.py and mobilenetv3.py (width_mult 1.0, no dilation,
// full tail: the builders' defaults); leaves out other width multipliers.
// timm's mobilenetv2_100, mobilenetv3_large_100 and mobilenetv3_small_100 (timm 1.0,
// models/efficientnet.py and mobilenetv3.py) are the same networks under timm's names (conv_stem,
// bn1, blocks.STAGE.BLOCK.*, conv_head, classifier; a stage is a run of blocks of one output
// width), mapped by one rename table per network made from the same settings; timm's MobileNet v3
// differs in computation only in its BatchNorm eps (1e-5, torchvision's 1e-3): the variants
// mobilenet_v3_large_timm / mobilenet_v3_small_timm. Leaves out timm's tf_ ports ("same" padding).
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
constexpr Norm kV3TimmNorm{Norm::kBatch, 1e-5, 0.1};  // timm's BatchNormAct2d defaults
constexpr const char* kTimmSuffix = "_timm";          // a variant of timm's MobileNet v3

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
  return starts_with(arch, "mobilenet_v3_large") ? large : small;
}

class V3Block : public ResidualBlock {
 public:
  V3Block(const std::string& path, const V3Setting& c, const Norm& norm)
      : ResidualBlock("InvertedResidual", path, "block", c.stride == 1 && c.in == c.out) {
    const Act act = c.hardswish ? Act::kHardswish : Act::kReLU;
    auto next = [this] { return body_->path() + "." + std::to_string(body_->size()); };
    if (c.expanded != c.in)
      body_->push_back(conv_norm_act(next(), {c.in, c.expanded, 1, 1, 1, -1, false}, norm, act));
    body_->push_back(conv_norm_act(
        next(), {c.expanded, c.expanded, c.kernel, c.stride, c.expanded, -1, false}, norm, act));
    if (c.se) {
      constexpr int64_t kSqueeze = 4, kDivisor = 8;
      body_->push_back(std::make_shared<SqueezeExcitation>(
          next(), c.expanded, make_divisible(static_cast<double>(c.expanded / kSqueeze), kDivisor),
          Act::kReLU, Act::kHardsigmoid));
    }
    body_->push_back(
        conv_norm_act(next(), {c.expanded, c.out, 1, 1, 1, -1, false}, norm, Act::kNone));
    finish();
  }
};

std::shared_ptr<Layer> mobilenet_v3(const V3Config& c, int64_t num_classes, const Norm& norm) {
  auto features = std::make_shared<Sequential>("features");
  const int64_t stem = c.blocks.front().in;
  features->push_back(
      conv_norm_act("features.0", {3, stem, 3, 2, 1, -1, false}, norm, Act::kHardswish));
  for (const V3Setting& s : c.blocks)
    features->push_back(
        std::make_shared<V3Block>("features." + std::to_string(features->size()), s, norm));
  constexpr int64_t kLastExpand = 6;
  const int64_t last_in = c.blocks.back().out, last_out = kLastExpand * last_in;
  features->push_back(conv_norm_act("features." + std::to_string(features->size()),
                                    {last_in, last_out, 1, 1, 1, -1, false}, norm,
                                    Act::kHardswish));
  auto classifier = std::make_shared<Sequential>("classifier");
  classifier->push_back(linear(last_out, c.last_channel));
  classifier->push_back(activation(Act::kHardswish, true));
  classifier->push_back(dropout(kDropout, true));
  classifier->push_back(linear(c.last_channel, num_classes));
  return std::make_shared<FeaturesClassifier>("MobileNetV3", features, global_avg_pool(),
                                              classifier, true);
}

// ---- timm's names ----

// One of our blocks as timm builds it.
struct TimmBlock {
  int64_t out;  // its output width: a run of blocks of one width is one timm stage
  bool expand;  // a 1x1 expansion first: timm's InvertedResidual, else DepthwiseSeparableConv
  bool se;
};

// timm's BatchNormAct2d `file` as our BatchNorm `bn` and the activation `act` after it ("": none):
// its weights are the BN's, its output the activation's; its children `drop` (the identity on
// the BN's output) and `act`.
void bn_act(std::vector<Rename>& r, const std::string& file, const std::string& bn,
            const std::string& act) {
  if (act.empty()) {
    r.push_back({file, bn});
    r.push_back({file + ".act", bn, Rename::kTaps});
  } else {
    r.push_back({file, bn, Rename::kKeys});
    r.push_back({file, act, Rename::kTaps});
    r.push_back({file + ".act", act, Rename::kTaps});
  }
  r.push_back({file + ".drop", bn, Rename::kTaps});
}

// Our Conv2dNormActivation `ours` (0 conv, 1 BN, 2 the activation unless `act` is false) as
// timm's `conv` and BatchNormAct2d `bn`.
void conv_bn_act(std::vector<Rename>& r, const std::string& conv, const std::string& bn,
                 const std::string& ours, bool act) {
  r.push_back({conv, ours + ".0"});
  bn_act(r, bn, ours + ".1", act ? ours + ".2" : "");
}

// The body of our block (`body`: features.K.conv or .block) as timm's block `file`:
// DepthwiseSeparableConv (conv_dw, bn1, se, conv_pw, bn2) or InvertedResidual (conv_pw, bn1,
// conv_dw, bn2, se, conv_pwl, bn3). Ours: [expansion], depthwise, [SE], projection (v3: one
// Conv2dNormActivation; v2: a conv and a BN of their own).
void timm_block(std::vector<Rename>& r, const std::string& file, const std::string& body,
                const TimmBlock& b, bool v3) {
  int64_t i = 0;
  auto next = [&] { return body + "." + std::to_string(i++); };
  const std::string f = file + ".";
  if (b.expand) conv_bn_act(r, f + "conv_pw", f + "bn1", next(), true);
  conv_bn_act(r, f + "conv_dw", f + (b.expand ? "bn2" : "bn1"), next(), true);
  if (b.se) {
    const std::string se = next();
    r.push_back({f + "se", se});
    r.push_back({f + "se.conv_reduce", se + ".fc1"});
    r.push_back({f + "se.act1", se + ".activation"});
    r.push_back({f + "se.conv_expand", se + ".fc2"});
    r.push_back({f + "se.gate", se + ".scale_activation"});
  }
  const std::string conv = f + (b.expand ? "conv_pwl" : "conv_pw");
  const std::string bn = f + (b.expand ? "bn3" : "bn2");
  if (v3) {
    conv_bn_act(r, conv, bn, next(), false);
  } else {
    r.push_back({conv, next()});
    bn_act(r, bn, next(), "");
  }
}

// The stem (its bn1's output is our stem's, shown for it) and `blocks` (features.1 ...) as timm
// names them: blocks.S.J; each stage's output is that of its last block, shown under the stage's
// name (what timm users tap: `blocks.3`), the stage rules first; v3's last 1x1 conv is a stage of
// its own (a ConvBnAct).
std::vector<Rename> timm_features(const std::vector<TimmBlock>& blocks, bool v3) {
  std::vector<Rename> r{{"bn1", "features.0", Rename::kTaps}};
  conv_bn_act(r, "conv_stem", "bn1", "features.0", true);
  std::vector<Rename> stages;  // blocks.S -> its last block
  int64_t j = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i == 0 || blocks[i].out != blocks[i - 1].out) {
      stages.push_back({"blocks." + std::to_string(stages.size()), "", Rename::kTaps});
      j = 0;
    }
    const std::string file = stages.back().file + "." + std::to_string(j++);
    const std::string ours = "features." + std::to_string(i + 1);
    timm_block(r, file, ours + (v3 ? ".block" : ".conv"), blocks[i], v3);
    r.push_back({file, ours, Rename::kTaps});
    stages.back().ours = ours;
  }
  if (v3) {
    const std::string stage = "blocks." + std::to_string(stages.size());
    const std::string ours = "features." + std::to_string(blocks.size() + 1);
    conv_bn_act(r, stage + ".0.conv", stage + ".0.bn1", ours, true);
    r.push_back({stage + ".0", ours, Rename::kTaps});
    stages.push_back({stage, ours, Rename::kTaps});
  }
  stages.insert(stages.end(), r.begin(), r.end());
  return stages;
}

// timm's mobilenetv2_100: then conv_head + bn2 (our last 1x1 conv, bn2's output shown for it),
// global_pool (flattened: our Dropout's input and output) and classifier.
std::vector<Rename> timm_v2_renames() {
  std::vector<TimmBlock> blocks;
  for (const V2Setting& s : kV2Settings)
    for (int64_t i = 0; i < s.n; ++i) blocks.push_back({s.c, s.t != 1, false});
  std::vector<Rename> r = timm_features(blocks, false);
  const std::string head = "features." + std::to_string(blocks.size() + 1);
  r.push_back({"bn2", head, Rename::kTaps});
  conv_bn_act(r, "conv_head", "bn2", head, true);
  for (const char* pool : {"global_pool", "global_pool.flatten"})
    r.push_back({pool, "classifier.0", Rename::kTaps});
  r.push_back({"classifier", "classifier.1"});
  return r;
}

// timm's mobilenetv3_large_100 / _small_100: then global_pool (unflattened: our avgpool),
// conv_head, a 1x1 conv with bias on the pooled [N, C, 1, 1] where ours is the Linear
// classifier.0 (the same numbers; its output and act2's are [N, C, 1, 1] where ours are [N, C],
// so they are no taps), flatten (our classifier.1's output) and classifier.
std::vector<Rename> timm_v3_renames(const std::string& arch) {
  std::vector<TimmBlock> blocks;
  for (const V3Setting& s : v3_config(arch).blocks)
    blocks.push_back({s.out, s.expanded != s.in, s.se});
  std::vector<Rename> r = timm_features(blocks, true);
  for (const char* pool : {"global_pool", "global_pool.pool", "global_pool.flatten"})
    r.push_back({pool, "avgpool", Rename::kTaps});
  constexpr int kConvDims = 4;
  r.push_back({"conv_head.weight", "classifier.0.weight", Rename::kKeys, kConvDims});
  r.push_back({"conv_head", "classifier.0", Rename::kKeys});
  r.push_back({"flatten", "classifier.1", Rename::kTaps});
  r.push_back({"classifier", "classifier.3"});
  return r;
}

// timm's MobileNet v3 `size` ("large", "small"): the variant with timm's BN eps, detected from
// the keys as torchvision's arch.
Layout timm_v3_layout(const std::string& size) {
  const std::string arch = "mobilenet_v3_" + size;
  const std::string timm = "timm/mobilenetv3_" + size + "_100";
  return {"timm", {{timm, arch + kTimmSuffix, timm, arch}}, timm_v3_renames(arch)};
}

// ---- detection and construction ----

Built make_v2(const std::string& arch, int64_t num_classes) {
  return described(mobilenet_v2(num_classes), "mobilenet_v2", arch, "", num_classes);
}

// A torchvision arch, or its timm variant (arch + kTimmSuffix).
Built make_v3(const std::string& arch, int64_t num_classes) {
  const bool timm = ends_with(arch, kTimmSuffix);
  return described(mobilenet_v3(v3_config(arch), num_classes, timm ? kV3TimmNorm : kV3Norm),
                   "mobilenet_v3", arch, timm ? "BatchNorm eps 1e-5 (timm's)" : "", num_classes);
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
      .name = "mobilenet_v2",
      .archs = {"mobilenet_v2"},
      .classes_key = "classifier.1.weight",
      .detect = detect_v2,
      .make = make_v2,
      .default_layers = default_features,
      .all_layers = all_features,
      .cam_layer = last_child_of("features"),
      .init = init,
      .layouts = {{"timm",
                   {{"timm/mobilenetv2_100", "mobilenet_v2", "timm/mobilenetv2_100"}},
                   timm_v2_renames()}},
  };
  return f;
}

const Family& mobilenet_v3_family() {
  static const Family f{
      .name = "mobilenet_v3",
      .archs = {"mobilenet_v3_small", "mobilenet_v3_large"},
      .classes_key = "classifier.3.weight",
      .detect = detect_v3,
      .make = make_v3,
      .default_layers = default_features,
      .all_layers = all_features,
      .cam_layer = last_child_of("features"),
      .init = init,
      .variants = {std::string("mobilenet_v3_small") + kTimmSuffix,
                   std::string("mobilenet_v3_large") + kTimmSuffix},
      .layouts = {timm_v3_layout("large"), timm_v3_layout("small")},
  };
  return f;
}

}  // namespace cnnscope::models::detail
