// GoogLeNet (Inception v1) and Inception v3 as torchvision builds them
// (torchvision/models/googlenet.py, inception.py): BasicConv2d (conv without bias, BN eps 0.001,
// ReLU), the Inception / InceptionA-E blocks with their branch names, the auxiliary classifiers
// (aux1/aux2, AuxLogits) present or not as the keys say (they never run in eval mode), and
// transform_input (ImageNet-normalized input re-normalized to mean 0.5 / std 0.5), which the keys
// cannot tell: on unless BuildOptions says off, as torchvision's pretrained weights set it.
// Leaves out training outputs (GoogLeNetOutputs / InceptionOutputs) and init_weights=False.
// Also the seed series' GoogLeNet (pytorch_classification/Test4_googlenet/model.py: BasicConv2d a
// conv with bias and a ReLU module, no BN; a 5x5 conv in branch3; maxpool4 3x3; dropout 0.4; its
// InceptionAux averagePool/conv/fc1/fc2; no transform_input) and timm's Inception v3
// (timm/models/inception_v3.py: torchvision's keys, no transform_input, BatchNormAct2d `bn` taps
// after the ReLU, `Pool1`/`Pool2`, `global_pool`, `head_drop` on the flattened features).
#include <array>
#include <map>

#include "models/blocks.h"

namespace cnnscope::models::detail {
namespace {

constexpr double kBasicConvEps = 0.001;

// Whose BasicConv2d: torchvision's (conv, BN, F.relu), the seed series' (conv with bias, `relu`
// module, no BN) or timm's ConvNormAct (conv, BatchNormAct2d: `bn`'s output after the ReLU).
enum class Style { kTorchvision, kSeed, kTimm };

struct Kernel {
  int64_t h = 1, w = 1;
  int64_t stride = 1;
  int64_t pad_h = 0, pad_w = 0;
};
Kernel square(int64_t k, int64_t stride = 1, int64_t pad = 0) {
  return {k, k, stride, pad, pad};
}

// torchvision's: conv (bias=False), bn (eps 0.001), F.relu(inplace=True): not a child, so no tap
// of its own. The seed's and timm's as Style says.
class BasicConv2d : public Layer {
 public:
  BasicConv2d(const std::string& path, int64_t in, int64_t out, const Kernel& k,
              Style style = Style::kTorchvision)
      : Layer(style == Style::kTimm ? "ConvNormAct" : "BasicConv2d", path), style_(style) {
    conv_ = register_module("conv",
                            torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, {k.h, k.w})
                                                  .stride(k.stride)
                                                  .padding(std::vector<int64_t>{k.pad_h, k.pad_w})
                                                  .bias(style == Style::kSeed)));
    if (style == Style::kSeed)
      relu_ = register_module("relu", relu(true));
    else
      bn_ = register_module("bn", batch_norm(out, Norm{Norm::kBatch, kBasicConvEps}));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = probe(child_path("conv"), conv_->forward(x));
    if (style_ == Style::kSeed) return probe(child_path("relu"), relu_->forward(x));
    x = bn_->forward(x);
    if (style_ == Style::kTimm) return probe(child_path("bn"), at::relu_(x));
    x = probe(child_path("bn"), x);
    return at::relu_(x);
  }

 private:
  Style style_;
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::nn::ReLU relu_{nullptr};  // the seed's
};

// A block of named BasicConv2d children (and Sequential branches) whose forward the subclass
// writes with `run(name, x)`.
class Block : public Layer {
 public:
  Block(const std::string& type, const std::string& path, Style style)
      : Layer(type, path), style_(style) {}

 protected:
  void add(const std::string& name, int64_t in, int64_t out, const Kernel& k) {
    convs_[name] =
        register_module(name, std::make_shared<BasicConv2d>(child_path(name), in, out, k, style_));
  }
  at::Tensor run(const std::string& name, const at::Tensor& x, Probe& probe) {
    const auto& m = convs_.at(name);
    return probe(m->path(), m->forward(x, probe));
  }

  Style style_;  // of its convs

 private:
  std::map<std::string, std::shared_ptr<BasicConv2d>> convs_;
};

// torch.flatten(F.adaptive_avg_pool2d(x, 1), 1) and the input re-normalization shared by both.
at::Tensor transform_input(const at::Tensor& x) {  // [N, 3, H, W]
  constexpr double kMean[3] = {0.485, 0.456, 0.406};
  constexpr double kStd[3] = {0.229, 0.224, 0.225};
  std::vector<at::Tensor> channels;
  for (int64_t c = 0; c < 3; ++c)
    channels.push_back(at::unsqueeze(x.select(1, c), 1) * (kStd[c] / 0.5) + (kMean[c] - 0.5) / 0.5);
  return at::cat(channels, 1);
}

// A network with transform_input, set after building (Family::configure).
class TransformingNet : public Layer {
 public:
  TransformingNet(const std::string& type, bool by_default)
      : Layer(type, ""), transform(by_default), transform_by_default(by_default) {}
  bool transform;
  const bool transform_by_default;  // torchvision's: on; the seed's and timm's have none
};

// --- GoogLeNet ---------------------------------------------------------------------------

class Inception : public Block {
 public:
  Inception(const std::string& path, int64_t in, int64_t ch1x1, int64_t ch3x3red, int64_t ch3x3,
            int64_t ch5x5red, int64_t ch5x5, int64_t pool_proj, Style style)
      : Block("Inception", path, style) {
    const bool seed = style == Style::kSeed;
    add("branch1", in, ch1x1, square(1));
    branch2_ = branch("branch2");
    branch2_->push_back(conv("branch2.0", in, ch3x3red, square(1)));
    branch2_->push_back(conv("branch2.1", ch3x3red, ch3x3, square(3, 1, 1)));
    branch3_ = branch("branch3");
    branch3_->push_back(conv("branch3.0", in, ch5x5red, square(1)));
    // torchvision's known bug kept for its weights: a 3x3 where the paper (and the seed) has 5x5.
    branch3_->push_back(
        conv("branch3.1", ch5x5red, ch5x5, seed ? square(5, 1, 2) : square(3, 1, 1)));
    branch4_ = branch("branch4");
    branch4_->push_back(max_pool(3, 1, 1, /*ceil_mode=*/!seed));
    branch4_->push_back(conv("branch4.1", in, pool_proj, square(1)));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    at::Tensor b1 = run("branch1", x, probe);
    at::Tensor b2 = probe(branch2_->path(), branch2_->forward(x, probe));
    at::Tensor b3 = probe(branch3_->path(), branch3_->forward(x, probe));
    at::Tensor b4 = probe(branch4_->path(), branch4_->forward(x, probe));
    return at::cat({b1, b2, b3, b4}, 1);
  }

 private:
  std::shared_ptr<Sequential> branch(const std::string& name) {
    return register_module(name, std::make_shared<Sequential>(child_path(name)));
  }
  std::shared_ptr<BasicConv2d> conv(const std::string& name, int64_t in, int64_t out,
                                    const Kernel& k) {
    return std::make_shared<BasicConv2d>(child_path(name), in, out, k, style_);
  }
  std::shared_ptr<Sequential> branch2_, branch3_, branch4_;
};

// GoogLeNet's InceptionAux: registered for its keys, never run in eval mode.
class GoogLeNetAux : public Layer {
 public:
  GoogLeNetAux(const std::string& path, int64_t in, int64_t num_classes)
      : Layer("InceptionAux", path) {
    constexpr int64_t kWidth = 128, kHidden = 1024, kPooled = 4 * 4 * 128;
    constexpr double kAuxDropout = 0.7;
    register_module("conv",
                    std::make_shared<BasicConv2d>(child_path("conv"), in, kWidth, square(1)));
    register_module("fc1", linear(kPooled, kHidden));
    register_module("fc2", linear(kHidden, num_classes));
    register_module("dropout", dropout(kAuxDropout, false));
  }
  at::Tensor forward(at::Tensor x, Probe&) override { return x; }
};

// The seed's InceptionAux: averagePool (5, stride 3), conv, fc1, fc2; registered for its keys,
// never run in eval mode.
class SeedGoogLeNetAux : public Layer {
 public:
  SeedGoogLeNetAux(const std::string& path, int64_t in, int64_t num_classes)
      : Layer("InceptionAux", path) {
    constexpr int64_t kWidth = 128, kHidden = 1024, kPooled = 4 * 4 * 128;
    register_module("averagePool", std::make_shared<Leaf>(
                                       "AvgPool2d", "AvgPool2d(kernel_size=5, stride=3, padding=0)",
                                       [](at::Tensor x) {
                                         return at::avg_pool2d(x, {5, 5}, {3, 3});
                                       }));
    register_module("conv", std::make_shared<BasicConv2d>(child_path("conv"), in, kWidth, square(1),
                                                          Style::kSeed));
    register_module("fc1", linear(kPooled, kHidden));
    register_module("fc2", linear(kHidden, num_classes));
  }
  at::Tensor forward(at::Tensor x, Probe&) override { return x; }
};

class GoogLeNet : public TransformingNet {
 public:
  GoogLeNet(int64_t num_classes, bool aux, Style style)
      : TransformingNet("GoogLeNet", style == Style::kTorchvision), style_(style) {
    const bool seed = style == Style::kSeed;
    const double kDropout = seed ? 0.4 : 0.2;
    conv("conv1", 3, 64, square(7, 2, 3));
    pool("maxpool1", 3);
    conv("conv2", 64, 64, square(1));
    conv("conv3", 64, 192, square(3, 1, 1));
    pool("maxpool2", 3);
    inception("inception3a", {192, 64, 96, 128, 16, 32, 32});
    inception("inception3b", {256, 128, 128, 192, 32, 96, 64});
    pool("maxpool3", 3);
    inception("inception4a", {480, 192, 96, 208, 16, 48, 64});
    inception("inception4b", {512, 160, 112, 224, 24, 64, 64});
    inception("inception4c", {512, 128, 128, 256, 24, 64, 64});
    inception("inception4d", {512, 112, 144, 288, 32, 64, 64});
    inception("inception4e", {528, 256, 160, 320, 32, 128, 128});
    pool("maxpool4", seed ? 3 : 2);
    inception("inception5a", {832, 256, 160, 320, 32, 128, 128});
    inception("inception5b", {832, 384, 192, 384, 48, 128, 128});
    if (aux && seed) {
      register_module("aux1", std::make_shared<SeedGoogLeNetAux>("aux1", 512, num_classes));
      register_module("aux2", std::make_shared<SeedGoogLeNetAux>("aux2", 528, num_classes));
    } else if (aux) {
      register_module("aux1", std::make_shared<GoogLeNetAux>("aux1", 512, num_classes));
      register_module("aux2", std::make_shared<GoogLeNetAux>("aux2", 528, num_classes));
    }
    avgpool_ = register_module("avgpool", adaptive_avg_pool(1));
    dropout_ = register_module("dropout", dropout(kDropout, false));
    fc_ = register_module("fc", linear(1024, num_classes));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    if (transform) x = transform_input(x);
    for (const auto& [name, step] : steps_) x = probe(name, step(x, probe));
    x = probe("avgpool", avgpool_->forward(x)).flatten(1);  // [N, 1024]
    x = probe("dropout", dropout_->forward(x));
    return probe("fc", fc_->forward(x));
  }

 private:
  using Step = std::function<at::Tensor(const at::Tensor&, Probe&)>;
  void conv(const std::string& name, int64_t in, int64_t out, const Kernel& k) {
    auto m = register_module(name, std::make_shared<BasicConv2d>(name, in, out, k, style_));
    steps_.emplace_back(name, [m](const at::Tensor& x, Probe& p) { return m->forward(x, p); });
  }
  void pool(const std::string& name, int64_t kernel) {
    auto m = register_module(name, max_pool(kernel, 2, 0, /*ceil_mode=*/true));
    steps_.emplace_back(name, [m](const at::Tensor& x, Probe&) { return m->forward(x); });
  }
  void inception(const std::string& name, const std::array<int64_t, 7>& c) {
    auto m = register_module(
        name, std::make_shared<Inception>(name, c[0], c[1], c[2], c[3], c[4], c[5], c[6], style_));
    steps_.emplace_back(name, [m](const at::Tensor& x, Probe& p) { return m->forward(x, p); });
  }

  Style style_;
  std::vector<std::pair<std::string, Step>> steps_;
  torch::nn::AdaptiveAvgPool2d avgpool_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

// --- Inception v3 ------------------------------------------------------------------------

at::Tensor avg_pool3(const at::Tensor& x) {  // F.avg_pool2d(x, 3, stride=1, padding=1)
  return at::avg_pool2d(x, {3, 3}, {1, 1}, {1, 1});
}
at::Tensor max_pool3s2(const at::Tensor& x) {  // F.max_pool2d(x, 3, stride=2)
  return at::max_pool2d(x, {3, 3}, {2, 2});
}

const Kernel k1x7{1, 7, 1, 0, 3};
const Kernel k7x1{7, 1, 1, 3, 0};
const Kernel k1x3{1, 3, 1, 0, 1};
const Kernel k3x1{3, 1, 1, 1, 0};

class InceptionA : public Block {
 public:
  InceptionA(const std::string& path, int64_t in, int64_t pool_features, Style style)
      : Block("InceptionA", path, style) {
    add("branch1x1", in, 64, square(1));
    add("branch5x5_1", in, 48, square(1));
    add("branch5x5_2", 48, 64, square(5, 1, 2));
    add("branch3x3dbl_1", in, 64, square(1));
    add("branch3x3dbl_2", 64, 96, square(3, 1, 1));
    add("branch3x3dbl_3", 96, 96, square(3, 1, 1));
    add("branch_pool", in, pool_features, square(1));
  }
  at::Tensor forward(at::Tensor x, Probe& p) override {
    at::Tensor b1 = run("branch1x1", x, p);
    at::Tensor b5 = run("branch5x5_2", run("branch5x5_1", x, p), p);
    at::Tensor b3 = run("branch3x3dbl_3", run("branch3x3dbl_2", run("branch3x3dbl_1", x, p), p), p);
    at::Tensor bp = run("branch_pool", avg_pool3(x), p);
    return at::cat({b1, b5, b3, bp}, 1);
  }
};

class InceptionB : public Block {
 public:
  InceptionB(const std::string& path, int64_t in, Style style) : Block("InceptionB", path, style) {
    add("branch3x3", in, 384, square(3, 2));
    add("branch3x3dbl_1", in, 64, square(1));
    add("branch3x3dbl_2", 64, 96, square(3, 1, 1));
    add("branch3x3dbl_3", 96, 96, square(3, 2));
  }
  at::Tensor forward(at::Tensor x, Probe& p) override {
    at::Tensor b3 = run("branch3x3", x, p);
    at::Tensor bd = run("branch3x3dbl_3", run("branch3x3dbl_2", run("branch3x3dbl_1", x, p), p), p);
    return at::cat({b3, bd, max_pool3s2(x)}, 1);
  }
};

class InceptionC : public Block {
 public:
  InceptionC(const std::string& path, int64_t in, int64_t c7, Style style)
      : Block("InceptionC", path, style) {
    add("branch1x1", in, 192, square(1));
    add("branch7x7_1", in, c7, square(1));
    add("branch7x7_2", c7, c7, k1x7);
    add("branch7x7_3", c7, 192, k7x1);
    add("branch7x7dbl_1", in, c7, square(1));
    add("branch7x7dbl_2", c7, c7, k7x1);
    add("branch7x7dbl_3", c7, c7, k1x7);
    add("branch7x7dbl_4", c7, c7, k7x1);
    add("branch7x7dbl_5", c7, 192, k1x7);
    add("branch_pool", in, 192, square(1));
  }
  at::Tensor forward(at::Tensor x, Probe& p) override {
    at::Tensor b1 = run("branch1x1", x, p);
    at::Tensor b7 = x;
    for (const char* n : {"branch7x7_1", "branch7x7_2", "branch7x7_3"}) b7 = run(n, b7, p);
    at::Tensor bd = x;
    for (const char* n :
         {"branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5"})
      bd = run(n, bd, p);
    at::Tensor bp = run("branch_pool", avg_pool3(x), p);
    return at::cat({b1, b7, bd, bp}, 1);
  }
};

class InceptionD : public Block {
 public:
  InceptionD(const std::string& path, int64_t in, Style style) : Block("InceptionD", path, style) {
    add("branch3x3_1", in, 192, square(1));
    add("branch3x3_2", 192, 320, square(3, 2));
    add("branch7x7x3_1", in, 192, square(1));
    add("branch7x7x3_2", 192, 192, k1x7);
    add("branch7x7x3_3", 192, 192, k7x1);
    add("branch7x7x3_4", 192, 192, square(3, 2));
  }
  at::Tensor forward(at::Tensor x, Probe& p) override {
    at::Tensor b3 = run("branch3x3_2", run("branch3x3_1", x, p), p);
    at::Tensor b7 = x;
    for (const char* n : {"branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"})
      b7 = run(n, b7, p);
    return at::cat({b3, b7, max_pool3s2(x)}, 1);
  }
};

class InceptionE : public Block {
 public:
  InceptionE(const std::string& path, int64_t in, Style style) : Block("InceptionE", path, style) {
    add("branch1x1", in, 320, square(1));
    add("branch3x3_1", in, 384, square(1));
    add("branch3x3_2a", 384, 384, k1x3);
    add("branch3x3_2b", 384, 384, k3x1);
    add("branch3x3dbl_1", in, 448, square(1));
    add("branch3x3dbl_2", 448, 384, square(3, 1, 1));
    add("branch3x3dbl_3a", 384, 384, k1x3);
    add("branch3x3dbl_3b", 384, 384, k3x1);
    add("branch_pool", in, 192, square(1));
  }
  at::Tensor forward(at::Tensor x, Probe& p) override {
    at::Tensor b1 = run("branch1x1", x, p);
    at::Tensor b3 = run("branch3x3_1", x, p);
    b3 = at::cat({run("branch3x3_2a", b3, p), run("branch3x3_2b", b3, p)}, 1);
    at::Tensor bd = run("branch3x3dbl_2", run("branch3x3dbl_1", x, p), p);
    bd = at::cat({run("branch3x3dbl_3a", bd, p), run("branch3x3dbl_3b", bd, p)}, 1);
    at::Tensor bp = run("branch_pool", avg_pool3(x), p);
    return at::cat({b1, b3, bd, bp}, 1);
  }
};

// Inception v3's InceptionAux: registered for its keys, never run in eval mode.
class InceptionV3Aux : public Block {
 public:
  InceptionV3Aux(const std::string& path, int64_t in, int64_t num_classes, Style style)
      : Block("InceptionAux", path, style) {
    add("conv0", in, 128, square(1));
    add("conv1", 128, 768, square(5));
    register_module("fc", linear(768, num_classes));
  }
  at::Tensor forward(at::Tensor x, Probe&) override { return x; }
};

class Inception3 : public TransformingNet {
 public:
  Inception3(int64_t num_classes, bool aux, Style style)
      : TransformingNet(style == Style::kTimm ? "InceptionV3" : "Inception3",
                        style == Style::kTorchvision),
        style_(style) {
    constexpr double kDropout = 0.5;
    conv("Conv2d_1a_3x3", 3, 32, square(3, 2));
    conv("Conv2d_2a_3x3", 32, 32, square(3));
    conv("Conv2d_2b_3x3", 32, 64, square(3, 1, 1));
    pool("maxpool1");
    conv("Conv2d_3b_1x1", 64, 80, square(1));
    conv("Conv2d_4a_3x3", 80, 192, square(3));
    pool("maxpool2");
    block("Mixed_5b", std::make_shared<InceptionA>("Mixed_5b", 192, 32, style));
    block("Mixed_5c", std::make_shared<InceptionA>("Mixed_5c", 256, 64, style));
    block("Mixed_5d", std::make_shared<InceptionA>("Mixed_5d", 288, 64, style));
    block("Mixed_6a", std::make_shared<InceptionB>("Mixed_6a", 288, style));
    block("Mixed_6b", std::make_shared<InceptionC>("Mixed_6b", 768, 128, style));
    block("Mixed_6c", std::make_shared<InceptionC>("Mixed_6c", 768, 160, style));
    block("Mixed_6d", std::make_shared<InceptionC>("Mixed_6d", 768, 160, style));
    block("Mixed_6e", std::make_shared<InceptionC>("Mixed_6e", 768, 192, style));
    if (aux)
      register_module("AuxLogits",
                      std::make_shared<InceptionV3Aux>("AuxLogits", 768, num_classes, style));
    block("Mixed_7a", std::make_shared<InceptionD>("Mixed_7a", 768, style));
    block("Mixed_7b", std::make_shared<InceptionE>("Mixed_7b", 1280, style));
    block("Mixed_7c", std::make_shared<InceptionE>("Mixed_7c", 2048, style));
    avgpool_ = register_module("avgpool", adaptive_avg_pool(1));
    dropout_ = register_module("dropout", dropout(kDropout, false));
    fc_ = register_module("fc", linear(2048, num_classes));
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    if (transform) x = transform_input(x);
    for (const auto& [name, step] : steps_) x = probe(name, step(x, probe));
    x = probe("avgpool", avgpool_->forward(x));  // [N, 2048, 1, 1]
    // timm's head_drop sees the flattened features, torchvision's dropout the pooled map.
    if (style_ == Style::kTimm) x = x.flatten(1);
    x = probe("dropout", dropout_->forward(x)).flatten(1);  // [N, 2048]
    return probe("fc", fc_->forward(x));
  }

 private:
  using Step = std::function<at::Tensor(const at::Tensor&, Probe&)>;
  void conv(const std::string& name, int64_t in, int64_t out, const Kernel& k) {
    block(name, std::make_shared<BasicConv2d>(name, in, out, k, style_));
  }
  void pool(const std::string& name) {
    auto m = register_module(name, max_pool(3, 2));
    steps_.emplace_back(name, [m](const at::Tensor& x, Probe&) { return m->forward(x); });
  }
  void block(const std::string& name, std::shared_ptr<Layer> layer) {
    auto m = register_module(name, std::move(layer));
    steps_.emplace_back(name, [m](const at::Tensor& x, Probe& p) { return m->forward(x, p); });
  }

  Style style_;
  std::vector<std::pair<std::string, Step>> steps_;
  torch::nn::AdaptiveAvgPool2d avgpool_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

// --- families ------------------------------------------------------------------------------

std::string aux_text(bool aux) {
  return aux ? "with aux classifiers" : "no aux classifiers";
}

// The variants (Family::variants) only a layout names.
constexpr const char* kSeedGoogLeNet = "googlenet_seed";     // the seed series' model.py
constexpr const char* kTimmInception = "inception_v3_timm";  // timm's inception_v3

Built make_googlenet(const std::string& arch, int64_t num_classes, bool aux) {
  const Style style = arch == kSeedGoogLeNet ? Style::kSeed : Style::kTorchvision;
  return described(std::make_shared<GoogLeNet>(num_classes, aux, style), "googlenet", arch,
                   aux_text(aux), num_classes);
}
Built make_inception(const std::string& arch, int64_t num_classes, bool aux) {
  const Style style = arch == kTimmInception ? Style::kTimm : Style::kTorchvision;
  return described(std::make_shared<Inception3>(num_classes, aux, style), "inception", arch,
                   aux_text(aux), num_classes);
}

// --arch: torchvision's pretrained layout (no aux keys: the builder drops them after loading);
// the seed's GoogLeNet as its train.py builds it and saves it (aux_logits=True; its predict.py
// loads that with strict=False into a model without them).
Built make_googlenet_arch(const std::string& arch, int64_t num_classes) {
  return make_googlenet(arch, num_classes, arch == kSeedGoogLeNet);
}
Built make_inception_arch(const std::string& arch, int64_t num_classes) {
  return make_inception(arch, num_classes, false);
}

Built detect_googlenet(const StateDict& sd, std::string& why_not) {
  if (!has_keys(sd, {"conv1.conv.weight", "inception3a.branch1.conv.weight", "fc.weight"}, why_not))
    return {};
  // The seed's convs have biases (and no BN).
  return make_googlenet(sd.find("conv1.conv.bias") != nullptr ? kSeedGoogLeNet : "googlenet",
                        shape_of(sd, "fc.weight")[0], sd.find("aux1.fc2.weight") != nullptr);
}

Built detect_inception(const StateDict& sd, std::string& why_not) {
  if (!has_keys(sd, {"Conv2d_1a_3x3.conv.weight", "Mixed_5b.branch1x1.conv.weight", "fc.weight"},
                why_not))
    return {};
  return make_inception("inception_v3", shape_of(sd, "fc.weight")[0],
                        sd.find("AuxLogits.fc.weight") != nullptr);
}

// transform_input: torchvision's on unless BuildOptions turn it off, said in the description; the
// seed's and timm's (which have none) off unless turned on.
void configure(Built& built, const BuildOptions& options) {
  auto& net = static_cast<TransformingNet&>(*built.root);
  net.transform = options.transform_input.value_or(net.transform_by_default);
  if (!net.transform_by_default)
    built.info.description += net.transform ? ", transform_input on" : "";
  else
    built.info.description += net.transform ? ", transform_input on (torchvision's pretrained "
                                              "default; turn it off for a model trained without it)"
                                            : ", transform_input off";
}

// The seed's _initialize_weights (train.py passes init_weights=True): conv kaiming normal
// (fan_out, ReLU) with bias 0, linear normal(0, 0.01) with bias 0.
void init_seed(torch::nn::Module& root) {
  constexpr double kLinearStd = 0.01;
  init_modules(root, {.conv = [](torch::nn::Conv2dImpl& c) { kaiming_fan_out(c.weight); },
                      .linear =
                          [](torch::nn::LinearImpl& l) {
                            torch::nn::init::normal_(l.weight, 0.0, kLinearStd);
                          }});
}

// The seed series' GoogLeNet: torchvision's names, computed as its model.py computes.
Layout seed_googlenet_layout() {
  return Layout{.name = "seed",
                .archs = {{"seed/googlenet", kSeedGoogLeNet, "seed/googlenet"}},
                .init = init_seed};
}

// timm's Inception v3: torchvision's keys; taps Pool1/Pool2, global_pool.pool and head_drop.
Layout timm_inception_layout() {
  return Layout{
      .name = "timm",
      .archs = {{"timm/inception_v3", kTimmInception, "timm/inception_v3", "inception_v3"}},
      .renames = {{"Pool1", "maxpool1"},
                  {"Pool2", "maxpool2"},
                  {"global_pool.pool", "avgpool", Rename::kTaps},
                  {"head_drop", "dropout", Rename::kTaps},
                  {"**", "**"}}};
}

// torchvision's init_weights: conv and linear weights truncated normal (GoogLeNet std 0.01;
// Inception v3 0.1, its AuxLogits.fc 0.001), cut at -2..2; BN 1/0; other biases keep nn's default.
void init_with(torch::nn::Module& root, double std, const std::string& special,
               double special_std) {
  reset_defaults(root);
  torch::NoGradGuard no_grad;
  for (const auto& item : root.named_modules("", /*include_self=*/false)) {
    const auto& m = item.value();
    const double s = item.key() == special ? special_std : std;
    if (auto* c = m->as<torch::nn::Conv2d>())
      trunc_normal(c->weight, s);
    else if (auto* l = m->as<torch::nn::Linear>())
      trunc_normal(l->weight, s);
    else if (m->as<torch::nn::BatchNorm2d>())
      ones_zeros(*m);
  }
}

}  // namespace

const Family& googlenet_family() {
  constexpr double kStd = 0.01;
  static const Family family{
      .name = "googlenet",
      .archs = {"googlenet"},
      .classes_key = "fc.weight",
      .detect = detect_googlenet,
      .make = make_googlenet_arch,
      // The stem's conv1, the first Inception block and a middle one.
      .default_layers = fixed_layers({"conv1", "inception3a", "inception4c"}),
      .all_layers = blocks_between({"conv1", "conv2", "conv3"}, {"Inception"}),
      .cam_layer = module_named("inception5b"),
      .init = [](torch::nn::Module& root) { init_with(root, kStd, "", kStd); },
      .configure = configure,
      .variants = {kSeedGoogLeNet},
      .layouts = {seed_googlenet_layout()},
  };
  return family;
}

const Family& inception_family() {
  constexpr double kStd = 0.1, kAuxFcStd = 0.001;
  static const Family family{
      .name = "inception",
      .archs = {"inception_v3"},
      .classes_key = "fc.weight",
      .detect = detect_inception,
      .make = make_inception_arch,
      // The stem's last conv, the first Mixed block and a middle one.
      .default_layers = fixed_layers({"Conv2d_4a_3x3", "Mixed_5b", "Mixed_6b"}),
      .all_layers = blocks_between(
          {"Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3"},
          {"InceptionA", "InceptionB", "InceptionC", "InceptionD", "InceptionE"}),
      .cam_layer = module_named("Mixed_7c"),
      .preset = presets_for({"inception_v3"}),
      .init = [](torch::nn::Module& root) { init_with(root, kStd, "AuxLogits.fc", kAuxFcStd); },
      .configure = configure,
      .variants = {kTimmInception},
      .layouts = {timm_inception_layout()},
  };
  return family;
}

}  // namespace cnnscope::models::detail
