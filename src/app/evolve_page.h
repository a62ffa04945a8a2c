// The `evolve` page: one self-contained HTML document (export/html_report.h's look and CSP) with
// the series, its mismatches, the drift and layer curves, the first conv's filters per step and
// their animation, and the tensor table with each tensor's histogram heat map. Leaves out: making
// the figures (evolve_outputs.cpp). Follows HTML5 (WHATWG).
#pragma once

#include <string>
#include <vector>

#include "app/evolve.h"
#include "export/html_report.h"

namespace cnnscope::app {

// `figures`: titled "drift..." (the Drift section), "layers..." (How the layers settled), the
// rest (per tensor, after the table). `animation` may be empty.
std::string evolve_page(const EvolveOptions& options, const EvolveResult& result,
                        const std::vector<ReportFigure>& figures,
                        const std::vector<ReportFigure>& frames, const ReportFigure& animation);

}  // namespace cnnscope::app
