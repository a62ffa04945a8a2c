// spectra_json (see spectra.h): the document `spectra --json` prints and spectra.json holds.
// Spec: the `spectra` section of docs/DESIGN.md.
#include <algorithm>

#include "app/spectra.h"

namespace cnnscope::app {
namespace {

using Json = nlohmann::ordered_json;

template <typename T>
Json optional_json(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json layer_json(const LayerSpectrum& l, bool eigenvalues) {
  const auto fitted = [&](double v) { return l.fit.ok ? Json(v) : Json(nullptr); };
  Json j;
  j["name"] = l.name;
  j["type"] = l.type;
  j["shape"] = l.shape;
  j["N"] = l.n;
  j["M"] = l.m;
  j["rf"] = l.rf;
  j["num_evals"] = l.eigenvalues.size();
  j["alpha"] = fitted(l.fit.alpha);
  j["alpha_weighted"] = fitted(l.alpha_weighted);
  j["D"] = fitted(l.fit.D);
  j["xmin"] = fitted(l.fit.xmin);
  j["xmax"] = fitted(l.fit.xmax);
  j["sigma"] = fitted(l.fit.sigma);
  j["num_pl_spikes"] = l.fit.ok ? Json(l.num_pl_spikes) : Json(nullptr);
  j["lambda_max"] = l.lambda_max;
  j["log_spectral_norm"] = l.log_spectral_norm;
  j["norm"] = l.norm;
  j["log_norm"] = l.log_norm;
  j["stable_rank"] = l.stable_rank;
  j["log_alpha_norm"] = fitted(l.log_alpha_norm);
  j["entropy"] = l.entropy;
  j["matrix_rank"] = l.matrix_rank;
  j["rank_loss"] = l.rank_loss;
  j["weak_rank_loss"] = l.weak_rank_loss;
  j["warning"] = l.warning;
  j["rand_lambda_max"] = optional_json(l.rand_lambda_max);
  j["mp_bulk_max"] = optional_json(l.mp_bulk_max);
  j["correlation_traps"] = optional_json(l.correlation_traps);
  if (eigenvalues) j["eigenvalues"] = l.eigenvalues;
  return j;
}

}  // namespace

nlohmann::ordered_json spectra_json(const SpectraResult& r, bool eigenvalues) {
  Json j;
  j["format"] = "cnnscope-spectra";
  j["version"] = 1;
  j["checkpoint"] = r.checkpoint;
  const SpectraSummary& s = r.summary;
  const bool fitted = std::any_of(r.layers.begin(), r.layers.end(),
                                  [](const LayerSpectrum& l) { return l.fit.ok; });
  const auto mean = [&](double v) { return fitted ? Json(v) : Json(nullptr); };
  j["summary"] = {{"layers", r.layers.size()},
                  {"alpha", mean(s.alpha)},
                  {"alpha_weighted", mean(s.alpha_weighted)},
                  {"log_norm", s.log_norm},
                  {"log_alpha_norm", mean(s.log_alpha_norm)},
                  {"log_spectral_norm", s.log_spectral_norm},
                  {"stable_rank", s.stable_rank},
                  {"over_trained", s.over_trained},
                  {"under_trained", s.under_trained}};
  Json layers = Json::array();
  for (const LayerSpectrum& l : r.layers) layers.push_back(layer_json(l, eigenvalues));
  j["layers"] = layers;
  j["figures"] = r.figures;
  return j;
}

}  // namespace cnnscope::app
