// VGG 11/13/16/19, with and without batch norm, in torchvision's layout (features, avgpool 7x7,
// classifier); any widths read from the keys. Follows torchvision/models/vgg.py (cfgs A, B, D, E).
#include <map>

#include "common/error.h"
#include "common/text.h"
#include "models/family.h"

namespace cnnscope::models::detail {
namespace {

constexpr int64_t kPool = -1;  // 'M' in torchvision's cfgs
constexpr int64_t kPooledSize = 7;
constexpr int64_t kHidden = 4096;

const std::map<int, std::vector<int64_t>>& cfgs() {
  static const std::map<int, std::vector<int64_t>> table{
      {11, {64, kPool, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool}},
      {13, {64, 64, kPool, 128, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool}},
      {16,
       {64, 64, kPool, 128, 128, kPool, 256, 256, 256, kPool, 512, 512, 512, kPool, 512, 512, 512,
        kPool}},
      {19, {64,  64,  kPool, 128, 128,   kPool, 256, 256, 256, 256,  kPool,
            512, 512, 512,   512, kPool, 512,   512, 512, 512, kPool}}};
  return table;
}

struct VggConfig {
  std::vector<int64_t> layers;  // conv widths and kPool, as torchvision's cfgs
  bool batch_norm = false;
  int64_t hidden = kHidden;
  int64_t num_classes = 0;
};

class Vgg : public Layer {
 public:
  explicit Vgg(const VggConfig& c) : Layer("VGG", "") {
    features_ = std::make_shared<Sequential>("features");
    int64_t in = 3;
    for (int64_t v : c.layers) {
      if (v == kPool) {
        features_->push_back(max_pool(2, 2));
        continue;
      }
      features_->push_back(conv2d(in, v, 3, 1, 1, true));
      if (c.batch_norm) features_->push_back(batch_norm(v));
      features_->push_back(relu(true));
      in = v;
    }
    register_module("features", features_);
    avgpool_ = register_module("avgpool", adaptive_avg_pool(kPooledSize));
    classifier_ = std::make_shared<Sequential>("classifier");
    classifier_->push_back(linear(in * kPooledSize * kPooledSize, c.hidden));
    classifier_->push_back(relu(true));
    classifier_->push_back(dropout());
    classifier_->push_back(linear(c.hidden, c.hidden));
    classifier_->push_back(relu(true));
    classifier_->push_back(dropout());
    classifier_->push_back(linear(c.hidden, c.num_classes));
    register_module("classifier", classifier_);
  }

  at::Tensor forward(at::Tensor x, Probe& probe) override {
    x = probe("features", features_->forward(std::move(x), probe));
    x = probe("avgpool", avgpool_->forward(x));  // [N, C, 7, 7]
    x = torch::flatten(x, 1);                    // [N, C*49]
    return probe("classifier", classifier_->forward(std::move(x), probe));
  }

 private:
  std::shared_ptr<Sequential> features_;
  torch::nn::AdaptiveAvgPool2d avgpool_{nullptr};
  std::shared_ptr<Sequential> classifier_;
};

int conv_count(const std::vector<int64_t>& layers) {
  int n = 0;
  for (int64_t v : layers) n += v != kPool;
  return n;
}

Built build(const VggConfig& c) {
  const int depth = conv_count(c.layers) + 3;  // + the three Linears
  std::vector<int64_t> widths;
  for (int64_t v : c.layers)
    if (v != kPool && (widths.empty() || widths.back() != v)) widths.push_back(v);
  Built b;
  b.root = std::make_shared<Vgg>(c);
  b.info.family = "vgg";
  b.info.arch = "vgg" + std::to_string(depth) + (c.batch_norm ? "_bn" : "");
  b.info.description = b.info.arch + ", widths " + join_widths(widths) + ", " +
                       std::to_string(c.num_classes) + " classes" +
                       (c.batch_norm ? ", batch norm" : "");
  auto it = cfgs().find(depth);
  if (it == cfgs().end() || it->second != c.layers || c.hidden != kHidden)
    b.info.description += " (non-standard layout)";
  b.info.num_classes = c.num_classes;
  return b;
}

// Walks `features.i`: a 4-d weight is a conv, followed by a BN (running_mean) or not, then a ReLU;
// every other index up to the next conv is a max pool. torchvision's cfgs all end with a pool.
Built detect(const StateDict& sd, std::string& why_not) {
  if (!shape_of(sd, "features.0.weight").size()) {
    why_not = "no key features.0.weight";
    return {};
  }
  VggConfig c;
  c.batch_norm = !shape_of(sd, "features.1.running_mean").empty();
  int max_index = -1;
  const std::string prefix = "features.";
  for (const NamedTensor& t : sd.tensors) {
    if (!starts_with(t.name, prefix)) continue;
    max_index = std::max(max_index, std::atoi(t.name.c_str() + prefix.size()));
  }
  int64_t in = 3;
  for (int i = 0; i <= max_index;) {
    std::vector<int64_t> s = shape_of(sd, prefix + std::to_string(i) + ".weight");
    if (s.empty()) {
      c.layers.push_back(kPool);
      ++i;
      continue;
    }
    if (s.size() != 4 || s[1] != in || s[2] != 3 || s[3] != 3) {
      why_not = prefix + std::to_string(i) + ".weight is not a 3x3 convolution from " +
                std::to_string(in) + " channels";
      return {};
    }
    c.layers.push_back(in = s[0]);
    i += c.batch_norm ? 3 : 2;
  }
  c.layers.push_back(kPool);
  std::vector<int64_t> first = shape_of(sd, "classifier.0.weight");
  std::vector<int64_t> last = shape_of(sd, "classifier.6.weight");
  if (first.size() != 2 || last.size() != 2 || first[1] != in * kPooledSize * kPooledSize) {
    why_not = "no Linear classifier.0 from " + std::to_string(in) + "x7x7 / classifier.6";
    return {};
  }
  c.hidden = first[0];
  c.num_classes = last[0];
  return build(c);
}

Built make(const std::string& arch, int64_t num_classes) {
  VggConfig c;
  c.batch_norm = arch.size() > 3 && arch.substr(arch.size() - 3) == "_bn";
  c.layers = cfgs().at(std::stoi(arch.substr(3)));
  c.num_classes = num_classes;
  return build(c);
}

}  // namespace

const Family& vgg_family() {
  constexpr size_t kDefaultLayers = 3;
  static const Family family{
      .name = "vgg",
      .archs = {"vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"},
      .classes_key = "classifier.6.weight",
      .detect = detect,
      .make = make,
      // The ReLUs after the first three convolutions.
      .default_layers = features_relus(kDefaultLayers),
      .all_layers = features_relus(),
      .cam_layer = last_child_of("features"),
  };
  return family;
}

}  // namespace cnnscope::models::detail
