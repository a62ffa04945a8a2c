// CKA (see cka.h): Gram matrices in float64, centred once per minibatch, so each pair of layers
// costs one n*n dot product per HSIC term. Spec: the papers named in cka.h.
#include "stats/cka.h"

#include <cmath>

#include "common/error.h"

namespace cnnscope {

CkaKernel parse_cka_kernel(const std::string& name) {
  if (name == "linear") return CkaKernel::kLinear;
  if (name == "rbf") return CkaKernel::kRbf;
  fail("", "unknown CKA kernel '" + name + "' (linear or rbf)");
}

const char* cka_kernel_name(CkaKernel kernel) {
  return kernel == CkaKernel::kLinear ? "linear" : "rbf";
}

int64_t cka_min_batch(const CkaOptions& options) {
  return options.unbiased ? 4 : 2;
}

namespace {

constexpr int64_t kColumnsPerBlock = 1 << 16;  // 32 x 65536 doubles: 16 MB per block

at::Tensor rbf_gram(const at::Tensor& dot, double threshold) {  // dot [n, n] -> [n, n]
  const at::Tensor sq_norms = dot.diagonal();                   // [n]
  const at::Tensor sq_dist = (sq_norms.unsqueeze(1) + sq_norms.unsqueeze(0) - 2 * dot).clamp_min(0);
  // numpy's median: the mean of the two middle values of an even count
  const at::Tensor sorted = std::get<0>(sq_dist.flatten().sort());
  const int64_t count = sorted.numel();
  const double median =
      count % 2 ? sorted[count / 2].item<double>()
                : 0.5 * (sorted[count / 2 - 1].item<double>() + sorted[count / 2].item<double>());
  if (!(median > 0)) return at::ones_like(dot);  // every input the same: a constant kernel
  return at::exp(-sq_dist / (2 * threshold * threshold * median));
}

}  // namespace

CkaGram cka_gram(const at::Tensor& features, const CkaOptions& options) {
  const int64_t n = features.size(0);
  if (n < cka_min_batch(options))
    fail("", "a CKA minibatch needs at least " + std::to_string(cka_min_batch(options)) +
                 " inputs, got " + std::to_string(n));
  const at::Tensor x = features.reshape({n, -1});  // [n, D]
  // X X' in float64, a block of columns at a time: no float64 copy of the whole activation
  at::Tensor gram = at::zeros({n, n}, at::kDouble);  // [n, n]
  for (int64_t c = 0; c < x.size(1); c += kColumnsPerBlock) {
    const at::Tensor block =
        x.narrow(1, c, std::min(kColumnsPerBlock, x.size(1) - c)).to(at::kDouble);
    gram.addmm_(block, block.t());
  }
  if (options.kernel == CkaKernel::kRbf) gram = rbf_gram(gram, options.rbf_threshold);
  CkaGram g;
  g.n = n;
  if (options.unbiased) {
    gram.fill_diagonal_(0);
    g.rows = gram.sum(1);  // [n]
    g.total = g.rows.sum().item<double>();
  } else {
    gram = gram - gram.mean(0, true) - gram.mean(1, true) + gram.mean();  // H K H
  }
  g.matrix = gram;
  g.self = hsic(g, g);
  return g;
}

double hsic(const CkaGram& k, const CkaGram& l) {
  if (k.n != l.n || k.rows.defined() != l.rows.defined())
    fail("", "HSIC of Gram matrices from different minibatches or options");
  const auto n = static_cast<double>(k.n);
  const double trace = at::dot(k.matrix.flatten(), l.matrix.flatten()).item<double>();
  if (!k.rows.defined()) return trace / ((n - 1) * (n - 1));
  const double cross = at::dot(k.rows, l.rows).item<double>();
  return (trace + k.total * l.total / ((n - 1) * (n - 2)) - 2 / (n - 2) * cross) / (n * (n - 3));
}

void CkaPair::add(const CkaGram& k, const CkaGram& l) {
  kl_ += hsic(k, l);
  kk_ += k.self;
  ll_ += l.self;
  ++batches_;
}

std::optional<double> CkaPair::value() const {
  if (batches_ == 0 || !(kk_ > 0) || !(ll_ > 0)) return std::nullopt;
  return kl_ / (std::sqrt(kk_) * std::sqrt(ll_));  // no overflow of the product
}

}  // namespace cnnscope
