// evolve_layers_json, read_evolve_layers_json, alpha_curves, similarity_curves (see evolve.h):
// the per-layer series of `evolve --spectra` and `evolve --similarity` as JSON, read back, and as
// chart series. Spec: the `evolve` section of docs/DESIGN.md.
#include <cmath>

#include "app/evolve.h"
#include "app/job_document.h"
#include "common/error.h"

namespace cnnscope::app {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kFormat = "cnnscope-evolve-layers";
constexpr int kVersion = 1;
constexpr size_t kMaxRows = 100000;                   // checkpoints or layers
constexpr uintmax_t kMaxBytes = uintmax_t{32} << 20;  // 10,000 checkpoints x 100 layers

std::vector<std::string> read_layers(const nlohmann::json& j, const std::string& path) {
  std::vector<std::string> layers = j.at("layers").get<std::vector<std::string>>();
  if (layers.empty() || layers.size() > kMaxRows) fail(path, "a series needs 1 to 100000 layers");
  return layers;
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
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["checkpoints"] = r.checkpoints;
  j["steps"] = r.steps;
  // no layer in any checkpoint (none has a Linear/Conv2d, or all diverged): nothing to show
  j["spectra"] =
      r.spectra && !r.spectra->layers.empty()
          ? Json{{"layers", r.spectra->layers}, {"alpha", optional_grid_json(r.spectra->alpha)}}
          : Json(nullptr);
  if (r.similarity && o.similarity) {
    j["similarity"] = {{"layers", r.similarity->layers},
                       {"images", r.similarity->used},
                       {"preset", r.similarity->preset},
                       {"kernel", cka_kernel_name(o.similarity->cka.kernel)},
                       {"unbiased", o.similarity->cka.unbiased},
                       {"cka", optional_grid_json(r.similarity->values)}};
  } else {
    j["similarity"] = nullptr;
  }
  return j;
}

EvolveLayers read_evolve_layers_json(const std::string& path) {
  const nlohmann::json doc = read_job_document(
      path,
      {kFormat, kVersion, "layers.json", "give the output folder of an evolve run", kMaxBytes});
  try {
    EvolveLayers e;
    e.checkpoints = doc.at("checkpoints").get<std::vector<std::string>>();
    e.steps = doc.at("steps").get<std::vector<int64_t>>();
    if (e.checkpoints.empty() || e.checkpoints.size() > kMaxRows ||
        e.steps.size() != e.checkpoints.size())
      fail(path, "a series needs 1 to 100000 checkpoints, each with a step");
    if (const nlohmann::json& s = doc.at("spectra"); !s.is_null()) {
      SeriesSpectra spectra;
      spectra.layers = read_layers(s, path);
      spectra.alpha = read_optional_grid(s.at("alpha"), e.checkpoints.size(), spectra.layers.size(),
                                         path, "alpha (checkpoints x layers)");
      e.spectra = std::move(spectra);
    }
    if (const nlohmann::json& s = doc.at("similarity"); !s.is_null()) {
      SeriesSimilarity similarity;
      similarity.layers = read_layers(s, path);
      similarity.used = count_field(s.at("images"), path);
      similarity.values =
          read_optional_grid(s.at("cka"), e.checkpoints.size(), similarity.layers.size(), path,
                             "cka (checkpoints x layers)");
      e.similarity = std::move(similarity);
    }
    return e;
  } catch (const nlohmann::json::exception& ex) {
    fail(path, std::string("malformed layers.json: ") + ex.what());
  }
}

std::vector<cnnscope::Series> alpha_curves(const SeriesSpectra& spectra) {
  return curves(spectra.layers, spectra.alpha);
}

std::vector<cnnscope::Series> similarity_curves(const SeriesSimilarity& similarity) {
  return curves(similarity.layers, similarity.values);
}

}  // namespace cnnscope::app
