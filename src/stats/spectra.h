// Spectral health of a checkpoint's layers from the weights alone, as WeightWatcher 0.7.7's
// `analyze()` computes it with its defaults: per Linear and Conv2d weight, the empirical spectral
// density (the eigenvalues of W'W: squared singular values; a convolution [out, in, kh, kw] as its
// kh*kw slices [out, in] pooled into one spectrum, each scaled by sqrt(1/2) as WeightWatcher's
// conv2d_norm does), a power law fitted to its tail (stats/powerlaw.h), and the norm metrics:
// alpha-weighted (alpha * log10 lambda_max), log spectral norm, log Frobenius norm, stable rank,
// log alpha-norm, matrix rank, entropy, spikes in the fitted tail, and the over-/under-trained
// warning. Optionally correlation traps: the spectrum of each slice with its entries shuffled
// (seeded), and how many of its eigenvalues rise above the Marchenko-Pastur bulk edge.
// Leaves out: WeightWatcher's Marchenko-Pastur fit by kernel density (mp_fit), Conv1d and
// embeddings, and its GPU half-precision path. Spec: weightwatcher 0.7.7 weightwatcher.py
// (analyze, combined_eigenvalues, apply_norm_metrics) and RMT_Util.py; Martin and Mahoney,
// "Implicit Self-Regularization in Deep Neural Networks", JMLR 2021 (the metrics, the warning
// thresholds 2 and 6, correlation traps); the `spectra` section of docs/DESIGN.md.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/state_dict.h"
#include "stats/powerlaw.h"

namespace cnnscope {

// WeightWatcher's bounds on what it analyses: M * rf eigenvalues within [8, 15000], N <= 50000.
constexpr int64_t kSpectraMinEvals = 8;
constexpr int64_t kSpectraMaxEvals = 15000;
constexpr int64_t kSpectraMaxN = 50000;

struct SpectraOptions {
  std::vector<std::string>
      layers;          // globs over layer names (the key without ".weight"); empty: all
  bool traps = false;  // also the shuffled spectra and their traps
  uint64_t seed = 0;   // the shuffles' seed
};

struct LayerSpectrum {
  std::string name;            // "layer1.0.conv1" (its key without ".weight")
  std::string type;            // "Linear" | "Conv2d" (by the weight's rank)
  std::vector<int64_t> shape;  // the weight's
  // As WeightWatcher reports them: N >= M for a Linear; for a Conv2d (out, in), swapped once per
  // slice when out < in (so an even number of slices leaves N < M, its quirk).
  int64_t n = 0, m = 0;
  int64_t rf = 1;                   // kh * kw; 1 for a Linear
  std::vector<double> eigenvalues;  // ascending, M * rf of them, zeros included
  PowerLawFit fit;                  // on the eigenvalues > 1e-5
  double lambda_max = 0;            // = spectral_norm
  double log_spectral_norm = 0;     // log10 lambda_max
  double norm = 0;                  // sum of eigenvalues (squared Frobenius norm, scaled)
  double log_norm = 0;              // log10 norm
  double stable_rank = 0;           // norm / lambda_max
  double alpha_weighted = 0;        // alpha * log10 lambda_max
  double log_alpha_norm = 0;        // log10 sum eigenvalue^alpha
  double entropy = 0;               // of the normalized spectrum, over ln(matrix rank)
  int64_t matrix_rank = 0;          // singular values > max * N * eps
  int64_t rank_loss = 0;            // per slice: values not above that tolerance, summed
  int64_t weak_rank_loss = 0;       // eigenvalues < 1e-6
  int64_t num_pl_spikes = 0;        // eigenvalues >= xmin (-1 when the fit failed)
  std::string warning;              // "over-trained" (alpha < 2) | "under-trained" (> 6) | ""
  // traps only: the shuffled spectrum's largest eigenvalue, the Marchenko-Pastur bulk edge of a
  // random matrix with these entries, and the shuffled eigenvalues above it (+ Tracy-Widom).
  std::optional<double> rand_lambda_max, mp_bulk_max;
  std::optional<int64_t> correlation_traps;
};

// The layers of a checkpoint that WeightWatcher analyses: every "*.weight" of rank 2 or 4 within
// the bounds above, in file order, matched against `layers` globs when given. Throws Error naming
// the file when the globs match no such layer.
std::vector<const NamedTensor*> spectra_layers(const StateDict& sd,
                                               const std::vector<std::string>& layers);

// One layer's spectrum and metrics.
LayerSpectrum layer_spectrum(const NamedTensor& weight, const SpectraOptions& options);

// Every chosen layer, in parallel (common/parallel.h), in file order.
std::vector<LayerSpectrum> checkpoint_spectra(const StateDict& sd, const SpectraOptions& options);

}  // namespace cnnscope
