// CKA: the HSIC estimators against their matrix formulas written out (tr(KHLH)/(n-1)^2; Song et
// al.'s unbiased form term by term), and the properties a wrong implementation fails: CKA of a
// representation with itself is 1, linear CKA is invariant to orthogonal transforms and
// isotropic scaling, RBF CKA to orthogonal transforms, and a minibatch split of one minibatch
// equals that minibatch. The numpy reference of whole networks is tests/cli/test_similarity.py.
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "stats/cka.h"

namespace cnnscope {
namespace {

at::Tensor random_features(int64_t n, int64_t d, uint64_t seed) {
  at::manual_seed(seed);
  return at::randn({n, d}, at::kDouble);
}

double cka(const at::Tensor& x, const at::Tensor& y, const CkaOptions& o) {
  CkaPair pair;
  pair.add(cka_gram(x, o), cka_gram(y, o));
  return pair.value().value();
}

TEST(Cka, BiasedHsicIsTheTraceFormula) {
  const at::Tensor x = random_features(7, 5, 1), y = random_features(7, 3, 2);
  const at::Tensor h = at::eye(7, at::kDouble) - 1.0 / 7;  // [n, n]
  const at::Tensor k = at::mm(x, x.t()), l = at::mm(y, y.t());
  const double expected = at::trace(k.mm(h).mm(l).mm(h)).item<double>() / 36.0;
  EXPECT_NEAR(hsic(cka_gram(x, {}), cka_gram(y, {})), expected, 1e-9 * std::abs(expected));
}

TEST(Cka, UnbiasedHsicIsSongEtAlTermByTerm) {
  const int64_t n = 9;
  const at::Tensor x = random_features(n, 4, 3), y = random_features(n, 6, 4);
  at::Tensor k = at::mm(x, x.t()), l = at::mm(y, y.t());
  k.fill_diagonal_(0);
  l.fill_diagonal_(0);
  const at::Tensor one = at::ones({n, 1}, at::kDouble);
  const double nn = static_cast<double>(n);
  const double expected = (at::trace(k.mm(l)).item<double>() +
                           one.t().mm(k).mm(one).item<double>() *
                               one.t().mm(l).mm(one).item<double>() / ((nn - 1) * (nn - 2)) -
                           2.0 / (nn - 2) * one.t().mm(k).mm(l).mm(one).item<double>()) /
                          (nn * (nn - 3));
  CkaOptions o;
  o.unbiased = true;
  EXPECT_NEAR(hsic(cka_gram(x, o), cka_gram(y, o)), expected, 1e-9 * std::abs(expected));
}

class CkaProperties : public testing::TestWithParam<std::tuple<CkaKernel, bool>> {};

TEST_P(CkaProperties, SelfIsOneAndInvariances) {
  CkaOptions o;
  o.kernel = std::get<0>(GetParam());
  o.unbiased = std::get<1>(GetParam());
  const at::Tensor x = random_features(24, 10, 5), y = random_features(24, 8, 6);
  EXPECT_NEAR(cka(x, x, o), 1.0, 1e-12);
  const at::Tensor q = std::get<0>(at::linalg_qr(random_features(10, 10, 7)));  // orthogonal
  const double base = cka(x, y, o);
  EXPECT_LT(std::abs(base), 0.9);  // unrelated random features are far from identical
  EXPECT_NEAR(cka(x.mm(q), y, o), base, 1e-10);
  EXPECT_NEAR(cka(x * 3.5, y, o), base, 1e-10);  // RBF: the median bandwidth scales along
  // a representation that is a function of x is closer to x than an unrelated one
  EXPECT_GT(cka(x, x.mm(q) * 2 + 0.01 * y.narrow(1, 0, 1), o), base);
}

INSTANTIATE_TEST_SUITE_P(Kernels, CkaProperties,
                         testing::Combine(testing::Values(CkaKernel::kLinear, CkaKernel::kRbf),
                                          testing::Bool()));

TEST(Cka, MinibatchesSumTheirTerms) {
  const at::Tensor x = random_features(16, 5, 8), y = random_features(16, 5, 9);
  CkaPair pair;
  double kl = 0, kk = 0, ll = 0;
  for (int64_t b = 0; b < 16; b += 8) {
    const CkaGram gx = cka_gram(x.narrow(0, b, 8), {}), gy = cka_gram(y.narrow(0, b, 8), {});
    pair.add(gx, gy);
    kl += hsic(gx, gy);
    kk += hsic(gx, gx);
    ll += hsic(gy, gy);
  }
  EXPECT_NEAR(pair.value().value(), kl / std::sqrt(kk * ll), 1e-12);
}

TEST(Cka, ConstantRepresentationIsUndefined) {
  CkaPair pair;
  pair.add(cka_gram(at::ones({6, 3}, at::kDouble), {}), cka_gram(random_features(6, 3, 1), {}));
  EXPECT_FALSE(pair.value().has_value());
  EXPECT_FALSE(CkaPair().value().has_value());
}

TEST(Cka, RefusesTooSmallMinibatchesAndUnknownKernels) {
  CkaOptions o;
  o.unbiased = true;
  EXPECT_THROW(cka_gram(random_features(3, 2, 1), o), Error);
  EXPECT_NO_THROW(cka_gram(random_features(3, 2, 1), {}));
  EXPECT_THROW(parse_cka_kernel("cosine"), Error);
  EXPECT_EQ(parse_cka_kernel("rbf"), CkaKernel::kRbf);
}

}  // namespace
}  // namespace cnnscope
