// Spectra (see spectra.h): a weight's slices stacked [slices, rows, cols] in float64, their
// singular values from batched LAPACK calls (Gram matrices' symmetric eigenvalues, the SVD for
// ill-conditioned slices: singular_values); the fit and the metrics in double. Spec: weightwatcher
// 0.7.7 as spectra.h names it; the traps' edge from random matrix theory (Marchenko-Pastur edge and
// Tracy-Widom scale of a Wishart matrix).
#include "stats/spectra.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

#include "common/error.h"
#include "common/parallel.h"
#include "common/text.h"

namespace cnnscope {
namespace {

constexpr double kEvalsThreshold = 1e-5;  // WeightWatcher's EVALS_THRESH: fitted values are above
constexpr double kWeakRankTolerance = 1e-6;
constexpr double kEntropyEpsilon = 1e-10;
constexpr double kOverTrained = 2.0, kUnderTrained = 6.0;
constexpr double kGramConditionLimit = 1e-7;  // below: SVD (see singular_values)
constexpr double kTracyWidomScales = 5.0;     // a trap rises this many TW scales above the edge

struct Shape {
  int64_t out = 0, in = 0, rf = 1;
  int64_t n = 0, m = 0;  // as WeightWatcher reports them
};

Shape shape_of(const at::Tensor& w) {
  Shape s;
  s.out = w.size(0);
  s.in = w.size(1);
  if (w.dim() == 2) {
    s.n = std::max(s.out, s.in);
    s.m = std::min(s.out, s.in);
    return s;
  }
  s.rf = w.size(2) * w.size(3);
  s.n = s.out;
  s.m = s.in;
  // WeightWatcher swaps N and M once per slice when out < in (its "flip" branch, out + in < kh +
  // kw, never does): swapped in the end when the slice count is odd
  if (s.out < s.in && s.out + s.in >= w.size(2) + w.size(3) && s.rf % 2 == 1) std::swap(s.n, s.m);
  return s;
}

constexpr std::string_view kWeight = ".weight";

std::string layer_name(const NamedTensor& weight) {  // "layer1.0.conv1.weight" -> "layer1.0.conv1"
  return weight.name.substr(0, weight.name.size() - kWeight.size());
}

// LibTorch's thread count set for a scope, restored however it ends.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : before_(at::get_num_threads()) {
    at::set_num_threads(threads);
  }
  ~ThreadCount() { at::set_num_threads(before_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int before_;
};

bool analysed(const NamedTensor& t) {
  if (!ends_with(t.name, kWeight)) return false;
  const at::Tensor& w = t.tensor;
  if ((w.dim() != 2 && w.dim() != 4) || !at::isFloatingType(w.scalar_type()) || w.numel() == 0)
    return false;
  const Shape s = shape_of(w);
  const int64_t evals = s.m * s.rf;  // WeightWatcher's count, with its M (see Shape)
  return evals >= kSpectraMinEvals && evals <= kSpectraMaxEvals && s.n <= kSpectraMaxN;
}

// The weight's matrices [slices, out, in] in float64: a Linear's one, a convolution's kh*kw
// slices (i outer, j inner) scaled by sqrt(1/2).
at::Tensor slices_of(const at::Tensor& w) {
  const at::Tensor w64 = w.to(at::kDouble);
  if (w.dim() == 2) return w64.unsqueeze(0);                      // [1, out, in]
  return w64.flatten(2).permute({2, 0, 1}) * std::sqrt(1 / 2.0);  // [kh*kw, out, in]
}

// The singular values of each slice, ascending: the square roots of the eigenvalues of the
// smaller Gram matrix (a symmetric eigensolver after one matrix product, about twice as fast as
// an SVD), unless a slice is so ill-conditioned (smallest / largest eigenvalue < 1e-7) that the
// Gram route would lose more than ~1e-8 of its smallest values' relative accuracy: then LAPACK's
// SVD, as numpy's.
at::Tensor singular_values(const at::Tensor& slices) {  // [slices, out, in] -> [slices, min]
  const at::Tensor tall = slices.size(1) >= slices.size(2) ? slices : slices.transpose(1, 2);
  at::Tensor evals = at::linalg_eigvalsh(at::bmm(tall.transpose(1, 2), tall));  // ascending
  const at::Tensor ill = evals.select(1, 0) <= evals.select(1, -1) * kGramConditionLimit;
  at::Tensor sv = evals.clamp_min(0).sqrt();
  if (ill.any().item<bool>()) {
    const at::Tensor which = ill.nonzero().flatten();  // [k]
    sv.index_copy_(0, which, at::linalg_svdvals(slices.index_select(0, which)).flip(1));
  }
  return sv;
}

// Per slice, the values not above max * n * eps (numpy.linalg.matrix_rank's tolerance).
int64_t rank_loss(const at::Tensor& sv, int64_t n) {  // sv [slices, k]
  const at::Tensor tol = std::get<0>(sv.max(1, true)) * static_cast<double>(n) *
                         std::numeric_limits<double>::epsilon();  // [slices, 1]
  return sv.numel() - (sv > tol).sum().item<int64_t>();
}

void norm_metrics(LayerSpectrum& s) {
  const std::vector<double>& ev = s.eigenvalues;
  s.lambda_max = ev.back();
  s.log_spectral_norm = std::log10(s.lambda_max);
  for (const double e : ev) s.norm += e;
  s.log_norm = std::log10(s.norm);
  s.stable_rank = s.norm / s.lambda_max;
  s.alpha_weighted = s.fit.alpha * std::log10(s.lambda_max);
  double alpha_norm = 0;
  for (const double e : ev) alpha_norm += std::pow(e, s.fit.alpha);
  s.log_alpha_norm = std::log10(alpha_norm);
  const double tol =
      std::sqrt(s.lambda_max) * static_cast<double>(s.n) * std::numeric_limits<double>::epsilon();
  double entropy = 0;
  for (const double e : ev) {
    s.matrix_rank += std::sqrt(e) > tol;
    s.weak_rank_loss += e < kWeakRankTolerance;
    const double p = e / s.norm + kEntropyEpsilon;
    entropy -= p * std::log(p);
  }
  s.entropy = entropy / std::log(static_cast<double>(s.matrix_rank) + kEntropyEpsilon);
}

// The shuffled slices' spectra against each slice's Marchenko-Pastur edge for iid entries of the
// slice's variance: lambda+ = var (sqrt(r) + sqrt(c))^2, Tracy-Widom scale var (sqrt(r) +
// sqrt(c)) (1/sqrt(r) + 1/sqrt(c))^(1/3) (Johnstone 2001).
void correlation_traps(LayerSpectrum& s, const at::Tensor& slices, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const int64_t count = slices.size(0), rows = slices.size(1), cols = slices.size(2);
  const at::Tensor flat = slices.reshape({count, rows * cols});  // [slices, r*c]
  const at::Tensor order =
      at::rand({count, rows * cols}, gen, at::kDouble).argsort(/*dim=*/int64_t{1});
  const at::Tensor shuffled = flat.gather(1, order).reshape({count, rows, cols});
  const at::Tensor sv = at::linalg_svdvals(shuffled);  // [slices, min(r, c)]
  const at::Tensor evals = sv * sv;
  const at::Tensor var = flat.var(1, /*unbiased=*/false);  // [slices]
  const double r = static_cast<double>(rows), c = static_cast<double>(cols);
  const double edge = std::pow(std::sqrt(r) + std::sqrt(c), 2);
  const double scale =
      (std::sqrt(r) + std::sqrt(c)) * std::cbrt(1 / std::sqrt(r) + 1 / std::sqrt(c));
  // at least 1e-12 of the slice's largest: a slice of equal entries (variance 0) has one
  // eigenvalue, the rest are round-off
  const at::Tensor threshold = at::maximum((var * (edge + kTracyWidomScales * scale)).unsqueeze(1),
                                           evals.amax(1, /*keepdim=*/true) * 1e-12);
  s.rand_lambda_max = evals.max().item<double>();
  s.mp_bulk_max = (var.max() * edge).item<double>();
  s.correlation_traps = (evals > threshold).sum().item<int64_t>();
}

}  // namespace

std::vector<const NamedTensor*> spectra_layers(const StateDict& sd,
                                               const std::vector<std::string>& layers) {
  std::vector<const NamedTensor*> out;
  for (const NamedTensor& t : sd.tensors) {
    if (!analysed(t)) continue;
    const std::string name = layer_name(t);
    const bool wanted =
        layers.empty() || std::any_of(layers.begin(), layers.end(), [&](const std::string& g) {
          return fnmatch(g.c_str(), name.c_str(), 0) == 0;
        });
    if (wanted) out.push_back(&t);
  }
  if (out.empty())
    fail(sd.file,
         layers.empty() ? "no Linear or Conv2d weight with 8 to 15000 eigenvalues"
                        : "no Linear or Conv2d layer matches " + join(layers, ","),
         "layers are the weights' keys without .weight; see 'cnnscope ls'");
  return out;
}

LayerSpectrum layer_spectrum(const NamedTensor& weight, const SpectraOptions& options) {
  at::NoGradGuard no_grad;
  LayerSpectrum s;
  s.name = layer_name(weight);
  s.type = weight.tensor.dim() == 2 ? "Linear" : "Conv2d";
  s.shape = weight.tensor.sizes().vec();
  const Shape shape = shape_of(weight.tensor);
  s.n = shape.n;
  s.m = shape.m;
  s.rf = shape.rf;
  const at::Tensor slices = slices_of(weight.tensor);  // [slices, out, in]
  const at::Tensor sv = singular_values(slices);       // [slices, min(out, in)]
  s.rank_loss = rank_loss(sv, s.n);
  const at::Tensor evals = std::get<0>((sv * sv).flatten().sort()).contiguous();
  s.eigenvalues.assign(evals.data_ptr<double>(), evals.data_ptr<double>() + evals.numel());
  std::vector<double> fitted;
  for (const double e : s.eigenvalues)
    if (e > kEvalsThreshold) fitted.push_back(e);
  s.fit = fit_power_law(fitted);
  s.num_pl_spikes = s.fit.ok ? std::count_if(s.eigenvalues.begin(), s.eigenvalues.end(),
                                             [&](double e) { return e >= s.fit.xmin; })
                             : -1;
  s.warning = s.fit.alpha < kOverTrained    ? "over-trained"
              : s.fit.alpha > kUnderTrained ? "under-trained"
                                            : "";
  norm_metrics(s);
  if (options.traps) correlation_traps(s, slices, options.seed);
  return s;
}

std::vector<LayerSpectrum> checkpoint_spectra(const StateDict& sd, const SpectraOptions& options) {
  const std::vector<const NamedTensor*> layers = spectra_layers(sd, options.layers);
  for (const NamedTensor* t : layers)
    if (!at::isfinite(t->tensor).all().item<bool>())
      fail(sd.file, t->name + " holds NaN or infinite values: it has no spectrum",
           "a training step diverged; take an earlier checkpoint");
  std::vector<LayerSpectrum> out(layers.size());
  // layers in parallel, each with single-threaded LAPACK: LAPACK's own threads scale poorly on
  // these sizes (measured: 1.8 s against 2.3 s for resnet18 on 2 cores)
  const ThreadCount single(1);
  for_each_parallel(layers.size(), [&](size_t i) {
    try {
      out[i] = layer_spectrum(*layers[i], options);
    } catch (const c10::Error& e) {  // LAPACK not converging, on finite values: name the layer
      fail(sd.file, layers[i]->name + ": no eigenvalues: " + e.what_without_backtrace());
    }
  });
  return out;
}

}  // namespace cnnscope
