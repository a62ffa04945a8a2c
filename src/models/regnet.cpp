// RegNet X and Y (every size torchvision builds, 400MF to 128GF) with torchvision's module names:
// stem (SimpleStemIN), trunk_output.block1-4 (AnyStage of ResBottleneckBlock "blockS-i": proj,
// f = BottleneckTransform a/b/[se]/c, activation), avgpool, fc. Widths, depths, group widths and
// squeeze widths are read from the shapes; the arch is the builder whose stages match. Follows
// torchvision/models/regnet.py; the per-stage tables below are what its BlockParams computes
// for each builder (bottleneck multiplier 1.0, SE ratio 0.25 for Y). Two more key layouts
// (layout.h): timm's (timm/models/regnet.py: stem.conv/bn, s{i}.b{j}.conv1/conv2/se/conv3/
// downsample, head.fc) and the seed series' Test10_regnet/model.py (the same keys, its own module
// names for the activations: conv1.act, se.ac1, ac3, head.pool). Where pycls's widths (rounded to
// a multiple of the group width) differ from torchvision's (_make_divisible) -- RegNetX-400MF,
// RegNetY-800MF, RegNetY-8GF -- a variant of the same network (`_pycls`); the seed's sizes
// torchvision does not build (200MF, 600MF, 4.0GF, 6.4GF, 12GF) are variants too. Leaves out
// timm's other sizes and its regnetz/regnetv (other blocks).
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/text.h"
#include "models/blocks.h"

namespace cnnscope::models::detail {
namespace {

constexpr int kStages = 4;
constexpr int64_t kStem = 32;
constexpr double kSeRatio = 0.25;
constexpr double kLinearStd = 0.01;  // every layout's linear init: normal(0, 0.01)

struct StageShape {
  int64_t depth, width, group_width;
};

struct Builder {
  const char* arch;
  bool se;
  std::array<StageShape, kStages> stages;
  bool variant = false;  // pycls's: known under a layout's names only
};

// torchvision's sizes, then pycls's (timm's, the seed's) where they differ from them (widths
// rounded to a multiple of the group width: `_pycls`) or torchvision has none.
const std::vector<Builder>& builders() {
  static const std::vector<Builder> all = [] {
    std::vector<Builder> out{
        {"regnet_y_400mf", true, {{{1, 48, 8}, {3, 104, 8}, {6, 208, 8}, {6, 440, 8}}}},
        {"regnet_y_800mf", true, {{{1, 64, 16}, {3, 144, 16}, {8, 320, 16}, {2, 784, 16}}}},
        {"regnet_y_1_6gf", true, {{{2, 48, 24}, {6, 120, 24}, {17, 336, 24}, {2, 888, 24}}}},
        {"regnet_y_3_2gf", true, {{{2, 72, 24}, {5, 216, 24}, {13, 576, 24}, {1, 1512, 24}}}},
        {"regnet_y_8gf", true, {{{2, 224, 56}, {4, 448, 56}, {10, 896, 56}, {1, 2016, 56}}}},
        {"regnet_y_16gf", true, {{{2, 224, 112}, {4, 448, 112}, {11, 1232, 112}, {1, 3024, 112}}}},
        {"regnet_y_32gf", true, {{{2, 232, 232}, {5, 696, 232}, {12, 1392, 232}, {1, 3712, 232}}}},
        {"regnet_y_128gf",
         true,
         {{{2, 528, 264}, {7, 1056, 264}, {17, 2904, 264}, {1, 7392, 264}}}},
        {"regnet_x_400mf", false, {{{1, 32, 16}, {2, 64, 16}, {7, 160, 16}, {12, 400, 16}}}},
        {"regnet_x_800mf", false, {{{1, 64, 16}, {3, 128, 16}, {7, 288, 16}, {5, 672, 16}}}},
        {"regnet_x_1_6gf", false, {{{2, 72, 24}, {4, 168, 24}, {10, 408, 24}, {2, 912, 24}}}},
        {"regnet_x_3_2gf", false, {{{2, 96, 48}, {6, 192, 48}, {15, 432, 48}, {2, 1008, 48}}}},
        {"regnet_x_8gf", false, {{{2, 80, 80}, {5, 240, 120}, {15, 720, 120}, {1, 1920, 120}}}},
        {"regnet_x_16gf", false, {{{2, 256, 128}, {6, 512, 128}, {13, 896, 128}, {1, 2048, 128}}}},
        {"regnet_x_32gf", false, {{{2, 336, 168}, {7, 672, 168}, {13, 1344, 168}, {1, 2520, 168}}}},
    };
    for (Builder v : std::vector<Builder>{
             {"regnet_x_400mf_pycls",
              false,
              {{{1, 32, 16}, {2, 64, 16}, {7, 160, 16}, {12, 384, 16}}}},
             {"regnet_y_800mf_pycls",
              true,
              {{{1, 64, 16}, {3, 128, 16}, {8, 320, 16}, {2, 768, 16}}}},
             {"regnet_y_8gf_pycls",
              true,
              {{{2, 168, 56}, {4, 448, 56}, {10, 896, 56}, {1, 2016, 56}}}},
             {"regnet_x_200mf", false, {{{1, 24, 8}, {1, 56, 8}, {4, 152, 8}, {7, 368, 8}}}},
             {"regnet_x_600mf", false, {{{1, 48, 24}, {3, 96, 24}, {5, 240, 24}, {7, 528, 24}}}},
             {"regnet_x_4gf", false, {{{2, 80, 40}, {5, 240, 40}, {14, 560, 40}, {2, 1360, 40}}}},
             {"regnet_x_6_4gf",
              false,
              {{{2, 168, 56}, {4, 392, 56}, {10, 784, 56}, {1, 1624, 56}}}},
             {"regnet_x_12gf",
              false,
              {{{2, 224, 112}, {5, 448, 112}, {11, 896, 112}, {1, 2240, 112}}}},
             {"regnet_y_200mf", true, {{{1, 24, 8}, {1, 56, 8}, {4, 152, 8}, {7, 368, 8}}}},
             {"regnet_y_600mf", true, {{{1, 48, 16}, {3, 112, 16}, {7, 256, 16}, {4, 608, 16}}}},
             {"regnet_y_4gf", true, {{{2, 128, 64}, {6, 192, 64}, {12, 512, 64}, {2, 1088, 64}}}},
             {"regnet_y_6_4gf", true, {{{2, 144, 72}, {7, 288, 72}, {14, 576, 72}, {2, 1296, 72}}}},
             {"regnet_y_12gf",
              true,
              {{{2, 224, 112}, {5, 448, 112}, {11, 896, 112}, {1, 2240, 112}}}},
         }) {
      v.variant = true;
      out.push_back(v);
    }
    return out;
  }();
  return all;
}

class ResBottleneckBlock : public Layer {
 public:
  ResBottleneckBlock(const std::string& path, int64_t in, int64_t out, int64_t stride,
                     int64_t group_width, bool se)
      : Layer("ResBottleneckBlock", path) {
    const Norm norm;
    if (in != out || stride != 1)
      proj_ = register_module(
          "proj",
          conv_norm_act(child_path("proj"), {in, out, 1, stride, 1, -1, false}, norm, Act::kNone));
    f_ = std::make_shared<Sequential>("BottleneckTransform", child_path("f"));
    const std::string f = f_->path() + ".";
    const int64_t groups = out / group_width;  // bottleneck multiplier 1: w_b = out
    f_->push_back("a", conv_norm_act(f + "a", {in, out, 1, 1, 1, -1, false}, norm, Act::kReLU));
    f_->push_back(
        "b", conv_norm_act(f + "b", {out, out, 3, stride, groups, -1, false}, norm, Act::kReLU));
    if (se) {
      const auto squeeze = static_cast<int64_t>(std::nearbyint(kSeRatio * static_cast<double>(in)));
      f_->push_back("se", std::make_shared<SqueezeExcitation>(f + "se", out, squeeze, Act::kReLU,
                                                              Act::kSigmoid));
    }
    f_->push_back("c", conv_norm_act(f + "c", {out, out, 1, 1, 1, -1, false}, norm, Act::kNone));
    register_module("f", f_);
    activation_ = register_module("activation", activation(Act::kReLU, true));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    at::Tensor shortcut = proj_ ? probe(proj_->path(), proj_->forward(x, probe)) : x;
    x = shortcut + probe(f_->path(), f_->forward(x, probe));
    return probe(child_path("activation"), activation_->forward(x, probe));
  }

 private:
  std::shared_ptr<Sequential> proj_, f_;
  std::shared_ptr<Leaf> activation_;
};

class RegNet : public Layer {
 public:
  RegNet(const Builder& c, int64_t num_classes) : Layer("RegNet", "") {
    stem_ = register_module("stem", conv_norm_act("stem", {3, kStem, 3, 2, 1, -1, false}, Norm{},
                                                  Act::kReLU, "SimpleStemIN"));
    trunk_ = std::make_shared<Sequential>("trunk_output");
    int64_t in = kStem;
    for (int s = 0; s < kStages; ++s) {
      const std::string name = "block" + std::to_string(s + 1);
      auto stage = std::make_shared<Sequential>("AnyStage", "trunk_output." + name);
      const StageShape& st = c.stages[s];
      for (int64_t i = 0; i < st.depth; ++i) {
        const std::string block = name + "-" + std::to_string(i);
        stage->push_back(block, std::make_shared<ResBottleneckBlock>(
                                    stage->path() + "." + block, i == 0 ? in : st.width, st.width,
                                    i == 0 ? 2 : 1, st.group_width, c.se));
      }
      trunk_->push_back(name, stage);
      in = st.width;
    }
    register_module("trunk_output", trunk_);
    avgpool_ = register_module("avgpool", adaptive_avg_pool(1));
    fc_ = register_module("fc", linear(in, num_classes));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = probe("stem", stem_->forward(std::move(x), probe));           // [N, 32, H/2, W/2]
    x = probe("trunk_output", trunk_->forward(std::move(x), probe));  // [N, C, H/32, W/32]
    x = probe("avgpool", avgpool_->forward(x)).flatten(1);            // [N, C]
    return probe("fc", fc_->forward(x));
  }

 private:
  std::shared_ptr<Sequential> stem_, trunk_;
  torch::nn::AdaptiveAvgPool2d avgpool_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

const Builder* builder_of(const std::string& arch) {
  for (const Builder& b : builders())
    if (arch == b.arch) return &b;
  return nullptr;
}

Built make(const std::string& arch, int64_t num_classes) {
  const Builder& c = *builder_of(arch);
  std::vector<int64_t> widths, depths;
  for (const StageShape& s : c.stages) {
    widths.push_back(s.width);
    depths.push_back(s.depth);
  }
  return described(std::make_shared<RegNet>(c, num_classes), "regnet", arch,
                   "widths " + join_widths(widths) + ", depths " + join_widths(depths),
                   num_classes);
}

// The signature: SE or not, then depth, width and group width of each stage.
std::vector<int64_t> signature(const Builder& b) {
  std::vector<int64_t> s{b.se ? 1 : 0};
  for (const StageShape& st : b.stages) s.insert(s.end(), {st.depth, st.width, st.group_width});
  return s;
}

Built detect(const StateDict& sd, std::string& why_not) {
  if (!has_keys(sd, {"stem.0.weight", "trunk_output.block1.block1-0.f.a.0.weight", "fc.weight"},
                why_not))
    return {};
  std::vector<int64_t> got{
      shape_of(sd, "trunk_output.block1.block1-0.f.se.fc1.weight").empty() ? 0 : 1};
  for (int s = 1; s <= kStages; ++s) {
    const std::string stage =
        "trunk_output.block" + std::to_string(s) + ".block" + std::to_string(s) + "-";
    got.push_back(count_indexed(sd, stage, ".f.a.0.weight"));
    const std::vector<int64_t> b = shape_of(sd, stage + "0.f.b.0.weight");  // [w, w/g, 3, 3]
    got.push_back(b.size() == 4 ? b[0] : 0);
    got.push_back(b.size() == 4 ? b[1] : 0);
  }
  std::vector<Variant> variants;
  for (const Builder& b : builders()) variants.push_back({b.arch, signature(b)});
  return pick_variant(
      sd,
      {std::move(variants), got, "SE, then depth-width-group width per stage", "fc.weight", make},
      why_not);
}

// torchvision's RegNet init: conv normal(0, sqrt(2 / (k*k*out))), BN 1/0, linear normal(0, 0.01),
// linear bias 0; the SE convs' biases keep PyTorch's default (drawn again here first).
void init(torch::nn::Module& root) {
  init_modules(root, {[](auto& c) {
                        const auto& k = *c.options.kernel_size();
                        const auto fan_out =
                            static_cast<double>(k[0] * k[1] * c.options.out_channels());
                        c.weight.normal_(0.0, std::sqrt(2.0 / fan_out));
                      },
                      [](auto& l) { l.weight.normal_(0.0, kLinearStd); }, true});
}

// Each block's last BN weight (conv3.bn, our f.c.1) zeroed: timm's and the seed's
// zero_init_last(_bn).
void zero_last_bn(torch::nn::Module& root) {
  torch::NoGradGuard no_grad;
  for (auto& p : root.named_parameters())
    if (ends_with(p.key(), ".f.c.1.weight")) p.value().zero_();
}

// timm's _init_weights: conv normal(0, sqrt(2 / (k*k*out/groups))) and bias 0, linear
// normal(0, 0.01) and bias 0, BN 1/0, then zero_init_last.
void timm_init(torch::nn::Module& root) {
  init_modules(root, {[](auto& c) {
                        const auto& k = *c.options.kernel_size();
                        const auto fan_out = static_cast<double>(
                            k[0] * k[1] * c.options.out_channels() / c.options.groups());
                        c.weight.normal_(0.0, std::sqrt(2.0 / fan_out));
                      },
                      [](auto& l) { l.weight.normal_(0.0, kLinearStd); }});
  zero_last_bn(root);
}

// The seed's RegNet.__init__: conv kaiming uniform (fan_out, relu) with the SE convs' biases
// as PyTorch drew them, BN 1/0, linear normal(0, 0.01) and bias 0, then zero_init_last_bn.
void seed_init(torch::nn::Module& root) {
  init_modules(root, {[](auto& c) {
                        torch::nn::init::kaiming_uniform_(c.weight, 0.0, torch::kFanOut,
                                                          torch::kReLU);
                      },
                      [](auto& l) { l.weight.normal_(0.0, kLinearStd); }, true});
  zero_last_bn(root);
}

// One module of a block: its name under the file's s{S}.b{B} and ours under
// trunk_output.block{S}.block{S}-{B-1} ("" for the block itself).
struct BlockPart {
  const char* file;
  const char* ours;
  Rename::Use use = Rename::kBoth;
};

// The renames of a layout whose stages are s1..s4 of blocks b1, b2, ...: `stem` and `head`
// as they are, then `parts` of every block any builder has, each stage and block written out
// (layout.h's patterns bind whole segments, and "b1" is one with a letter).
std::vector<Rename> stage_names(std::vector<Rename> stem_head,
                                const std::vector<BlockPart>& parts) {
  std::vector<Rename> r = std::move(stem_head);
  for (int s = 1; s <= kStages; ++s) {
    const std::string number = std::to_string(s);
    const std::string stage = std::string("s").append(number);
    const std::string ours = std::string("trunk_output.block").append(number);
    r.push_back({stage, ours});
    int64_t depth = 0;
    for (const Builder& b : builders()) depth = std::max(depth, b.stages[s - 1].depth);
    for (int64_t i = 0; i < depth; ++i) {
      const std::string file = stage + ".b" + std::to_string(i + 1);
      const std::string block = ours + ".block" + number + "-" + std::to_string(i);
      for (const BlockPart& p : parts) r.push_back({file + p.file, block + p.ours, p.use});
    }
  }
  return r;
}

// The modules both layouts name alike (timm's keys and the seed's are the same).
std::vector<BlockPart> common_parts() {
  return {{"", ""},
          {".conv1", ".f.a"},
          {".conv1.conv", ".f.a.0"},
          {".conv2", ".f.b"},
          {".conv2.conv", ".f.b.0"},
          {".se", ".f.se"},
          {".se.fc1", ".f.se.fc1"},
          {".se.fc2", ".f.se.fc2"},
          {".conv3", ".f.c"},
          {".conv3.conv", ".f.c.0"},
          {".conv3.bn", ".f.c.1"},  // no activation: its output is the BN's
          {".downsample", ".proj"},
          {".downsample.conv", ".proj.0"},
          {".downsample.bn", ".proj.1"}};
}

// timm's: ConvNormAct's `bn` is BatchNormAct2d (the BN's parameters, the output after its
// `act`); head.global_pool.pool the pooled [N, C, 1, 1] (head.global_pool flattens it). Its
// `final_conv`, an Identity after s4, stays unnamed (our trunk_output holds the stages).
std::vector<Rename> timm_names() {
  std::vector<BlockPart> parts = common_parts();
  parts.insert(parts.end(), {{".conv1.bn", ".f.a.1", Rename::kKeys},
                             {".conv1.bn.act", ".f.a.2", Rename::kTaps},
                             {".conv2.bn", ".f.b.1", Rename::kKeys},
                             {".conv2.bn.act", ".f.b.2", Rename::kTaps},
                             {".se.act", ".f.se.activation"},
                             {".se.gate", ".f.se.scale_activation"},
                             {".act3", ".activation"}});
  return stage_names({{"stem", "stem"},
                      {"stem.conv", "stem.0"},
                      {"stem.bn", "stem.1", Rename::kKeys},
                      {"stem.bn.act", "stem.2", Rename::kTaps},
                      {"head.global_pool.pool", "avgpool"},
                      {"head.fc", "fc"}},
                     parts);
}

// The seed's: ConvBNAct conv/bn/act, SqueezeExcitation fc1/ac1/fc2/ac2, the block's ac3,
// RegHead pool/fc.
std::vector<Rename> seed_names() {
  std::vector<BlockPart> parts = common_parts();
  parts.insert(parts.end(), {{".conv1.bn", ".f.a.1"},
                             {".conv1.act", ".f.a.2"},
                             {".conv2.bn", ".f.b.1"},
                             {".conv2.act", ".f.b.2"},
                             {".se.ac1", ".f.se.activation"},
                             {".se.ac2", ".f.se.scale_activation"},
                             {".ac3", ".activation"}});
  return stage_names({{"stem", "stem"},
                      {"stem.conv", "stem.0"},
                      {"stem.bn", "stem.1"},
                      {"stem.act", "stem.2"},
                      {"head.pool", "avgpool"},
                      {"head.fc", "fc"}},
                     parts);
}

// LayoutArchs of `layout` for {its name, ours}, each preset named after the arch.
std::vector<LayoutArch> layout_archs(
    const std::string& layout, const std::vector<std::pair<const char*, const char*>>& names) {
  std::vector<LayoutArch> out;
  for (const auto& [name, ours] : names) {
    const std::string arch = layout + "/" + name;
    out.push_back({arch, ours, arch});
  }
  return out;
}

}  // namespace

// Default layers: the stem, block1 and block2; all: the stem and every block.
const Family& regnet_family() {
  static const Family f = [] {
    std::vector<std::string> archs, variants;
    for (const Builder& b : builders()) (b.variant ? variants : archs).emplace_back(b.arch);
    return Family{"regnet",
                  archs,
                  "fc.weight",
                  detect,
                  make,
                  fixed_layers({"stem", "trunk_output.block1", "trunk_output.block2"}),
                  blocks_between({"stem"}, {"ResBottleneckBlock"}),
                  module_named("trunk_output"),
                  nullptr,
                  init,
                  nullptr,
                  variants,
                  {// timm's names, the sizes torchvision builds (regnety_008: pycls's widths).
                   Layout{"timm",
                          layout_archs("timm", {{"regnetx_008", "regnet_x_800mf"},
                                                {"regnety_008", "regnet_y_800mf_pycls"},
                                                {"regnety_016", "regnet_y_1_6gf"},
                                                {"regnety_032", "regnet_y_3_2gf"}}),
                          timm_names(), timm_init},
                   // The seed's, every size of its model_cfgs, named as its create_regnet(name)
                   // names them (lowercase).
                   Layout{"seed", layout_archs("seed", {{"regnetx_200mf", "regnet_x_200mf"},
                                                        {"regnetx_400mf", "regnet_x_400mf_pycls"},
                                                        {"regnetx_600mf", "regnet_x_600mf"},
                                                        {"regnetx_800mf", "regnet_x_800mf"},
                                                        {"regnetx_1.6gf", "regnet_x_1_6gf"},
                                                        {"regnetx_3.2gf", "regnet_x_3_2gf"},
                                                        {"regnetx_4.0gf", "regnet_x_4gf"},
                                                        {"regnetx_6.4gf", "regnet_x_6_4gf"},
                                                        {"regnetx_8.0gf", "regnet_x_8gf"},
                                                        {"regnetx_12gf", "regnet_x_12gf"},
                                                        {"regnetx_16gf", "regnet_x_16gf"},
                                                        {"regnetx_32gf", "regnet_x_32gf"},
                                                        {"regnety_200mf", "regnet_y_200mf"},
                                                        {"regnety_400mf", "regnet_y_400mf"},
                                                        {"regnety_600mf", "regnet_y_600mf"},
                                                        {"regnety_800mf", "regnet_y_800mf_pycls"},
                                                        {"regnety_1.6gf", "regnet_y_1_6gf"},
                                                        {"regnety_3.2gf", "regnet_y_3_2gf"},
                                                        {"regnety_4.0gf", "regnet_y_4gf"},
                                                        {"regnety_6.4gf", "regnet_y_6_4gf"},
                                                        {"regnety_8.0gf", "regnet_y_8gf_pycls"},
                                                        {"regnety_12gf", "regnet_y_12gf"},
                                                        {"regnety_16gf", "regnet_y_16gf"},
                                                        {"regnety_32gf", "regnet_y_32gf"}}),
                          seed_names(), seed_init}}};
  }();
  return f;
}

}  // namespace cnnscope::models::detail
