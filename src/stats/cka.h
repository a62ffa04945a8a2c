// Centred kernel alignment (CKA) between two representations of the same inputs, accumulated
// minibatch by minibatch: each minibatch's features become a Gram matrix (linear or RBF kernel),
// two Gram matrices give an HSIC estimate (biased, or Song et al.'s unbiased one), and a pair of
// layers sums its three HSIC terms over the minibatches; CKA = sum HSIC(K, L) /
// sqrt(sum HSIC(K, K) * sum HSIC(L, L)). With the whole set in one minibatch this is the
// full-batch CKA of Kornblith et al.; with several it is Nguyen, Raghu and Kornblith's minibatch
// estimator. Memory: one minibatch's Gram matrices, whatever the number of inputs.
// Leaves out: running networks (app/similarity), other similarity indices (CCA, Procrustes).
// Spec: Kornblith, Norouzi, Lee, Hinton, "Similarity of Neural Network Representations
// Revisited", ICML 2019 (linear and RBF CKA; the RBF bandwidth as a fraction of the median
// distance); Song et al., "Feature Selection via Dependence Maximization", JMLR 2012 (unbiased
// HSIC); Nguyen, Raghu, Kornblith, "Do Wide and Deep Networks Learn the Same Things?", ICLR 2021
// (minibatch CKA).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>

namespace cnnscope {

enum class CkaKernel { kLinear, kRbf };

struct CkaOptions {
  CkaKernel kernel = CkaKernel::kLinear;
  bool unbiased = false;
  // RBF only: sigma^2 = threshold^2 * the median squared distance of the minibatch (Kornblith
  // et al.'s `rbf(X, threshold)`; the median over all n*n entries, the zero diagonal included).
  double rbf_threshold = 1.0;
};

// "linear" | "rbf"; throws Error naming the value otherwise.
CkaKernel parse_cka_kernel(const std::string& name);
const char* cka_kernel_name(CkaKernel kernel);

// The fewest inputs a minibatch needs for its HSIC estimate: 2 (biased), 4 (unbiased).
int64_t cka_min_batch(const CkaOptions& options);

// One minibatch's Gram matrix, prepared for HSIC: centred (biased) or with its diagonal zeroed and
// its row sums kept (unbiased).
struct CkaGram {
  at::Tensor matrix;  // [n, n] float64
  at::Tensor rows;    // [n] row sums (unbiased only)
  double total = 0;   // sum of all entries (unbiased only)
  int64_t n = 0;
  double self = 0;  // hsic(*this, *this): each CkaPair's normaliser, computed once
};

// `features` [n, ...] (each row one input, flattened; any float dtype, computed in float64).
// Throws Error when n < cka_min_batch(options).
CkaGram cka_gram(const at::Tensor& features, const CkaOptions& options);

// HSIC estimate of two prepared Gram matrices of the same minibatch (and the same options):
// biased tr(KHLH) / (n-1)^2; unbiased [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] /
// (n(n-3)), K~ = K with a zero diagonal.
double hsic(const CkaGram& k, const CkaGram& l);

// The sums of one pair of representations over minibatches.
class CkaPair {
 public:
  void add(const CkaGram& k, const CkaGram& l);
  // sum HSIC(K,L) / sqrt(sum HSIC(K,K) * sum HSIC(L,L)); nullopt when either self term is not
  // positive (a constant representation) or nothing was added.
  std::optional<double> value() const;

 private:
  double kl_ = 0, kk_ = 0, ll_ = 0;
  int64_t batches_ = 0;
};

}  // namespace cnnscope
