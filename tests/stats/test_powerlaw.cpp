// The power-law fit: exact Pareto quantiles give back their exponent and xmin; a Pareto tail above
// a uniform bulk is found where it starts; small samples take the bias-corrected fit; fewer than
// two values fit nothing. Parity with WeightWatcher itself: tests/cli/test_spectra.py.
#include <gtest/gtest.h>

#include <cmath>

#include "stats/powerlaw.h"

namespace cnnscope {
namespace {

// n quantiles of a Pareto law p(x) ~ x^-alpha on [xmin, inf), ascending.
std::vector<double> pareto(size_t n, double alpha, double xmin) {
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) {
    const double u = (static_cast<double>(i) + 0.5) / static_cast<double>(n);
    x[i] = xmin * std::pow(1.0 - u, -1.0 / (alpha - 1.0));
  }
  return x;
}

TEST(PowerLaw, ParetoQuantilesGiveTheirExponent) {
  for (const double alpha : {1.8, 2.5, 4.0}) {
    const PowerLawFit fit = fit_power_law(pareto(4000, alpha, 2.0));
    ASSERT_TRUE(fit.ok);
    EXPECT_NEAR(fit.alpha, alpha, 0.03 * alpha) << alpha;
    EXPECT_NEAR(fit.xmin, 2.0, 0.1);
    EXPECT_LT(fit.D, 0.02);
    EXPECT_NEAR(fit.sigma, (fit.alpha - 1) / std::sqrt(static_cast<double>(fit.tail)), 1e-12);
    EXPECT_DOUBLE_EQ(fit.xmax, pareto(4000, alpha, 2.0).back());
  }
}

TEST(PowerLaw, FindsWhereTheTailStarts) {
  std::vector<double> x;
  for (int i = 0; i < 2000; ++i) x.push_back(0.1 + 0.9 * (i + 0.5) / 2000.0);  // bulk in (0.1, 1)
  for (const double v : pareto(1000, 3.0, 1.0)) x.push_back(v);                // tail from 1
  const PowerLawFit fit = fit_power_law(x);
  EXPECT_NEAR(fit.xmin, 1.0, 0.05);
  EXPECT_NEAR(fit.alpha, 3.0, 0.15);
  EXPECT_NEAR(static_cast<double>(fit.tail), 1000.0, 60.0);
}

TEST(PowerLaw, SmallSamplesUseTheBiasCorrectedExponent) {
  const std::vector<double> x = pareto(12, 3.0, 1.0);  // < 20 values: tails of 8 or more
  const PowerLawFit fit = fit_power_law(x);
  ASSERT_TRUE(fit.ok);
  EXPECT_GE(fit.tail, 8);
  double s = 0;
  for (size_t j = x.size() - static_cast<size_t>(fit.tail); j < x.size(); ++j)
    s += std::log(x[j] / fit.xmin);
  EXPECT_NEAR(fit.alpha, 1.0 + (static_cast<double>(fit.tail) - 1.0) / s, 1e-12);
}

TEST(PowerLaw, FewerThanTwoValuesFitNothing) {
  EXPECT_FALSE(fit_power_law({}).ok);
  EXPECT_FALSE(fit_power_law({3.0}).ok);
  EXPECT_EQ(fit_power_law({3.0}).alpha, -1);
}

}  // namespace
}  // namespace cnnscope
