// A power law fitted to the tail of a sample the way WeightWatcher 0.7.7 fits eigenvalue spectra
// (its own `WWFit`, a port of the `powerlaw` package's continuous fit): every sample value but
// the largest is a candidate xmin; for each, the maximum-likelihood exponent of the tail x >= xmin
// and the Kolmogorov-Smirnov distance between the tail's empirical CDF and the fitted one; the
// candidate with the smallest distance wins (the first on a tie). Samples of fewer than 20 values
// use WeightWatcher's small-sample variant (tails of 8 or more, bias-corrected exponent).
// Leaves out: truncated (xmax) and other distributions (lognormal, exponential), comparisons.
// Spec: weightwatcher 0.7.7 WW_powerlaw.py (WWFit.fit_power_law_standard, fit_powerlaw_smallN and
// the argmin in WWFit.__init__); Clauset, Shalizi, Newman, "Power-law distributions in empirical
// data", SIAM Review 2009 (the estimator alpha = 1 + n / sum ln(x / xmin)).
#pragma once

#include <cstdint>
#include <vector>

namespace cnnscope {

struct PowerLawFit {
  bool ok = false;    // false: fewer than 2 values (nothing fitted; the numbers below are -1)
  double alpha = -1;  // exponent of p(x) ~ x^-alpha for x >= xmin
  double xmin = -1;
  double xmax = -1;   // the largest value (no truncation: reported, not fitted)
  double D = -1;      // KS distance max_j |F_fit(x_j) - j/n| over the tail (WeightWatcher's form)
  double sigma = -1;  // standard error (alpha - 1) / sqrt(n)
  int64_t tail = 0;   // values >= xmin
};

// `sorted` ascending, every value > 0 (WeightWatcher drops eigenvalues <= 1e-5 first).
PowerLawFit fit_power_law(const std::vector<double>& sorted);

}  // namespace cnnscope
