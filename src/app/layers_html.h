// The report's "Layers" section: spectral health of the checkpoint's layers (a table of
// WeightWatcher's metrics and a bar chart of alpha per layer) and, from a `similarity` output,
// the CKA heat map; from an `evolve` output, alpha and CKA to the last checkpoint per layer over
// the series. HTML fragments, escaped, figures embedded as base64 PNG.
// Leaves out: computing either (app/spectra.h, app/similarity.h) and the page (export/).
// Spec: the `report` section of docs/DESIGN.md (--spectra, --similarity).
#pragma once

#include <string>
#include <vector>

#include "app/evolve.h"
#include "app/similarity.h"
#include "app/spectra.h"

namespace cnnscope::app {

std::string spectra_report_html(const std::vector<LayerSpectrum>& layers,
                                const SpectraSummary& summary);

// `dir` is the folder the result was read from, named in the text.
std::string similarity_report_html(const SimilarityResult& result, const std::string& dir);

std::string series_report_html(const EvolveLayers& series, const std::string& dir);

}  // namespace cnnscope::app
