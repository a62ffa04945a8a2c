// The `spectra` job: per Linear and Conv2d layer of a checkpoint, its empirical spectral density
// and WeightWatcher's metrics (stats/spectra.h), a summary (the means WeightWatcher's
// get_summary() gives), and on request one ESD figure per layer (a histogram of log10 eigenvalues
// with the fitted power law over its tail and xmin marked) and spectra.json. Also the series form
// `evolve --spectra` uses. Leaves out: printing (cli/spectra.cpp), the JSON document
// (spectra_json.cpp). Spec: the `spectra` section of docs/DESIGN.md.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stats/spectra.h"

namespace cnnscope::app {

struct SpectraJobOptions {
  std::string checkpoint;
  SpectraOptions spectra;
  std::string out;  // "" = no files; else spectra.json and esd/<layer>.<format>
  std::string format = "png";
};

// The means over the layers (WeightWatcher's get_summary()), failed fits left out of alpha's.
struct SpectraSummary {
  double log_norm = 0, alpha = 0, alpha_weighted = 0, log_alpha_norm = 0, log_spectral_norm = 0,
         stable_rank = 0;
  int64_t over_trained = 0, under_trained = 0;
};

struct SpectraResult {
  std::string checkpoint;
  std::vector<LayerSpectrum> layers;
  SpectraSummary summary;
  std::vector<std::string> figures;  // as written
  std::string json;                  // spectra.json as written, or ""
};

// Throws Error naming the file on an unreadable checkpoint or one with no layer to analyse.
SpectraResult run_spectra(const SpectraJobOptions& options);

SpectraSummary summarize_spectra(const std::vector<LayerSpectrum>& layers);

// One layer's ESD figure: log10 eigenvalue histogram, the power law's expected counts over the
// tail, xmin marked.
std::string esd_figure(const LayerSpectrum& layer, const std::string& format);

// spectra.json:
// {"format":"cnnscope-spectra","version":1,"checkpoint","summary":{...},"layers":[{"name","type","shape","N","M","rf",
// "num_evals","alpha","alpha_weighted","D","xmin","xmax","sigma","lambda_max",
// "log_spectral_norm","norm","log_norm","stable_rank","log_alpha_norm","entropy","matrix_rank",
// "rank_loss","weak_rank_loss","num_pl_spikes","warning","rand_lambda_max","mp_bulk_max",
// "correlation_traps","eigenvalues"?}],"figures"}: eigenvalues only when `eigenvalues`; a failed
// fit's numbers null (the summary's means too when no layer has a fit).
nlohmann::ordered_json spectra_json(const SpectraResult& result, bool eigenvalues);

// alpha per layer for each checkpoint of a series (`evolve --spectra`): the layers of the first
// checkpoint that has any; nullopt where a checkpoint lacks the layer or its fit failed. Returns
// why a checkpoint has no spectra at all (no such layer, NaN weights), or "".
struct SeriesSpectra {
  std::vector<std::string> layers;
  std::vector<std::vector<std::optional<double>>> alpha;  // [checkpoint][layer]
};
std::string add_series_spectra(SeriesSpectra& series, const StateDict& sd,
                               const SpectraOptions& options);

}  // namespace cnnscope::app
