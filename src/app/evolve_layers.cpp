// evolve_layers_json, alpha_curves, similarity_curves (see evolve.h): the per-layer series of
// `evolve --spectra` and `evolve --similarity` as JSON and as chart series. Spec: the `evolve`
// section of docs/DESIGN.md.
#include <cmath>

#include "app/evolve.h"

namespace cnnscope::app {
namespace {

using Json = nlohmann::ordered_json;

Json grid(const std::vector<std::vector<std::optional<double>>>& rows) {
  Json out = Json::array();
  for (const auto& row : rows) {
    Json line = Json::array();
    for (const std::optional<double>& v : row) line.push_back(v ? Json(*v) : Json(nullptr));
    out.push_back(line);
  }
  return out;
}

std::vector<cnnscope::Series> curves(const std::vector<std::string>& layers,
                                     const std::vector<std::vector<std::optional<double>>>& rows) {
  std::vector<cnnscope::Series> out;
  for (size_t l = 0; l < layers.size(); ++l) {
    cnnscope::Series s{layers[l], {}};
    for (const auto& row : rows) s.y.push_back(l < row.size() && row[l] ? *row[l] : NAN);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

nlohmann::ordered_json evolve_layers_json(const EvolveResult& r, const EvolveOptions& o) {
  Json j;
  j["spectra"] = r.spectra ? Json{{"layers", r.spectra->layers}, {"alpha", grid(r.spectra->alpha)}}
                           : Json(nullptr);
  if (r.similarity && o.similarity) {
    j["similarity"] = {{"layers", r.similarity->layers},
                       {"images", r.similarity->used},
                       {"preset", r.similarity->preset},
                       {"kernel", cka_kernel_name(o.similarity->cka.kernel)},
                       {"unbiased", o.similarity->cka.unbiased},
                       {"cka", grid(r.similarity->values)}};
  } else {
    j["similarity"] = nullptr;
  }
  return j;
}

std::vector<cnnscope::Series> alpha_curves(const SeriesSpectra& spectra) {
  return curves(spectra.layers, spectra.alpha);
}

std::vector<cnnscope::Series> similarity_curves(const SeriesSimilarity& similarity) {
  return curves(similarity.layers, similarity.values);
}

}  // namespace cnnscope::app
